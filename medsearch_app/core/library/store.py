"""The library's metadata in SQLite (WAL): folders, documents, chunks, failures, keyword index.

One Store owns two connections: the writer's, behind a lock shared by the indexing thread and
everything that changes the library, and a read-only one for searches (chunk texts, keyword
search, term counts), so that a question asked while the library indexes never queues behind a
write (WAL lets a reader see the last commit while a writer works). The FTS5 table mirrors
`chunks` through triggers (BM25 keyword search).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text.query_words import query_terms
from ..types import Chunk, DocStatus
from . import keyword_query

SCHEMA = """
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY,
  path TEXT UNIQUE NOT NULL,
  kind TEXT NOT NULL,
  sha256 TEXT,
  size INTEGER,
  mtime REAL,
  status TEXT NOT NULL DEFAULT 'pending',
  reason TEXT NOT NULL DEFAULT '',
  n_pages INTEGER NOT NULL DEFAULT 0,
  n_chunks INTEGER NOT NULL DEFAULT 0,
  updated REAL
);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused: they label index vectors
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  page INTEGER,
  page_label TEXT,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS page_failures (
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  page INTEGER,
  reason TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, row);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""

@dataclass(frozen=True)
class DocRow:
    id: int
    path: str
    kind: str
    sha256: str | None
    size: int | None
    mtime: float | None
    status: DocStatus
    reason: str
    n_pages: int
    n_chunks: int


def _doc_row(r: tuple[Any, ...]) -> DocRow:
    return DocRow(id=r[0], path=r[1], kind=r[2], sha256=r[3], size=r[4], mtime=r[5],
                  status=DocStatus(r[6]), reason=r[7], n_pages=r[8], n_chunks=r[9])


@dataclass(frozen=True)
class ChunkRow:
    id: int
    doc_id: int
    path: str
    page: int | None
    page_label: str | None
    start: int
    end: int
    text: str


