"""Cancel reaches inside a long PDF: the reader process is stopped, the file is not marked."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from medsearch_app.core import library as library_mod
from medsearch_app.core.embed import Precision
from medsearch_app.core.ingest.chunking import whitespace_offsets
from medsearch_app.core.ingest.pdf import PdfResult, collect, extract_pdf
from medsearch_app.core.library import Library
from medsearch_app.core.types import DocStatus, FileIndexed, IndexDone, PageText


def test_wait_loop_stops_a_busy_reader_promptly_on_cancel() -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=time.sleep, args=(60,), daemon=True)  # a reader that never sends
    proc.start()
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    res = PdfResult()
    t0 = time.monotonic()
    try:
        collect(proc, parent, res, timeout_s=120, memory_mb=512, cancel=cancel)
        took = time.monotonic() - t0
    finally:
        child.close()
        if proc.is_alive():
            proc.kill()
    assert took < 2.0, f"cancel took {took:.2f} s"
    assert res.cancelled and res.error is None
    assert not proc.is_alive()


def test_extract_pdf_does_not_start_a_reader_once_cancelled(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 100)
    cancel = threading.Event()
    cancel.set()
    t0 = time.monotonic()
    res = extract_pdf(pdf, cancel=cancel)
    assert res.cancelled and res.error is None and time.monotonic() - t0 < 0.5


class WordEmbedder:
    """A tiny deterministic embedder: these tests are about bookkeeping, not similarity."""

    name = "words-test"
    dim = 8
    max_tokens = 256
    precision = Precision.FP32

    @property
    def key(self) -> str:
        return f"{self.name}-{self.precision.value}"

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return whitespace_offsets(text)

    def leave_core(self, on: bool) -> None:
        pass

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.ones((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def close(self) -> None:
        pass


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
    lib = Library(home, WordEmbedder())  # type: ignore[arg-type]
    try:
        cancel = threading.Event()

        def cancel_once_reading() -> None:
            started.wait(10)
            time.sleep(0.2)
            cancel.set()

        threading.Thread(target=cancel_once_reading, daemon=True).start()
        t0 = time.monotonic()
        events = list(lib.index_paths([folder], cancel=cancel))
        took = time.monotonic() - t0
        assert took < 5.0, f"indexing took {took:.1f} s to stop"
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
