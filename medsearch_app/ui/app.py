"""Starts the desktop app: QApplication, icon, main window."""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..core.types import AnswerDone
from ..demo import resources_dir
from .main_window import MainWindow


def app_icon() -> QIcon:
    try:
        return QIcon(str(resources_dir() / "icons" / "medsearch.svg"))
    except FileNotFoundError:
        return QIcon()


def run_app(argv: list[str], *, quit_after: float | None = None, ask: str | None = None) -> int:
    """Open the main window and run the event loop until it closes. With `quit_after` (seconds)
    the window closes itself after that long, as a user would close it, and the time from the
    process's start to the shown window is printed (install checks, start-up measurement).
    With `ask`, that question is asked once the library is open and indexed, as a user would,
    and the answer's first line is printed when it is done (the no-network check); the window
    then stays open until that answer is done, `quit_after` or not (at most 10 minutes)."""
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
    asked = _ask_when_ready(win, ask) if ask else None
    answered = asked.done if asked else threading.Event()
    if not ask:
        answered.set()
    if quit_after is not None:
        import psutil

        def shown() -> None:
            started = psutil.Process().create_time()
            print(f"window shown {time.time() - started:.1f} s after the process started "
                  f"({app.platformName()}); closing in {quit_after:g} s", file=sys.stderr,
                  flush=True)

        deadline = time.monotonic() + 600

        def close_when_answered() -> None:
            if asked and not answered.is_set() and asked.failed(win):
                print("the answer failed: see the error above", file=sys.stderr, flush=True)
                answered.set()
            if answered.is_set() or time.monotonic() > deadline:
                win.close()
            else:
                QTimer.singleShot(500, close_when_answered)

        QTimer.singleShot(0, shown)
        QTimer.singleShot(int(quit_after * 1000), close_when_answered)
    rc = app.exec()
    win.shutdown()
    return int(rc)


@dataclass
class _Asked:
    """The question `--ask` put: its jobs, and an event set when its answer is done."""

    done: threading.Event = field(default_factory=threading.Event)
    job_ids: list[int] = field(default_factory=list)

    def failed(self, win: MainWindow) -> bool:
        """The question was asked and its job has ended without an answer being reported."""
        return bool(self.job_ids) and win.answer_job is None and not self.done.is_set()


def _ask_when_ready(win: MainWindow, question: str) -> _Asked:
    """Ask `question` once the library is open; `done` is set when the answer is done."""
    watch = _Asked()
    asked, job_ids, done = time.monotonic(), watch.job_ids, watch.done

    def on_event(job: int, ev: object) -> None:
        if isinstance(ev, AnswerDone) and job in job_ids:
            first = (ev.answer or "(no answer)").strip().splitlines()[0][:160]
            print(f"answered in {time.monotonic() - asked:.1f} s: {first}", file=sys.stderr,
                  flush=True)
            done.set()

    def ready(_ev: object = None) -> None:
        # As a physician would: after the progress bar of the first indexing (the demo library
        # on a first start, the catch-up otherwise) has finished.
        if not win.ready or win.last_index is None:
            QTimer.singleShot(250, ready)
            return
        nonlocal asked
        asked = time.monotonic()
        job = win.ask(question)
        if job is None:
            print("the question could not be asked", file=sys.stderr, flush=True)
            done.set()
        else:
            job_ids.append(job.id)

    win.jobs.yielded.connect(on_event)
    ready()
    return watch


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
