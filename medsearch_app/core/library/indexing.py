"""The library: which files are in it, what changed, and indexing them into store + vectors.

`Library` owns the SQLite store and the vector index of the current embedder. Indexing is a
generator of small events (Progress, FileIndexed, IndexDone). A document's chunks are committed
to SQLite before they are embedded, and the vector index is reconciled against the database
(missing ids embedded, stale ids deleted) at every run, so an interrupted run resumes where it
stopped and nothing is embedded twice. PDFs are read ahead in a worker while the current batch
is embedded, so the embedder is rarely idle; while that reader is busy the embedder leaves it a
core (Embedder.leave_core), so the two never fight over the same cores.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from ..embedding.base import Embedder
from ..errors import BadInput, storage_problem
from ..system.hashing import file_sha256
from ..types import Chunk, DocStatus, Failure, FileIndexed, IndexDone, PageText, Progress, Stage
from .chunking import chunk_pages
from .index import VectorIndex
from .notes import NOTE_SUFFIXES, NoteError, read_note
from .pdf import extract_pdf
from .store import open_store

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
SUPPORTED = PDF_SUFFIXES | NOTE_SUFFIXES
EMBED_BATCH = 64
# PDFs read ahead of the one being embedded (one reader, in order). Reading is ~4x faster than
# embedding, so the reader finishes early and the embedder then has every core to itself.
READ_AHEAD = 8
# Passages: at most CHUNK_TOKENS of the embedder's tokens (within its window), consecutive
# passages of a page sharing CHUNK_OVERLAP tokens.
CHUNK_TOKENS = 200
CHUNK_OVERLAP = 40
# The vector index is saved while a long run embeds, so a crash or a kill loses at most the
# last stretch of work: every SAVE_EVERY_S seconds, or less often when saving itself is slow
# (a large index), so that saving never takes more than 1/SAVE_COST_SHARE of the run.
SAVE_EVERY_S = 10.0
SAVE_COST_SHARE = 6


class _Saver:
    """When to save the index during a run (see SAVE_EVERY_S)."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index
        self.last = time.monotonic()
        self.cost = 0.0

    def maybe_save(self) -> None:
        now = time.monotonic()
        if now - self.last > max(SAVE_EVERY_S, SAVE_COST_SHARE * self.cost):
            self.index.save()
            done = time.monotonic()
            self.cost, self.last = done - now, done

Event = Progress | FileIndexed | IndexDone


def scan(paths: Iterable[Path]) -> list[Path]:
    """Supported files under the given files/folders (recursive, hidden entries skipped)."""
    out: set[Path] = set()
    for p in paths:
        p = p.expanduser().resolve()
        if p.is_file():
            if p.suffix.lower() in SUPPORTED:
                out.add(p)
        elif p.is_dir():
            for f in p.rglob("*"):
                rel = f.relative_to(p).parts
                if any(part.startswith(".") for part in rel):
                    continue
                if f.is_file() and f.suffix.lower() in SUPPORTED:
                    out.add(f)
    return sorted(out)


@dataclass
class _Extracted:
    pages: list[PageText] = field(default_factory=list)
    n_pages: int = 0
    error: str | None = None
    page_errors: list[tuple[int, str]] = field(default_factory=list)
    cancelled: bool = False  # stopped by the cancel event: nothing to record for this file


def _extract(path: Path, pdf_timeout_s: float, cancel: threading.Event | None) -> _Extracted:
    if path.suffix.lower() in PDF_SUFFIXES:
        r = extract_pdf(path, timeout_s=pdf_timeout_s, cancel=cancel)
        return _Extracted(r.pages, r.n_pages, r.error, r.page_errors, r.cancelled)
    try:
        return _Extracted([read_note(path)], 1)
    except NoteError as exc:
        return _Extracted(error=str(exc))


LOCK_WAIT_S = 600.0
BUSY = "another MedSearch process (a window, or `medsearch index`) is writing this library"


class LibraryBusy(BadInput):
    """Another process kept the library's write lock for longer than we wait."""


