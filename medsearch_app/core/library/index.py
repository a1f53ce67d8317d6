"""One hnswlib vector index per (embedder, precision): open, add, delete, search, save, close.

On disk a folder holds `index-<gen>.bin` and `meta.json`. Saving writes a new generation file,
then atomically replaces meta.json (the single commit point), then removes the old file, so a
crash at any moment leaves either the old or the new index, never a torn one. meta.json carries
the file's SHA-256, the dimension and the ids it holds; open() verifies them before hnswlib sees
the file (corrupt files can crash hnswlib) and reports what it found so the caller can rebuild.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import MedSearchError
from ..system.hashing import file_sha256

log = logging.getLogger(__name__)

FORMAT = 1
# M=16 left real libraries' graphs disconnected: on the 17 shared PDFs (3023 MiniLM chunks,
# many near-duplicates: running heads, reference lists) a query whose best chunk has cosine 0.60
# got 0.37 back even with ef = n; M=32 / ef_construction=400 found the exact top 1 (bench/
# bench_retrieval.py checks recall against exact search).
EF_CONSTRUCTION = 400
M = 32
DEFAULT_EF = 128
ADD_SLICE = 1  # vectors inserted per hold of the index lock (see VectorIndex.add)


class IndexProblem(MedSearchError):
    """The index on disk is missing, truncated or does not match; it must be rebuilt."""


class VectorIndex:
    """Owner of one hnswlib index. Thread-safe; call save() to persist and close() to free."""

    def __init__(self, folder: Path, dim: int, *, ef: int = DEFAULT_EF) -> None:
        import hnswlib

        self.folder = folder
        self.dim = dim
        self.ef = ef
        self._lock = threading.RLock()
        self._readers_waiting = 0  # searches queued for the lock (see _reading)
        self._count_lock = threading.Lock()  # guards _readers_waiting
        self._ids: set[int] = set()
        self._gen = 0
        self._dirty = False
        self._hnsw = hnswlib.Index(space="cosine", dim=dim)
        self._hnsw.init_index(max_elements=1024, ef_construction=EF_CONSTRUCTION, M=M,
                              allow_replace_deleted=False)
        self._hnsw.set_ef(ef)
        self.problem: str | None = None
        self._stamp: tuple[int, int] | None = None  # meta.json as last loaded or saved

    # ---- persistence -----------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, dim: int, *, ef: int = DEFAULT_EF) -> VectorIndex:
        """Load the saved index, or start an empty one and set `.problem` if it was unusable."""
        folder.mkdir(parents=True, exist_ok=True)
        idx = cls(folder, dim, ef=ef)
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            if any(folder.glob("index-*.bin")):
                idx.problem = "index metadata is missing"
            return idx
        try:
            idx._load(meta_path)
        except IndexProblem as exc:
            idx.problem = str(exc)
            log.warning("vector index %s unusable: %s", folder, exc)
        return idx

    def _meta_stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.folder / "meta.json").stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def saved_generation(self) -> int | None:
        """The generation the folder's meta.json names now (another process may have saved a
        newer one than this object holds), or None when there is none or it cannot be read."""
        try:
            meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
            return int(meta["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def refresh(self) -> bool:
        """Load what another process saved since this index was loaded or saved. Returns True
        when it did; unsaved changes here are never thrown away, and a saved index that cannot
        be read leaves this one as it is."""
        stamp = self._meta_stamp()
        if stamp == self._stamp or self._dirty:
            return False  # one stat, no lock: cheap enough to call before every search
        with self._reading():
            gen = self.saved_generation()
            if gen is None or gen == self._gen:
                self._stamp = stamp
                return False
            try:
                self._load(self.folder / "meta.json")
            except IndexProblem as exc:
                log.warning("vector index %s not refreshed: %s", self.folder, exc)
                return False
            return True

    def _load(self, meta_path: Path) -> None:
        import hnswlib

        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            gen, ids, dim = int(meta["generation"]), meta["ids"], int(meta["dim"])
            sha, fmt = str(meta["sha256"]), int(meta["format"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexProblem(f"index metadata is unreadable ({exc})") from exc
        if fmt != FORMAT:
            raise IndexProblem(f"index format {fmt} is not {FORMAT}")
        if dim != self.dim:
            raise IndexProblem(f"index holds {dim}-dim vectors, the embedder makes {self.dim}")
        path = self.folder / f"index-{gen}.bin"
        if not path.exists():
            raise IndexProblem("index file is missing")
        if file_sha256(path) != sha:
            raise IndexProblem("index file is truncated or altered (checksum mismatch)")
        hnsw = hnswlib.Index(space="cosine", dim=dim)
        hnsw.load_index(str(path), max_elements=max(1024, len(ids) * 2))
        hnsw.set_ef(self.ef)  # ef is not saved by hnswlib: it resets to 10 on load
        if hnsw.element_count < len(ids):
            raise IndexProblem("index holds fewer vectors than its metadata lists")
        self._hnsw, self._ids, self._gen = hnsw, {int(i) for i in ids}, gen
        self._stamp = self._meta_stamp()
        if hnsw.M < M:  # built by an older version with a sparser graph (see M above)
            self._relink()

    def _relink(self) -> None:
        """Rebuild the graph with today's M from the stored vectors (saved by the next save)."""
        import hnswlib

        ids = sorted(self._ids)
        fresh = hnswlib.Index(space="cosine", dim=self.dim)
        fresh.init_index(max_elements=max(1024, len(ids) * 2), ef_construction=EF_CONSTRUCTION,
                         M=M, allow_replace_deleted=False)
        if ids:
            fresh.add_items(np.asarray(self._hnsw.get_items(ids), dtype=np.float32),
                            np.asarray(ids, dtype=np.int64), num_threads=1)
        fresh.set_ef(self.ef)
        log.info("vector index %s relinked with M=%d (%d vectors)", self.folder, M, len(ids))
        self._hnsw, self._dirty = fresh, True

    def save(self) -> None:
        """Persist atomically (new generation file, then meta.json replaced, then old removed)."""
        with self._lock:
            if not self._dirty and (self.folder / "meta.json").exists():
                return
            gen = self._gen + 1
            path = self.folder / f"index-{gen}.bin"
            tmp = path.with_suffix(".bin.tmp")
            try:
                self._hnsw.save_index(str(tmp))
                with tmp.open("rb") as f:
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)  # a disk that filled up keeps the last good index
                raise
            meta = {"format": FORMAT, "generation": gen, "dim": self.dim,
                    "sha256": file_sha256(path), "count": len(self._ids),
                    "ids": sorted(self._ids)}
            mtmp = self.folder / "meta.json.tmp"
            with mtmp.open("w", encoding="utf-8") as f:
                json.dump(meta, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(mtmp, self.folder / "meta.json")
            self._stamp = self._meta_stamp()
            old = self.folder / f"index-{self._gen}.bin"
            self._gen = gen
            self._dirty = False
            for stale in self.folder.glob("index-*.bin*"):
                if stale.name != path.name:
                    stale.unlink(missing_ok=True)
            del old

    def close(self) -> None:
        with self._lock:
            self._hnsw = None

    # ---- contents --------------------------------------------------------------------------
    @property
    def ids(self) -> set[int]:
        with self._lock:
            return set(self._ids)

    def present(self, ids: Sequence[int]) -> list[int]:
        """The given ids that have a vector, in order (no copy of the id set, no lock: each
        membership test is atomic, and an id being added is simply not there yet)."""
        return [i for i in ids if i in self._ids]

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """The lock, for a search. Python's locks are not fair: a writer that lets go and takes
        the lock again at once would starve a waiting search for a whole batch, so a search
        says it is waiting and add() steps aside between slices (_let_readers_in)."""
        with self._count_lock:
            self._readers_waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._count_lock:
                self._readers_waiting -= 1
        try:
            yield
        finally:
            self._lock.release()

    def _let_readers_in(self) -> None:
        """Before the writer takes the lock again: give waiting searches their turn (bounded,
        so that a writer never stalls for more than a few milliseconds)."""
        deadline = time.monotonic() + 0.05
        while self._readers_waiting and time.monotonic() < deadline:
            time.sleep(0.0005)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add vectors labelled by chunk id, growing the index as needed.

        Inserted ADD_SLICE at a time, the lock let go in between: in a large index one insert
        takes milliseconds, and a search from another thread (a question asked while the library
        indexes) waits for one slice, not for the whole batch."""
        if len(ids) == 0:
            return
        vecs = np.asarray(vectors, dtype=np.float32)
        labels = np.asarray(ids, dtype=np.int64)
        for a in range(0, len(labels), ADD_SLICE):
            self._let_readers_in()
            with self._lock:
                part = labels[a:a + ADD_SLICE]
                need = self._hnsw.element_count + len(part)
                cap = self._hnsw.get_max_elements()
                if need > cap:
                    self._hnsw.resize_index(max(need, cap * 2))
                self._hnsw.add_items(vecs[a:a + ADD_SLICE], part, num_threads=1)
                self._ids.update(int(i) for i in part)
                self._dirty = True

    def delete(self, ids: Sequence[int]) -> None:
        """Mark vectors deleted (hnswlib raises on an already-deleted label: skip those)."""
        with self._lock:
            for i in ids:
                if int(i) in self._ids:
                    self._hnsw.mark_deleted(int(i))
                    self._ids.discard(int(i))
                    self._dirty = True

    def get_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Stored (unit-length) vectors of the given ids, shape (len(ids), dim)."""
        with self._reading():
            if not ids:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.asarray(self._hnsw.get_items(list(ids)), dtype=np.float32)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Nearest chunks by cosine similarity: (chunk_id, similarity), best first."""
        with self._reading():
            n = len(self._ids)
            if n == 0:
                return []
            k = min(k, n)
            self._hnsw.set_ef(max(self.ef, k))
            labels, dists = self._hnsw.knn_query(np.asarray(vector, dtype=np.float32)
                                                 .reshape(1, -1), k=k)
        return [(int(lab), float(1.0 - d)) for lab, d in zip(labels[0], dists[0], strict=True)]
