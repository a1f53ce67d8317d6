"""Generator -> Qt signals adapter, and the one thread that owns the language model.

Core long work is a generator of small typed events. `GeneratorWorker` runs one on a QThread
and emits each event as a signal; slots on the GUI thread update widgets (workers never touch
widgets). Cancellation is cooperative: a threading.Event the generator checks between files,
batches and tokens. `ModelOwner` is a single long-lived thread on which every llama.cpp call
happens (load, generate, close), because llama.cpp contexts are not thread-safe.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)

GenFactory = Callable[[threading.Event], Iterator[Any]]


class _Runner(QObject):
    yielded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, factory: GenFactory, cancel: threading.Event) -> None:
        super().__init__()
        self._factory = factory
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            for ev in self._factory(self._cancel):
                self.yielded.emit(ev)
        except Exception as exc:  # noqa: BLE001 - shown to the user, logged in full
            log.error("background job failed:\n%s", traceback.format_exc())
            self.failed.emit(user_message(exc))
        finally:
            self.finished.emit()


BUG = "Something went wrong inside MedSearch (a bug; the details are in the log): "


def user_message(exc: BaseException) -> str:
    """The window's one mapping from an exception to what the user reads (no traceback), as
    cli/common.run_command is the command line's: the error family's own message; a file or
    disk problem's text; anything else said to be a bug, with its text."""
    from ..core.errors import MedSearchError

    if isinstance(exc, MedSearchError):
        text = exc.message.strip()
    else:
        text = str(exc).strip() or type(exc).__name__
        if not isinstance(exc, OSError):
            text = BUG + text
    return (text or type(exc).__name__)[:500]


class GeneratorWorker(QObject):
    """Runs one generator on its own QThread; `yielded`, `failed`, `finished` arrive on the GUI
    thread. Call cancel() to stop it between events."""

    yielded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, factory: GenFactory, parent: QObject | None = None, *,
                 cancel: threading.Event | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = cancel or threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("medsearch-worker")
        self._runner = _Runner(factory, self.cancel_event)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.yielded.connect(self.yielded)
        self._runner.failed.connect(self.failed)
        # Direct: the worker thread ends its own event loop. Queued, quit() would wait for the
        # GUI thread, which deadlocks wait() called there (shutdown while a job runs).
        self._runner.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._done)
        self.running = False

    def start(self) -> None:
        self.running = True
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, ms: int = 30000) -> bool:
        return bool(self._thread.wait(ms))

    def thread_alive(self) -> bool:
        return bool(self._thread.isRunning())

    @Slot()
    def _done(self) -> None:
        self.running = False
        self.finished.emit()


class _OwnerObject(QObject):
    yielded = Signal(int, object)
    failed = Signal(int, str)
    finished = Signal(int)

    @Slot(int, object, object)
    def run(self, job_id: int, factory: GenFactory, cancel: threading.Event) -> None:
        try:
            for ev in factory(cancel):
                self.yielded.emit(job_id, ev)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, logged in full
            log.error("model job failed:\n%s", traceback.format_exc())
            self.failed.emit(job_id, user_message(exc))
        finally:
            self.finished.emit(job_id)


class ModelOwner(QObject):
    """The one thread that touches the llama.cpp model. Jobs run in order, one at a time."""

    yielded = Signal(int, object)
    failed = Signal(int, str)
    finished = Signal(int)
    _submit = Signal(int, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("medsearch-model-owner")
        self._obj = _OwnerObject()
        self._obj.moveToThread(self._thread)
        self._submit.connect(self._obj.run)
        self._obj.yielded.connect(self.yielded)
        self._obj.failed.connect(self.failed)
        self._obj.finished.connect(self.finished)
        self._thread.start()
        self._next = 0
        self._cancels: dict[int, threading.Event] = {}
        self.finished.connect(lambda j: self._cancels.pop(j, None))

    def submit(self, factory: GenFactory, *, job_id: int | None = None,
               cancel: threading.Event | None = None) -> int:
        """Queue a job on the model thread; returns its id (`job_id` if given)."""
        if job_id is None:
            self._next += 1
            job_id = self._next
        cancel = cancel or threading.Event()
        self._cancels[job_id] = cancel
        self._submit.emit(job_id, factory, cancel)
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Stop one job (or all) between tokens."""
        for j, ev in list(self._cancels.items()):
            if job_id is None or j == job_id:
                ev.set()

    def busy(self) -> bool:
        return bool(self._cancels)

    def shutdown(self, ms: int = 10000) -> None:
        self.cancel()
        self._thread.quit()
        self._thread.wait(ms)
