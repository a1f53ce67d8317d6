"""Entry point of the frozen app (PyInstaller): the medsearch command."""

import multiprocessing
import sys

from medsearch_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # PDF extraction and quantization use spawned children
    sys.exit(main())
