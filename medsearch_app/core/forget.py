"""Delete all my data: everything MedSearch keeps about the user's documents and questions.

Removed from the data folder: the library database (document paths, the text of every passage,
page failures) with its journal files, every vector index, the demo library, comparison runs
and reports (they hold questions and answers), evaluation corpora and the settings. Kept: the
`models` folder (GGUF files IT installed and levels built from them: no patient data), unless
`models=True`. The answer history lives only in the open window's memory, and MedSearch writes
no log files (logs go to the terminal), so nothing else holds the user's text.

Run it with the library closed (the window quit, no `medsearch index` running).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

KEEP = {"models"}


@dataclass(frozen=True)
class Removed:
    name: str
    files: int
    bytes: int


def _size(path: Path) -> tuple[int, int]:
    if path.is_symlink() or path.is_file():
        return 1, path.lstat().st_size
    files = total = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            files += 1
            try:
                total += Path(root, n).lstat().st_size
            except OSError:
                pass
    return files, total


def delete_user_data(home: Path, *, models: bool = False) -> list[Removed]:
    """Remove the user's data from `home`; returns what was removed (largest first)."""
    removed: list[Removed] = []
    if not home.is_dir():
        return removed
    for entry in sorted(home.iterdir()):
        if entry.name in KEEP and not models:
            continue
        files, size = _size(entry)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed.append(Removed(entry.name, files, size))
    return sorted(removed, key=lambda r: -r.bytes)
