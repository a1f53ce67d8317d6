"""Starts the desktop app: QApplication, icon, main window."""

from __future__ import annotations

import logging
import sys
import time

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..demo import resources_dir
from .main_window import MainWindow


def app_icon() -> QIcon:
    try:
        return QIcon(str(resources_dir() / "icons" / "medsearch.svg"))
    except FileNotFoundError:
        return QIcon()


def run_app(argv: list[str], *, quit_after: float | None = None) -> int:
    """Open the main window and run the event loop until it closes. With `quit_after` (seconds)
    the window closes itself after that long, as a user would close it, and the time from the
    process's start to the shown window is printed (install checks, start-up measurement)."""
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
    if quit_after is not None:
        import psutil
        from PySide6.QtCore import QTimer

        def shown() -> None:
            started = psutil.Process().create_time()
            print(f"window shown {time.time() - started:.1f} s after the process started "
                  f"({app.platformName()}); closing in {quit_after:g} s", file=sys.stderr,
                  flush=True)

        QTimer.singleShot(0, shown)
        QTimer.singleShot(int(quit_after * 1000), win.close)
    rc = app.exec()
    win.shutdown()
    return int(rc)


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
