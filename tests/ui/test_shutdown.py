"""Closing the window while background work runs: it must stop the worker threads promptly.

Regression tests: GeneratorWorker's thread used to be told to quit through the GUI thread's
event loop, so MainWindow.shutdown() (which waits on the GUI thread) hung for 60 s and the
process then aborted ("QThread: Destroyed while thread is still running"). Closing while the
library was still opening did not wait for the startup worker at all (same abort).

Each test opens its own window on a fresh MEDSEARCH_HOME.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from ui_support import STARTUP_TIMEOUT_S

from medsearch_app.ui.jobs import JobKind

pytestmark = pytest.mark.gui

# A window whose threads are still running is kept referenced here: letting Python delete it
# would abort the whole test process instead of failing one test.
_leaked: list[Any] = []


def _threads_stopped(win: Any) -> bool:
    return not win.jobs.threads_running()


def _open(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("MEDSEARCH_HOME", str(tmp_path / "home"))
    from medsearch_app.ui.main_window import MainWindow

    win = MainWindow()
    win.show()
    return win


def _close(win: Any) -> None:
    win.close()  # closeEvent -> shutdown()
    if not _threads_stopped(win):
        _leaked.append(win)


def test_close_while_indexing_stops_promptly(qtbot: Any, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    win = _open(monkeypatch, tmp_path)
    qtbot.waitUntil(lambda: bool(win.jobs.jobs(JobKind.INDEX, queued=False)),
                    timeout=int(STARTUP_TIMEOUT_S * 1000))
    (job,) = win.jobs.jobs(JobKind.INDEX, queued=False)
    _close(win)
    # Stopped, not waited out: the indexing was cancelled, and its thread joined (the old bug
    # timed out joining it and left it running).
    assert job.cancel_event.is_set()
    assert _threads_stopped(win), "the indexing thread is still running after shutdown"
    assert win.engine._library is None  # closed


def test_close_while_library_opens_waits_for_startup(qtbot: Any,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    win = _open(monkeypatch, tmp_path)
    assert not win.ready and win.jobs.jobs(JobKind.STARTUP, queued=False)
    assert win.jobs.threads_running()
    _close(win)
    assert _threads_stopped(win), "the startup thread is still running after shutdown"
    # The startup result arriving after shutdown is ignored: nothing is indexed or reopened.
    # (The startup thread has ended: whatever it sent is already posted; deliver it.)
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    assert not win.ready
    assert win.last_index is None and not win.jobs.busy()
    assert win.engine._library is None
