"""The library as it stands: each document, the passage count, and whether the database and the
vector indexes agree (`medsearch library`, the window's library pane, the kill test).

Loads no model: the indexes are opened from their own metadata, and the active index is named
by embedder_key() from the settings. A passage of the database without a vector in the active
index is pending (`medsearch index` or the window's next sync embeds it); a vector without a
passage, an index that cannot be read, or a document whose passage count disagrees with the
database is a problem: the library is then not consistent.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .index import VectorIndex
from .store import DocRow, Store


@dataclass(frozen=True)
class IndexCheck:
    key: str  # embedder and precision
    active: bool  # the index the current settings search
    vectors: int
    missing: int  # passages without a vector here (pending)
    stale: int  # vectors of passages no longer in the database
    problem: str | None  # why the saved index is unusable, if it is


@dataclass(frozen=True)
class LibraryCheck:
    documents: list[DocRow]
    chunks: int
    indexes: list[IndexCheck]
    problems: list[str]

    @property
    def consistent(self) -> bool:
        return not self.problems

    @property
    def pending(self) -> int:
        """Passages still to be embedded into the active index."""
        return next((i.missing for i in self.indexes if i.active), self.chunks)

    def to_json(self) -> dict[str, Any]:
        docs = [{"path": d.path, "kind": d.kind, "status": d.status.value, "pages": d.n_pages,
                 "chunks": d.n_chunks, "size": d.size, "reason": d.reason or None}
                for d in self.documents]
        by_status: dict[str, int] = {}
        for d in self.documents:
            by_status[d.status.value] = by_status.get(d.status.value, 0) + 1
        return {"documents": docs, "totals": {"documents": len(docs), **by_status},
                "chunks": self.chunks, "pending": self.pending,
                "indexes": [asdict(i) for i in self.indexes],
                "consistent": self.consistent, "problems": list(self.problems)}


def _index_dim(folder: Path) -> int | None:
    try:
        return int(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["dim"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_library(home: Path, active_key: str | None) -> LibraryCheck:
    """Read the library in `home` and check it. Nothing is written or repaired."""
    db_path = home / "library.sqlite3"
    if not db_path.exists():
        return LibraryCheck([], 0, [], [])
    problems: list[str] = []
    try:
        store = Store(db_path)
    except sqlite3.DatabaseError as exc:
        return LibraryCheck([], 0, [], [f"the library database cannot be read: {exc}"])
    try:
        docs = store.documents()
        ids = set(store.chunk_ids())
        held = store.chunks_per_document()
    finally:
        store.close()
    for d in docs:
        have = held.get(d.id, 0)
        if have != d.n_chunks:
            problems.append(f"{d.path}: listed with {d.n_chunks} passages, the database holds "
                            f"{have}")
    indexes: list[IndexCheck] = []
    root = home / "indexes"
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        active = folder.name == active_key
        dim = _index_dim(folder)
        if dim is None:
            if active or any(folder.glob("index-*.bin")):
                problems.append(f"index {folder.name}: its metadata is missing or unreadable")
            indexes.append(IndexCheck(folder.name, active, 0, len(ids), 0,
                                      "metadata missing or unreadable"))
            continue
        idx = VectorIndex.open(folder, dim)
        try:
            have_ids = idx.ids
        finally:
            idx.close()
        stale = len(have_ids - ids)
        if idx.problem:
            problems.append(f"index {folder.name}: {idx.problem}")
        if stale:
            problems.append(f"index {folder.name}: {stale} vectors of passages no longer in the "
                            "database")
        indexes.append(IndexCheck(folder.name, active, len(have_ids), len(ids - have_ids), stale,
                                  idx.problem))
    return LibraryCheck(docs, len(ids), indexes, problems)
