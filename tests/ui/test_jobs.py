"""The worker adapter and the job coordinator on their own, with small generator jobs.

These are units of logic (threads, queueing, cancelling); the real jobs are exercised by the
window tests and test_job_conflicts.py.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from medsearch_app.core.errors import BadInput
from medsearch_app.ui.jobs import CONFLICTS, JobCoordinator, JobKind, Policy, Where, policy
from medsearch_app.ui.workers import GeneratorWorker, ModelOwner

pytestmark = pytest.mark.gui

HANG_MS = 120_000  # bounds a hang only: every wait below ends as soon as its condition holds


def _counting(n: int) -> Any:
    def job(cancel: threading.Event) -> Iterator[int]:
        for i in range(n):
            if cancel.is_set():
                return
            yield i
    return job


def _blocking(release: threading.Event, started: threading.Event | None = None) -> Any:
    """A job that holds its slot until `release` (or its cancel) is set."""
    def job(cancel: threading.Event) -> Iterator[str]:
        if started is not None:
            started.set()
        while not cancel.is_set():
            if release.wait(0.01):  # wakes at once on release; looks at the cancel meanwhile
                break
        yield "released" if release.is_set() else "cancelled"
    return job


# ---- GeneratorWorker and ModelOwner ---------------------------------------------------------

def test_worker_delivers_events_on_the_gui_thread_in_order(qtbot: Any) -> None:
    seen: list[tuple[int, bool]] = []
    gui = threading.get_ident()
    w = GeneratorWorker(_counting(5))
    w.yielded.connect(lambda ev: seen.append((ev, threading.get_ident() == gui)))
    with qtbot.waitSignal(w.finished, timeout=HANG_MS):
        w.start()
    assert seen == [(i, True) for i in range(5)]
    assert not w.running and not w.thread_alive()


def test_worker_reports_an_exception_as_one_readable_line(qtbot: Any) -> None:
    def job(_c: threading.Event) -> Iterator[int]:
        yield 1
        raise BadInput("the file is not a PDF\nsecond line")

    w = GeneratorWorker(job)
    failed: list[str] = []
    w.failed.connect(failed.append)
    with qtbot.waitSignal(w.finished, timeout=HANG_MS):
        w.start()
    assert len(failed) == 1 and failed[0].startswith("the file is not a PDF")


def test_worker_cancel_stops_between_events_and_wait_joins(qtbot: Any) -> None:
    def endless(cancel: threading.Event) -> Iterator[int]:
        for i in itertools.count():
            if cancel.is_set():
                return
            yield i
            if i == 2:  # after three events the job goes on only once it is cancelled
                cancel.wait(HANG_MS / 1000)

    w = GeneratorWorker(endless)
    got: list[int] = []
    w.yielded.connect(got.append)
    w.start()
    qtbot.waitUntil(lambda: len(got) == 3, timeout=HANG_MS)
    w.cancel()
    assert w.wait(HANG_MS)
    assert not w.thread_alive()
    qtbot.waitUntil(lambda: not w.running, timeout=HANG_MS)
    assert got == [0, 1, 2]  # the cancel reached the job between two events


def test_model_owner_runs_jobs_one_at_a_time_in_order(qtbot: Any) -> None:
    owner = ModelOwner()
    threads: set[int] = set()
    order: list[tuple[int, object]] = []

    def job(tag: str) -> Any:
        def gen(_c: threading.Event) -> Iterator[str]:
            threads.add(threading.get_ident())
            yield tag
        return gen

    owner.yielded.connect(lambda j, ev: order.append((j, ev)))
    a = owner.submit(job("a"))
    b = owner.submit(job("b"), job_id=99)
    with qtbot.waitSignal(owner.finished, timeout=HANG_MS,
                          check_params_cb=lambda j: j == b):
        pass
    owner.shutdown()
    assert order == [(a, "a"), (99, "b")]
    assert len(threads) == 1 and threading.get_ident() not in threads


# ---- the conflict table ---------------------------------------------------------------------

def test_conflict_table_rules() -> None:
    K = JobKind
    # Nothing runs before the library is open.
    assert all(policy(k, K.STARTUP) is Policy.QUEUE for k in K if k is not K.STARTUP)
    # Writers of the library wait for each other, and the swap waits for every user of it.
    assert policy(K.PRECISION, K.INDEX) is Policy.QUEUE
    assert policy(K.INDEX, K.PRECISION) is Policy.QUEUE
    assert policy(K.REMOVE, K.INDEX) is Policy.QUEUE
    assert policy(K.SWAP, K.ANSWER) is Policy.QUEUE and policy(K.ANSWER, K.SWAP) is Policy.QUEUE
    assert policy(K.SWAP, K.INDEX) is Policy.QUEUE and policy(K.INDEX, K.SWAP) is Policy.QUEUE
    # Doubles are refused; answers and indexing run side by side.
    for k in (K.ANSWER, K.LEVEL, K.LADDER, K.PRECISION, K.COMPARE):
        assert policy(k, k) is Policy.REFUSE
    assert policy(K.ANSWER, K.INDEX) is None and policy(K.INDEX, K.ANSWER) is None
    assert policy(K.REMOVE, K.LEVEL) is None and policy(K.LEVEL, K.REMOVE) is None
    assert policy(K.ANSWER, K.LEVEL) is Policy.QUEUE
    assert all(isinstance(v, Policy) for v in CONFLICTS.values())


# ---- the coordinator --------------------------------------------------------------------------

def test_conflicting_job_waits_and_then_runs(qtbot: Any) -> None:
    jobs = JobCoordinator()
    release = threading.Event()
    log: list[str] = []
    started = threading.Event()
    first = jobs.submit(JobKind.INDEX, _blocking(release, started), on_event=log.append)
    second = jobs.submit(JobKind.PRECISION, _counting(2),
                         on_event=lambda ev: log.append(f"p{ev}"))
    assert first is not None and second is not None
    assert jobs.jobs(JobKind.PRECISION, queued=False) == []  # queued behind indexing
    assert jobs.jobs(JobKind.PRECISION) == [second]
    qtbot.waitUntil(started.is_set, timeout=HANG_MS)  # indexing runs, holding its slot
    assert jobs.jobs(JobKind.PRECISION, queued=False) == []  # still queued behind it
    assert log == []
    release.set()
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=HANG_MS)
    assert log == ["released", "p0", "p1"]
    jobs.shutdown()


def test_double_job_is_refused_with_a_message(qtbot: Any) -> None:
    jobs = JobCoordinator()
    release = threading.Event()
    refused: list[str] = []
    jobs.refused.connect(refused.append)
    assert jobs.submit(JobKind.LADDER, _blocking(release)) is not None
    assert jobs.submit(JobKind.LADDER, _counting(1)) is None
    assert refused == ["Already building quant levels"]
    assert jobs.submit(JobKind.LEVEL, _blocking(release), where=Where.MODEL) is not None
    assert jobs.submit(JobKind.COMPARE, _counting(1)) is not None  # waits for the level load
    assert jobs.submit(JobKind.ANSWER, _counting(1), where=Where.MODEL) is None
    assert refused[-1] == "Wait for a comparison run to finish"
    release.set()
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=HANG_MS)
    jobs.shutdown()


def test_same_keyed_job_is_queued_once(qtbot: Any) -> None:
    jobs = JobCoordinator()
    release = threading.Event()
    runs: list[int] = []
    jobs.submit(JobKind.INDEX, _blocking(release))
    for _ in range(3):  # a burst of folder-watch syncs while indexing
        jobs.submit(JobKind.INDEX, _counting(1), key="sync", on_event=runs.append)
    assert len(jobs.jobs(JobKind.INDEX)) == 2
    release.set()
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=HANG_MS)
    assert runs == [0]
    jobs.shutdown()


def test_cancel_reaches_running_and_drops_queued_jobs(qtbot: Any) -> None:
    jobs = JobCoordinator()
    started = threading.Event()
    never = threading.Event()
    ended: list[str] = []
    out: list[object] = []
    jobs.submit(JobKind.INDEX, _blocking(never, started), on_event=out.append,
                on_finished=lambda: ended.append("index"))
    jobs.submit(JobKind.INDEX, _counting(1), on_finished=lambda: ended.append("queued"))
    qtbot.waitUntil(started.is_set, timeout=HANG_MS)
    assert jobs.cancel(JobKind.INDEX) == 2
    assert ended == ["queued"]  # dropped at once, its end reported
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=HANG_MS)
    assert out == ["cancelled"] and ended == ["queued", "index"]
    jobs.shutdown()


def test_shutdown_cancels_and_joins_every_thread(qtbot: Any) -> None:
    jobs = JobCoordinator()
    never = threading.Event()
    started = [threading.Event() for _ in range(3)]
    jobs.submit(JobKind.INDEX, _blocking(never, started[0]))
    jobs.submit(JobKind.LADDER, _blocking(never, started[1]))
    jobs.submit(JobKind.ANSWER, _blocking(never, started[2]), where=Where.MODEL)
    qtbot.waitUntil(lambda: all(s.is_set() for s in started), timeout=HANG_MS)
    freed: list[int] = []
    # The jobs never end by themselves: shutdown must cancel them to join their threads.
    jobs.shutdown(final_model_step=lambda: freed.append(threading.get_ident()))
    assert not jobs.threads_running()
    assert len(freed) == 1 and freed[0] != threading.get_ident()  # on the model thread
    assert jobs.submit(JobKind.INDEX, _counting(1)) is None  # closed


def test_gui_job_runs_on_the_gui_thread_when_nothing_conflicts(qtbot: Any) -> None:
    jobs = JobCoordinator()
    release = threading.Event()
    where: list[bool] = []

    def swap(_c: threading.Event) -> Iterator[str]:
        where.append(threading.get_ident() == threading.main_thread().ident)
        yield "swapped"

    jobs.submit(JobKind.ANSWER, _blocking(release), where=Where.MODEL)
    assert jobs.submit(JobKind.SWAP, swap, where=Where.GUI) is not None
    assert where == []  # waits for the answer using the library
    release.set()
    qtbot.waitUntil(lambda: where == [True], timeout=HANG_MS)
    jobs.shutdown()
