"""Cancel reaches inside a long PDF: the reader process is stopped, the file is not marked."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from pathlib import Path

import pytest
from doubles import HashEmbedder

from medsearch_app.core.library import indexing as library_mod
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.library.pdf import PdfResult, collect, extract_pdf
from medsearch_app.core.types import DocStatus, FileIndexed, IndexDone, PageText


class CancelOnSecondLook(threading.Event):
    """A cancel event that is set when the wait loop looks at it the second time: the cancel
    arrives while the loop waits on a reader, after one poll of the pipe, whatever the speed."""

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0

    def is_set(self) -> bool:
        self.looks += 1
        if self.looks == 2:
            self.set()
        return super().is_set()


def test_wait_loop_stops_a_busy_reader_promptly_on_cancel() -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=time.sleep, args=(600,), daemon=True)  # a reader that never sends
    proc.start()
    cancel = CancelOnSecondLook()
    res = PdfResult()
    try:
        # Without the cancel the loop would wait out its (long) limit and report a time-out.
        collect(proc, parent, res, timeout_s=300, memory_mb=512, cancel=cancel)
    finally:
        child.close()
        if proc.is_alive():
            proc.kill()
    assert res.cancelled and res.error is None
    assert cancel.looks == 2  # it stopped at the first look after the cancel
    assert not proc.is_alive()


def test_extract_pdf_does_not_start_a_reader_once_cancelled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 100)
    started: list[str] = []

    def no_reader(*_a: object, **_k: object) -> None:
        started.append("reader")
        raise AssertionError("a reader process was started after the cancel")

    monkeypatch.setattr(mp.get_context("spawn"), "Process", no_reader)
    cancel = threading.Event()
    cancel.set()
    res = extract_pdf(pdf, cancel=cancel)
    assert res.cancelled and res.error is None
    assert started == []


def test_cancel_during_a_long_pdf_leaves_it_to_do(home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Warfarin targets an INR of two to three in most patients.",
                                  encoding="utf-8")
    pdf = folder / "b.pdf"
    pdf.write_bytes(b"%PDF-1.4 stand-in: extraction is faked below")
    started = threading.Event()
    slow = {"on": True}

    def fake_extract(path: Path, *, timeout_s: float,
                     cancel: threading.Event | None = None) -> PdfResult:
        started.set()
        if slow["on"]:  # a PDF that takes the whole time limit, unless cancelled
            assert cancel is not None, "the cancel event must reach the PDF reader"
            if cancel.wait(timeout_s):
                return PdfResult(cancelled=True)
            return PdfResult(error="timed out")
        return PdfResult(pages=[PageText(1, "1", "Metformin is stopped when eGFR falls below "
                                                 "thirty in adults with diabetes.")], n_pages=1)

    monkeypatch.setattr(library_mod, "extract_pdf", fake_extract)
    lib = Library(home, HashEmbedder())
    try:
        cancel = threading.Event()

        def cancel_once_reading() -> None:
            if started.wait(300):  # bounds a hang only
                cancel.set()

        threading.Thread(target=cancel_once_reading, daemon=True).start()
        # The fake reader waits out its whole time limit unless the cancel reaches it: a
        # cancel that did not would end in "timed out" (a failed file), not a cancelled run.
        events = list(lib.index_paths([folder], cancel=cancel))
        done = events[-1]
        assert isinstance(done, IndexDone) and done.cancelled and done.failed == []
        files = {e.path: e.status for e in events if isinstance(e, FileIndexed)}
        assert str(pdf.resolve()) not in files  # nothing reported for the interrupted file
        assert lib.store.document(str(pdf.resolve())) is None  # not marked failed
        # The next run reads it.
        slow["on"] = False
        events = list(lib.index_paths([folder]))
        files = {e.path: e.status for e in events if isinstance(e, FileIndexed)}
        assert files[str(pdf.resolve())] == DocStatus.INDEXED
        row = lib.store.document(str(pdf.resolve()))
        assert row is not None and row.status is DocStatus.INDEXED
    finally:
        lib.close()
