"""Fixtures for the desktop UI tests: one real main window per module (real default models).
Helpers (generated documents, waiting, event recording) live in ui_support.py.

The window is shared for its cost (it installs and indexes the demo library and loads the
models); the tests that use it run in any order: each adds its own documents and asks its own
questions, puts back the settings it changes, and what the first run showed is recorded once
(`UiSession.first_run`) for the test that checks it.

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

    Returned once the first-run indexing has ended (what it showed is in `first_run`, recorded
    before any test can change it). The window is shut down at module teardown.
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
            session = UiSession(win, home, events, values)
            session.wait_ready()
            yield session
        finally:
            shutdown_window(win)


@pytest.fixture
def ready_ui(ui: UiSession) -> UiSession:
    """The module's window, its library ready (the same as `ui`; kept for the tests' names)."""
    ui.wait_ready()
    return ui
