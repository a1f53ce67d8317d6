"""Switch every model library to offline mode before any of them is imported."""

from __future__ import annotations

import os


def enforce_offline() -> None:
    """Nothing in MedSearch may open a network connection: hub look-ups are disabled."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[var] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


enforce_offline()
