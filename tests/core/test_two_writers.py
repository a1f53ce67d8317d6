"""Two processes on one library: writers take turns (a file lock), a waiting writer says so and
gives up with a message after its limit, and each side sees what the other indexed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.library.indexing import Library, LibraryBusy
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.types import IndexDone, Progress, Stage

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"
REPO = Path(__file__).resolve().parents[2]


def test_a_second_writer_waits_then_gives_up_with_a_message(home: Path, embedder: Any) -> None:
    first, second = Library(home, embedder), Library(home, embedder)
    try:
        first._process_lock.acquire()  # another writer is busy with this library
        second.lock_wait_s = 1.0
        events: list[Any] = []
        t0 = time.monotonic()
        with pytest.raises(LibraryBusy, match="another MedSearch process"):
            for ev in second.index_paths([NOTES / "ckd_review.txt"]):
                events.append(ev)
        # It waited its limit before giving up (a lower bound only: a loaded machine waits
        # longer, never shorter).
        assert time.monotonic() - t0 >= 1.0
        assert [e.stage for e in events if isinstance(e, Progress)] == [Stage.WAITING]
        assert second.store.documents() == []  # nothing was written meanwhile

        # Cancelled while it waits (when it says it waits): the wait ends at once, well before
        # its limit (a wait that ignored the cancel would end in LibraryBusy after 60 s).
        cancel = threading.Event()
        second.lock_wait_s = 60.0
        done = []
        for ev in second.index_paths([NOTES], cancel=cancel):
            if isinstance(ev, Progress) and ev.stage is Stage.WAITING:
                cancel.set()
            elif isinstance(ev, IndexDone):
                done.append(ev)
        assert cancel.is_set() and done and done[-1].cancelled

        first._process_lock.release()
        done = [e for e in second.index_paths([NOTES / "ckd_review.txt"])
                if isinstance(e, IndexDone)]
        assert done[-1].added == 1
    finally:
        first.close()
        second.close()


@pytest.mark.slow
def test_the_command_line_waits_for_the_window_and_the_window_sees_its_work(
        home: Path, embedder: Any) -> None:
    window = Library(home, embedder)  # stands for the open window's library
    try:
        list(window.index_paths([NOTES / "ckd_review.txt"]))
        window._process_lock.acquire()  # the window is writing
        env = {**os.environ, "MEDSEARCH_HOME": str(home), "OMP_NUM_THREADS": "2"}
        cmd = [sys.executable, "-m", "medsearch_app", "index", str(NOTES), "--json",
               "--precision", embedder.precision.value]  # the fixture's, not the default
        cli = subprocess.Popen(cmd, env=env, cwd=str(REPO), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err_lines: list[str] = []
        waiting = threading.Event()

        def read_stderr() -> None:
            for ln in cli.stderr or []:
                err_lines.append(ln)
                if "[index] waiting" in ln:
                    waiting.set()
            waiting.set()  # the command ended: stop waiting for the line

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        # The command starts (imports, model) and says it waits; the limit only bounds a hang.
        assert waiting.wait(300), "".join(err_lines)
        assert cli.poll() is None, "".join(err_lines)  # still waiting its turn
        assert len(window.store.documents()) == 1  # it wrote nothing meanwhile
        window._process_lock.release()
        cli.wait(timeout=600)
        reader.join(timeout=10)
        err = "".join(err_lines)
        assert cli.returncode == 0, err
        assert "[index] waiting: another MedSearch process" in err

        # The window sees the command's documents and vectors without being reopened.
        assert len(window.store.documents()) == len(list(NOTES.iterdir()))
        res = Retriever(window).search("What should be done about the high INR?", k=3,
                                       mode="dense")
        assert res.hits and "warfarin_clinic" in res.hits[0].path
        assert len(window.index) == window.store.chunk_count()
    finally:
        window.close()
