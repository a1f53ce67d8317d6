"""The window check of `medsearch selftest`: the main window opens (offscreen when there is no
screen) on a throwaway data folder, shows its pages, and closes; the user's library is never
opened."""

from __future__ import annotations

import os
import tempfile
import time


def check_window() -> str:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(["medsearch-selftest"])
    before = os.environ.get("MEDSEARCH_HOME")
    with tempfile.TemporaryDirectory(prefix="medsearch-selftest-ui-") as tmp:
        os.environ["MEDSEARCH_HOME"] = tmp
        try:
            win = MainWindow(install_demo=False)
            try:
                win.show()
                end = time.monotonic() + 2.0
                while time.monotonic() < end and not win.isVisible():
                    app.processEvents()
                app.processEvents()
                if not win.isVisible():
                    raise RuntimeError("the main window did not show")
                shot = win.grab()
                if shot.isNull() or shot.width() < 200:
                    raise RuntimeError("the main window drew nothing")
                size = f"{shot.width()}x{shot.height()}"
            finally:
                win.close()
                win.shutdown()
                app.processEvents()
        finally:
            if before is None:
                os.environ.pop("MEDSEARCH_HOME", None)
            else:
                os.environ["MEDSEARCH_HOME"] = before
    return f"main window {size} opened and closed ({QGuiApplication.platformName()})"
