"""The one owner of the window's background work: every long task is submitted here.

A job is a generator of small typed events (core style) plus the callbacks that show them. The
coordinator runs it on its own worker thread, on the model's owner thread (everything that
touches llama.cpp), or — for a few quick steps that must not race GUI-thread reads, like
swapping in another library — on the GUI thread itself. It knows which kinds of job conflict
(`CONFLICTS`): a new job either runs now, waits in the queue until what it conflicts with has
finished, or is refused with a message. `shutdown()` cancels and joins them all.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from .workers import GeneratorWorker, GenFactory, ModelOwner, user_message

log = logging.getLogger(__name__)


class JobKind(StrEnum):
    STARTUP = "startup"  # open the library (loads the embedder), first-run demo
    INDEX = "index"  # index added paths, or sync the watched folders
    REMOVE = "remove"  # remove documents from the library
    PRECISION = "precision"  # open/build the library of another embedder precision
    SWAP = "swap"  # put that library in place of the current one (GUI thread, quick)
    LEVEL = "level"  # load another quant level of the language model
    LADDER = "ladder"  # build quant levels of a model (child processes)
    ANSWER = "answer"  # answer one question
    COMPARE = "compare"  # a comparison run over several levels
    MODELS = "models"  # list the model files of the models folders (reads GGUF headers)
    CHECK = "check"  # check the library: database against vector index (reads both)


LABELS = {
    JobKind.STARTUP: "opening the library", JobKind.INDEX: "indexing",
    JobKind.REMOVE: "removing documents", JobKind.PRECISION: "preparing another precision",
    JobKind.SWAP: "switching the embedder", JobKind.LEVEL: "loading a model level",
    JobKind.LADDER: "building quant levels", JobKind.ANSWER: "an answer",
    JobKind.COMPARE: "a comparison run", JobKind.MODELS: "listing the model files",
    JobKind.CHECK: "checking the library",
}


class Policy(StrEnum):
    QUEUE = "queue"  # start when the running job it conflicts with has finished
    REFUSE = "refuse"  # refuse the new job with a message


class Where(Enum):
    WORKER = "worker"  # a thread of its own
    MODEL = "model"  # the one thread that owns the language model
    GUI = "gui"  # run to the end on the GUI thread (quick steps only)


def _table() -> dict[tuple[JobKind, JobKind], Policy]:
    K, Q, R = JobKind, Policy.QUEUE, Policy.REFUSE
    t: dict[tuple[JobKind, JobKind], Policy] = {}
    for k in K:  # nothing starts before the library is open
        if k is not K.STARTUP:
            t[(k, K.STARTUP)] = Q
    t[(K.STARTUP, K.STARTUP)] = R
    # Writers of the library database and of the vector index run one after another, and the
    # library is swapped only when nothing is using it.
    library_users = (K.INDEX, K.REMOVE, K.PRECISION, K.SWAP, K.ANSWER, K.COMPARE)
    for a in (K.INDEX, K.REMOVE, K.PRECISION, K.SWAP):
        for b in (K.INDEX, K.REMOVE, K.PRECISION, K.SWAP):
            t[(a, b)] = Q
    for u in library_users:
        t[(u, K.SWAP)] = Q
        t[(K.SWAP, u)] = Q
    t[(K.PRECISION, K.PRECISION)] = R
    # A check reads what the writers leave behind: neither runs while the other does.
    for w in (K.INDEX, K.REMOVE, K.PRECISION, K.SWAP):
        t[(K.CHECK, w)] = Q
        t[(w, K.CHECK)] = Q
    t[(K.CHECK, K.CHECK)] = R
    # The language model: one level load at a time; answers wait for a load and a load waits
    # for the answer it has cancelled. A comparison run has the model to itself.
    t[(K.LEVEL, K.LEVEL)] = R
    t[(K.LEVEL, K.ANSWER)] = Q
    t[(K.ANSWER, K.LEVEL)] = Q
    t[(K.ANSWER, K.ANSWER)] = R
    t[(K.LADDER, K.LADDER)] = R
    t[(K.MODELS, K.MODELS)] = Q  # one listing at a time; a repeated request is queued once
    t[(K.COMPARE, K.COMPARE)] = R
    t[(K.COMPARE, K.ANSWER)] = Q
    t[(K.COMPARE, K.LEVEL)] = Q
    t[(K.ANSWER, K.COMPARE)] = R
    t[(K.LEVEL, K.COMPARE)] = R
    t[(K.COMPARE, K.LADDER)] = Q  # the levels being built are among those compared
    t[(K.LADDER, K.COMPARE)] = R
    return t


CONFLICTS: dict[tuple[JobKind, JobKind], Policy] = _table()


def policy(new: JobKind, running: JobKind) -> Policy | None:
    """What happens to a `new` job while a `running` one runs (None: they run side by side)."""
    return CONFLICTS.get((new, running))


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


Callback = Callable[..., Any]


@dataclass(eq=False)
class Job:
    id: int
    kind: JobKind
    factory: GenFactory
    where: Where
    key: str | None = None
    on_event: Callback | None = None
    on_failed: Callback | None = None
    on_finished: Callback | None = None
    state: JobState = JobState.QUEUED
    cancel_event: threading.Event = field(default_factory=threading.Event)
    worker: GeneratorWorker | None = None
    failed: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


class JobCoordinator(QObject):
    """Starts, queues, refuses, cancels and joins every background job of the window.

    Signals (GUI thread): `yielded(job_id, event)` for every event of every job, `refused(msg)`
    when a job is refused, `changed()` whenever a job is queued, starts or ends.
    """

    yielded = Signal(int, object)
    refused = Signal(str)
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.owner = ModelOwner(self)
        self.owner.yielded.connect(self._model_event)
        self.owner.failed.connect(self._model_failed)
        self.owner.finished.connect(self._model_finished)
        self._ids = itertools.count(1)
        self._jobs: list[Job] = []  # queued and running, in submission order
        self._workers: list[GeneratorWorker] = []  # threads not yet known to have ended
        self._closed = False

    # ---- submitting ----------------------------------------------------------------------------
    def submit(self, kind: JobKind, factory: GenFactory, *, where: Where = Where.WORKER,
               key: str | None = None, on_event: Callback | None = None,
               on_failed: Callback | None = None,
               on_finished: Callback | None = None) -> Job | None:
        """Run, queue or refuse a job. Returns the job, or None when it was refused (the
        `refused` signal says why) or an equal job (same kind and key) is already queued."""
        if self._closed:
            return None
        if key is not None and any(j.kind is kind and j.key == key
                                   and j.state is JobState.QUEUED for j in self._jobs):
            return None
        for j in self._jobs:
            if policy(kind, j.kind) is Policy.REFUSE:
                msg = (f"Already {LABELS[kind]}" if j.kind is kind
                       else f"Wait for {LABELS[j.kind]} to finish")
                self.refused.emit(msg)
                return None
        job = Job(next(self._ids), kind, factory, where, key, on_event, on_failed, on_finished)
        self._jobs.append(job)
        self._pump()
        self.changed.emit()
        return job

    def _can_start(self, job: Job) -> bool:
        for other in self._jobs:
            if other is job:
                return True  # only the jobs ahead of it count (first come, first served)
            if policy(job.kind, other.kind) is not None:
                return False
        return True

    def _pump(self) -> None:
        for job in list(self._jobs):
            if job.state is JobState.QUEUED and self._can_start(job):
                self._start(job)

    def _start(self, job: Job) -> None:
        job.state = JobState.RUNNING
        if job.where is Where.MODEL:
            self.owner.submit(job.factory, job_id=job.id, cancel=job.cancel_event)
        elif job.where is Where.GUI:
            try:
                for ev in job.factory(job.cancel_event):
                    self._event(job, ev)
            except Exception as exc:  # noqa: BLE001 - shown to the user, logged in full
                log.error("GUI-thread job failed:\n%s", traceback.format_exc())
                self._failed(job, user_message(exc))
            self._finished(job)
        else:
            w = GeneratorWorker(job.factory, self, cancel=job.cancel_event)
            job.worker = w
            self._workers.append(w)
            w.yielded.connect(lambda ev, j=job: self._event(j, ev))
            w.failed.connect(lambda m, j=job: self._failed(j, m))
            w.finished.connect(lambda j=job: self._finished(j))
            w.start()

    # ---- what jobs report --------------------------------------------------------------------
    def _event(self, job: Job, ev: object) -> None:
        self.yielded.emit(job.id, ev)
        if job.on_event is not None and not self._closed:
            job.on_event(ev)

    def _failed(self, job: Job, msg: str) -> None:
        job.failed = msg
        if job.on_failed is not None and not self._closed:
            job.on_failed(msg)

    def _finished(self, job: Job) -> None:
        if job.worker is not None and job.worker in self._workers and not self._closed:
            self._workers.remove(job.worker)
        if job.state is JobState.DONE:
            return
        job.state = JobState.DONE
        if job in self._jobs:
            self._jobs.remove(job)
        if job.on_finished is not None and not self._closed:
            job.on_finished()
        if not self._closed:
            self._pump()
            self.changed.emit()

    def _by_id(self, job_id: int) -> Job | None:
        return next((j for j in self._jobs if j.id == job_id), None)

    @Slot(int, object)
    def _model_event(self, job_id: int, ev: object) -> None:
        job = self._by_id(job_id)
        if job is not None:
            self._event(job, ev)

    @Slot(int, str)
    def _model_failed(self, job_id: int, msg: str) -> None:
        job = self._by_id(job_id)
        if job is not None:
            self._failed(job, msg)

    @Slot(int)
    def _model_finished(self, job_id: int) -> None:
        job = self._by_id(job_id)
        if job is not None:
            self._finished(job)

    # ---- asking about and cancelling jobs ----------------------------------------------------
    def jobs(self, kind: JobKind | None = None, *, queued: bool = True) -> list[Job]:
        """Running (and, unless queued=False, queued) jobs of one kind or of all kinds."""
        return [j for j in self._jobs if (kind is None or j.kind is kind)
                and (queued or j.state is JobState.RUNNING)]

    def busy(self, kind: JobKind | None = None) -> bool:
        return bool(self.jobs(kind))

    def cancel(self, kind: JobKind | None = None, job: Job | None = None) -> int:
        """Cancel running jobs (between events, or inside them where the core checks) and drop
        queued ones, of one kind, one job, or all. Returns how many were touched."""
        n = 0
        for j in list(self._jobs):
            if (job is not None and j is not job) or (kind is not None and j.kind is not kind):
                continue
            n += 1
            j.cancel_event.set()
            if j.state is JobState.QUEUED:  # dropped: it ends without having run
                self._jobs.remove(j)
                j.state = JobState.DONE
                if j.on_finished is not None:
                    j.on_finished()
        if n:
            self.changed.emit()
        return n

    def shutdown(self, final_model_step: Callable[[], None] | None = None,
                 wait_ms: int = 60000) -> None:
        """Cancel everything, join the worker threads, run `final_model_step` (freeing the
        model) on the model thread, and stop that thread. Callbacks no longer fire."""
        if self._closed:
            return
        self._closed = True
        for j in list(self._jobs):
            j.cancel_event.set()
        for w in self._workers:
            w.wait(wait_ms)
        self._workers = [w for w in self._workers if w.thread_alive()]
        self._jobs.clear()
        if final_model_step is not None:
            done = threading.Event()

            def step(_c: threading.Event) -> Iterator[Any]:
                final_model_step()
                done.set()
                yield from ()

            self.owner.submit(step, job_id=0, cancel=threading.Event())
            done.wait(30)
        self.owner.shutdown()

    def threads_running(self) -> bool:
        """Whether any worker thread of a job is still alive (for shutdown tests)."""
        return any(w.thread_alive() for w in self._workers)