def _salvage_roots(path: Path) -> list[str]:
    """The library folders listed in a damaged database, where that part can still be read."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return [str(r[0]) for r in db.execute("SELECT path FROM roots")]
        finally:
            db.close()
    except sqlite3.Error:
        return []


def open_store(path: Path) -> tuple[Store, str | None]:
    """Open the library database. A damaged one is kept aside (renamed with its journal files),
    a new one is started with the library folders that could still be read from it, and the
    second value says what happened (None when the database was fine)."""
    try:
        return Store(path), None
    except sqlite3.OperationalError:
        raise  # cannot open (a missing folder, permissions, locked): not a damaged file
    except sqlite3.DatabaseError as exc:
        reason = str(exc)
    roots = _salvage_roots(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            src.replace(aside.with_name(aside.name + suffix))
    store = Store(path)
    for r in roots:
        store.add_root(r)
    return store, (f"the library database was damaged ({reason}); it was kept aside as "
                   f"{aside.name} and the library is being rebuilt from its {len(roots)} "
                   "folder(s)")


class Store:
    """Owner of the library database connection. Call close() when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._db.commit()
        self._rlock = threading.Lock()
        self._reader = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._reader.execute("PRAGMA query_only=ON")
        self._frequencies = keyword_query.TermFrequencies()  # used under _rlock

    def close(self) -> None:
        with self._rlock:
            self._reader.close()
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The read-only connection, for searches (see the module docstring)."""
        with self._rlock:
            yield self._reader

    # ---- roots -----------------------------------------------------------------------------
    def add_root(self, path: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO roots VALUES (?, ?)", (path, time.time()))

    def remove_root(self, path: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM roots WHERE path = ?", (path,))

    def roots(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT path FROM roots ORDER BY path")]

    # ---- documents -------------------------------------------------------------------------
    def documents(self) -> list[DocRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, path, kind, sha256, size, mtime, status, reason, n_pages, n_chunks "
                "FROM documents ORDER BY path"
            ).fetchall()
        return [_doc_row(r) for r in rows]

    def document(self, path: str) -> DocRow | None:
        with self._lock:
            r = self._db.execute(
                "SELECT id, path, kind, sha256, size, mtime, status, reason, n_pages, n_chunks "
                "FROM documents WHERE path = ?", (path,)
            ).fetchone()
        return _doc_row(r) if r else None

    def save_document(
        self,
        *,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        mtime: float,
        status: DocStatus,
        reason: str,
        n_pages: int,
        chunks: Sequence[Chunk],
        page_failures: Iterable[tuple[int | None, str]] = (),
    ) -> tuple[int, list[int]]:
        """Replace a document's row, chunks and failures in one transaction; return new ids."""
        with self._lock, self._db:
            cur = self._db.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
            if cur:
                doc_id = int(cur[0])
                self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                self._db.execute("DELETE FROM page_failures WHERE doc_id = ?", (doc_id,))
                self._db.execute(
                    "UPDATE documents SET kind=?, sha256=?, size=?, mtime=?, status=?, reason=?, "
                    "n_pages=?, n_chunks=?, updated=? WHERE id=?",
                    (kind, sha256, size, mtime, str(status), reason, n_pages, len(chunks),
                     time.time(), doc_id),
                )
            else:
                c = self._db.execute(
                    "INSERT INTO documents (path, kind, sha256, size, mtime, status, reason, "
                    "n_pages, n_chunks, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (path, kind, sha256, size, mtime, str(status), reason, n_pages,
                     len(chunks), time.time()),
                )
                doc_id = int(c.lastrowid or 0)
            ids: list[int] = []
            for ch in chunks:
                c = self._db.execute(
                    'INSERT INTO chunks (doc_id, page, page_label, start, "end", text) '
                    "VALUES (?,?,?,?,?,?)",
                    (doc_id, ch.page, ch.page_label, ch.start, ch.end, ch.text),
                )
                ids.append(int(c.lastrowid or 0))
            self._db.executemany(
                "INSERT INTO page_failures VALUES (?,?,?)",
                [(doc_id, p, r) for p, r in page_failures],
            )
        return doc_id, ids

    def delete_document(self, path: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM documents WHERE path = ?", (path,))

    def page_failures(self, path: str) -> list[tuple[int | None, str]]:
        with self._lock:
            return [
                (r[0], r[1])
                for r in self._db.execute(
                    "SELECT f.page, f.reason FROM page_failures f JOIN documents d "
                    "ON d.id = f.doc_id WHERE d.path = ? ORDER BY f.page", (path,)
                )
            ]

    # ---- chunks ----------------------------------------------------------------------------
    def chunk_ids(self) -> list[int]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM chunks ORDER BY id")]

    def chunks_per_document(self) -> dict[int, int]:
        with self._lock:
            return {int(d): int(n) for d, n in self._db.execute(
                "SELECT doc_id, count(*) FROM chunks GROUP BY doc_id")}

    def chunk_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        out: dict[int, ChunkRow] = {}
        with self._read() as db:
            for i in range(0, len(ids), 500):
                part = list(ids[i : i + 500])
                q = ",".join("?" * len(part))
                for r in db.execute(
                    'SELECT c.id, c.doc_id, d.path, c.page, c.page_label, c.start, c."end", '
                    f"c.text FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({q})",
                    part,
                ):
                    out[r[0]] = ChunkRow(*r)
        return out

    # ---- keyword search ----------------------------------------------------------------------
    def keyword_search(self, question: str, k: int) -> list[tuple[int, float]]:
        """BM25 over chunk text; returns (chunk_id, score) with higher = better."""
        terms = query_terms(question)
        if not terms:
            return []
        with self._read() as db:
            terms = self._frequencies.informative(db, terms)
            if not terms:
                return []
            extra = [a for t in terms for a in keyword_query.other_names(db, t)]
            match = " OR ".join(dict.fromkeys([f'"{t}"' for t in terms] + extra))
            rows = db.execute(
                "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY bm25(chunks_fts) LIMIT ?",
                (match, k),
            ).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def has_any_word(self, words: Sequence[str]) -> bool:
        """Whether some chunk holds one of the words (as the keyword index reads it: stemmed)."""
        if not words:
            return False
        with self._read() as db:
            return keyword_query.has_any(db, words)

    def vocabulary(self) -> list[str]:
        """Every (porter-stemmed) word of the keyword index, sorted."""
        with self._read() as db:
            return [r[0] for r in db.execute("SELECT term FROM chunks_vocab ORDER BY term")]

    def texts_matching(self, fts_query: str, limit: int = 2000) -> list[str]:
        """Texts of (at most `limit`) chunks matching an FTS5 query, for pattern checks that
        must not read the whole library."""
        with self._read() as db:
            return [r[0] for r in db.execute(
                "SELECT c.text FROM chunks c WHERE c.id IN (SELECT rowid FROM chunks_fts "
                "WHERE chunks_fts MATCH ? LIMIT ?)", (fts_query, limit))]

    def term_chunk_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """How many chunks contain each term or a close variant of it.

        A term also matches words sharing its first 60% of letters (at least 5), so British and
        American spellings and word forms count ("normalised"/"normalized",
        "oligometastases"/"oligometastatic"); a drug the library never names still counts 0.
        """
        out: dict[str, int] = {}
        with self._read() as db:
            for t in terms:
                parts = [p for p in re.split(r"[^a-z0-9]+", t.lower()) if p]
                if not parts:
                    continue
                # Exact (porter-stemmed) match, or any word sharing the first 60% of letters
                # (the index holds stems, so a longer prefix would miss "normalized" -> normal).
                q = " AND ".join(
                    f'("{p}" OR "{p[: max(5, -(-len(p) * 3 // 5))]}"*)' if len(p) > 5
                    else f'"{p}"' for p in parts)
                r = db.execute(
                    "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (q,)
                ).fetchone()
                out[t] = int(r[0])
        return out
