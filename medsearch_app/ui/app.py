"""Starts the desktop app: QApplication, icon, main window."""

from __future__ import annotations

import logging
import sys
import threading
import time

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
    answered = _ask_when_ready(win, ask) if ask else threading.Event()
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
            if ask and not answered.is_set() and asked_job_done(win):
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


def asked_job_done(win: MainWindow) -> bool:
    """The question asked by `--ask` has finished, whether or not it produced an answer."""
    return bool(getattr(win, "_asked_job_ids", None)) and win.answer_job is None


def _ask_when_ready(win: MainWindow, question: str) -> threading.Event:
    """Ask `question` once the library is open; the event is set when the answer is done."""
    asked, job_ids, done = time.monotonic(), [], threading.Event()

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
            win._asked_job_ids = job_ids  # type: ignore[attr-defined]

    win.jobs.yielded.connect(on_event)
    ready()
    return done


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
