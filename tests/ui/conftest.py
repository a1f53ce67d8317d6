"""Fixtures for the desktop UI tests: one real main window per module (real default models).
Helpers (generated documents, waiting, event recording) live in ui_support.py.

QT_QPA_PLATFORM is set to offscreen here, before anything creates a QApplication.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import Any

import pytest
from ui_support import ModelEvents, UiSession


def shutdown_window(win: Any) -> None:
    from PySide6.QtWidgets import QApplication

    win.shutdown()
    win.close()
    win.deleteLater()
    QApplication.processEvents()


@pytest.fixture(scope="module")
def ui(qapp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiSession]:
    """One real MainWindow on a fresh MEDSEARCH_HOME (first run: installs and indexes the demo).

    Returned as soon as the window is constructed; tests that need the library ready call
    `ui.wait_ready()` (or use `ready_ui`). The window is shut down at module teardown.
    """
    home = tmp_path_factory.mktemp("ui-home").resolve()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDSEARCH_HOME", str(home))
        from medsearch_app.ui.main_window import MainWindow

        win = MainWindow()
        events = ModelEvents()
        win.jobs.yielded.connect(events)
        values: list[tuple[int, int]] = []
        bar = win.library_panel.progress
        bar.valueChanged.connect(lambda v: values.append((v, bar.maximum())))
        win.show()
        try:
            yield UiSession(win, home, events, values)
        finally:
            shutdown_window(win)


@pytest.fixture
def ready_ui(ui: UiSession) -> UiSession:
    ui.wait_ready()
    return ui
