"""Starts the desktop app: QApplication, icon, main window."""

from __future__ import annotations

import logging
import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..demo import resources_dir
from .main_window import MainWindow


def app_icon() -> QIcon:
    try:
        return QIcon(str(resources_dir() / "icons" / "medsearch.svg"))
    except FileNotFoundError:
        return QIcon()


def run_app(argv: list[str]) -> int:
    """Open the main window and run the event loop until it closes."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("pypdf", "llama_cpp"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    app.setApplicationName("MedSearch")
    app.setOrganizationName("MedSearch")
    app.setWindowIcon(app_icon())
    win = MainWindow()
    win.show()
    rc = app.exec()
    win.shutdown()
    return int(rc)


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
