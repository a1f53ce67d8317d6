"""Model packs: folders of GGUF files IT installs for every user (packaging/README.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Folders of model packs IT provides for every user, separated like PATH (see pack_folders).
MODELS_PATH_ENV = "MEDSEARCH_MODELS_PATH"


def pack_folders() -> list[Path]:
    """Model packs IT installs for every user: the `models` folder of the installed app (beside
    the frozen executable; packaging/README.md) and the folders named in MEDSEARCH_MODELS_PATH."""
    out = []
    if getattr(sys, "frozen", False):
        out.append(Path(sys.executable).resolve().parent / "models")
    out += [Path(p).expanduser() for p in os.environ.get(MODELS_PATH_ENV, "").split(os.pathsep)
            if p.strip()]
    return [p for p in out if p.is_dir()]