class Library:
    """Owner of the library database and the vector index of one embedder."""

    def __init__(self, home: Path, embedder: Embedder) -> None:
        self.home = home
        self.embedder = embedder
        self.store, self.repaired = open_store(home / "library.sqlite3")
        if self.repaired:
            # The vectors were labelled by the lost database's passage ids: start them afresh.
            for folder in (home / "indexes").glob("*"):
                shutil.rmtree(folder, ignore_errors=True)
        self.index = VectorIndex.open(home / "indexes" / embedder.key, embedder.dim)
        self.pdf_timeout_s = 120.0
        self._write_lock = threading.Lock()  # one writer per process ...
        # ... and per library across processes: the window and `medsearch index` (or two
        # windows) take turns. Held only while writing, never while idle.
        self._process_lock = FileLock(str(home / "library.lock"), thread_local=False)
        self.lock_wait_s = LOCK_WAIT_S

    def _wait_turn(self, cancel: threading.Event | None) -> Generator[Progress, None, bool]:
        """Take the cross-process write lock, waiting while another process writes (one WAITING
        progress event says so). False if cancelled while waiting; LibraryBusy after
        `lock_wait_s`."""
        t0 = time.monotonic()
        told = False
        while True:
            try:
                self._process_lock.acquire(timeout=0.25)
                return True
            except Timeout:
                if cancel is not None and cancel.is_set():
                    return False
                if time.monotonic() - t0 > self.lock_wait_s:
                    raise LibraryBusy(f"{BUSY}; gave up after {self.lock_wait_s:.0f} s: try "
                                      "again when it has finished") from None
                if not told:
                    told = True
                    yield Progress(Stage.WAITING, 0, 0, f"waiting: {BUSY}")

    def _locked(self, work: Iterator[Event], cancel: threading.Event | None,
                ) -> Iterator[Event]:
        """Run a writing generator with both locks held, on the index as last saved."""
        with self._write_lock:
            if not (yield from self._wait_turn(cancel)):
                yield IndexDone(0, 0, 0, 0, [], 0, 0.0, cancelled=True)
                return
            try:
                self.index.refresh()  # what another process saved meanwhile
                yield from work
            except (OSError, sqlite3.Error) as exc:
                problem = storage_problem(exc, self.home)
                if problem is None:
                    raise
                raise problem from exc
            finally:
                self.embedder.leave_core(False)  # every core again, however the run ended
                self._process_lock.release()

    def refresh_index(self) -> bool:
        """Pick up vectors another process saved (a cheap check when nothing changed)."""
        return self.index.refresh()

    def close(self) -> None:
        self.index.close()
        self.store.close()

    # ---- keeping the vector index equal to the database -------------------------------------
    def index_problem(self) -> str | None:
        """Why the saved database or index was unusable (the library is then rebuilt), or
        None."""
        return self.repaired or self.index.problem

    def pending_ids(self) -> tuple[list[int], list[int]]:
        """(chunk ids without a vector, vector ids without a chunk)."""
        db = set(self.store.chunk_ids())
        have = self.index.ids
        return sorted(db - have), sorted(have - db)

    def reconcile(self, cancel: threading.Event | None = None) -> Iterator[Progress]:
        """Embed chunks that have no vector yet and drop vectors of removed chunks."""
        missing, stale = self.pending_ids()
        if stale:
            self.index.delete(stale)
        total = len(missing)
        saver = _Saver(self.index)
        for i in range(0, total, EMBED_BATCH):
            if cancel is not None and cancel.is_set():
                break
            ids = missing[i : i + EMBED_BATCH]
            rows = self.store.chunks(ids)
            ids = [c for c in ids if c in rows]
            vecs = self.embedder.embed_batch([rows[c].text for c in ids])
            self.index.add(ids, vecs)
            yield Progress(Stage.EMBEDDING, min(i + len(ids), total), total,
                           "embedding passages", min(i + len(ids), total), total)
            saver.maybe_save()
        self.index.save()
        self.index.problem = None

    # ---- indexing ------------------------------------------------------------------------------
    def index_paths(self, paths: Iterable[Path], *, cancel: threading.Event | None = None,
                    add_roots: bool = True) -> Iterator[Event]:
        """Add files/folders to the library and index what changed. Yields events.

        `cancel` is checked between files and batches, and while a PDF is being read (its reader
        process is stopped within about half a second); a file stopped mid-read is not recorded,
        so it is indexed by the next run, never marked failed."""
        yield from self._locked(self._index_paths(list(paths), cancel, add_roots), cancel)

    def sync(self, *, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Re-scan every library folder and index what changed.

        A folder that is no longer there (an unplugged drive) is skipped; its documents are
        removed because their files are gone, and come back when it is re-added."""
        roots = [Path(r) for r in self.store.roots() if Path(r).exists()]
        return self.index_paths(roots, cancel=cancel, add_roots=False)

    def remove_paths(self, paths: Iterable[Path]) -> int:
        """Remove files/folders and their documents from the library; returns how many."""
        n = 0
        with self._write_lock:
            try:
                self._process_lock.acquire(timeout=self.lock_wait_s)
            except Timeout:
                raise LibraryBusy(f"{BUSY}: try again when it has finished") from None
            try:
                n = self._remove(paths)
            finally:
                self._process_lock.release()
        return n

    def _remove(self, paths: Iterable[Path]) -> int:
        n = 0
        self.index.refresh()
        for p in paths:
            p = p.expanduser().resolve()
            self.store.remove_root(str(p))
            for d in self.store.documents():
                if d.path == str(p) or d.path.startswith(str(p) + "/"):
                    self.store.delete_document(d.path)
                    n += 1
        _, stale = self.pending_ids()
        self.index.delete(stale)
        self.index.save()
        return n

    def _index_paths(self, paths: list[Path], cancel: threading.Event | None,
                     add_roots: bool) -> Iterator[Event]:
        t0 = time.monotonic()
        roots = [p.expanduser().resolve() for p in paths]
        for r in roots:
            if not r.exists():
                raise FileNotFoundError(f"{r} does not exist")
            if add_roots:
                self.store.add_root(str(r))
        files = scan(roots)
        removed = 0
        for d in self.store.documents():
            if not Path(d.path).exists():
                self.store.delete_document(d.path)
                removed += 1
        added = updated = unchanged = chunks_total = 0
        failed: list[Failure] = []
        todo: list[tuple[Path, str, bool]] = []
        for f in files:
            try:
                sha = file_sha256(f)
            except OSError as exc:
                failed.append(Failure(str(f), f"cannot be opened ({exc.strerror})"))
                continue
            doc = self.store.document(str(f))
            if doc is not None and doc.sha256 == sha and doc.status != DocStatus.PENDING:
                if doc.status == DocStatus.FAILED:
                    failed.append(Failure(str(f), doc.reason))
                else:
                    unchanged += 1
                yield FileIndexed(str(f), DocStatus.UNCHANGED, doc.n_pages, doc.n_chunks,
                                  doc.reason)
                continue
            todo.append((f, sha, doc is not None))
        # Vectors missing from an earlier, interrupted run come first.
        yield from self._with_total(self.reconcile(cancel), len(todo))
        cancelled = False
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-read") as pool:
            ahead: dict[int, Future[_Extracted]] = {}
            pending: list[tuple[int, Chunk]] = []
            embedded = 0
            saver = _Saver(self.index)
            for n, (f, sha, existed) in enumerate(todo):
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                for j in range(n, min(n + READ_AHEAD, len(todo))):
                    if j not in ahead:
                        ahead[j] = pool.submit(_extract, todo[j][0], self.pdf_timeout_s,
                                               cancel)
                yield Progress(Stage.READING, n, len(todo), f"reading {f.name}", embedded,
                               chunks_total)
                ex = ahead.pop(n).result()
                if ex.cancelled:  # stopped mid-file: the file stays as it was (to do next run)
                    cancelled = True
                    break
                st = f.stat()
                chunks: list[Chunk] = []
                if ex.pages:
                    chunks = chunk_pages(ex.pages, doc_id=0, offsets=self.embedder.token_offsets,
                                         max_tokens=min(CHUNK_TOKENS,
                                                        self.embedder.max_tokens - 8),
                                         overlap=CHUNK_OVERLAP)
                status, reason = _status(ex, chunks)
                _, ids = self.store.save_document(
                    path=str(f), kind="pdf" if f.suffix.lower() in PDF_SUFFIXES else "note",
                    sha256=sha, size=st.st_size, mtime=st.st_mtime, status=status,
                    reason=reason, n_pages=ex.n_pages, chunks=chunks,
                    page_failures=ex.page_errors,
                )
                if status == DocStatus.FAILED:
                    failed.append(Failure(str(f), reason))
                elif existed:
                    updated += 1
                else:
                    added += 1
                chunks_total += len(ids)
                pending.extend(zip(ids, chunks, strict=True))
                yield FileIndexed(str(f), status, ex.n_pages, len(ids), reason)
                while len(pending) >= EMBED_BATCH or (pending and n == len(todo) - 1):
                    batch, pending = pending[:EMBED_BATCH], pending[EMBED_BATCH:]
                    self.embedder.leave_core(any(not a.done() for a in ahead.values()))
                    vecs = self.embedder.embed_batch([c.text for _, c in batch])
                    self.index.add([i for i, _ in batch], vecs)
                    embedded += len(batch)
                    yield Progress(Stage.EMBEDDING, n + 1, len(todo), f"embedded {f.name}",
                                   embedded, chunks_total)
                    if cancel is not None and cancel.is_set():
                        break
                saver.maybe_save()
            for fut in ahead.values():
                fut.cancel()
        if cancelled or pending:
            cancelled = True
        # Re-indexed documents replaced their chunks: drop the old chunks' vectors now, not at
        # the next run (they would fill dense results with ids that no longer exist).
        _, stale = self.pending_ids()
        self.index.delete(stale)
        self.index.save()
        yield IndexDone(added=added, updated=updated, removed=removed, unchanged=unchanged,
                        failed=failed, chunks=chunks_total,
                        seconds=round(time.monotonic() - t0, 3), cancelled=cancelled)

    @staticmethod
    def _with_total(events: Iterator[Progress], n_files: int) -> Iterator[Progress]:
        for e in events:
            yield Progress(Stage.RESUMING, 0, n_files,
                           "embedding passages left from an earlier run",
                           e.chunks_done, e.chunks_total)


def _status(ex: _Extracted, chunks: list[Chunk]) -> tuple[DocStatus, str]:
    if ex.error is not None and not ex.pages:
        return DocStatus.FAILED, ex.error
    if ex.error is not None and not chunks:
        return DocStatus.FAILED, ex.error
    if not chunks:
        if ex.page_errors:
            return DocStatus.FAILED, "; ".join(f"page {p}: {r}" for p, r in ex.page_errors[:3])
        return DocStatus.FAILED, "no text found (empty document)"
    problems = [f"page {p}: {r}" for p, r in ex.page_errors]
    if ex.error is not None:
        problems.append(ex.error)
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return DocStatus.PARTIAL, "; ".join(problems[:3]) + more
    return DocStatus.INDEXED, ""
