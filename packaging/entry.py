"""Entry point of the frozen app (PyInstaller): the medsearch command."""

# medsearch_app first: its __init__ turns network look-ups and onnxruntime's telemetry off
# (core/system/offline.py) before anything can load a model library.
import medsearch_app  # noqa: F401  isort: skip

import multiprocessing
import sys

from medsearch_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # PDF extraction and quantization use spawned children
    sys.exit(main())
