"""A full disk or a read-only data folder while indexing: a clear message, nothing corrupted, and
the next run finishes the work. (Seen for real on a 300 KiB tmpfs: `medsearch index` exits 4
with "the data folder ... is full"; here the same errors are injected, so it runs anywhere.)"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.errors import StorageError
from medsearch_app.core.library.check import check_library
from medsearch_app.core.library.index import VectorIndex
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.library.store import Store
from medsearch_app.core.types import IndexDone

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"


def _finish(home: Path, embedder: Any) -> None:
    lib = Library(home, embedder)
    try:
        done = [e for e in lib.index_paths([NOTES]) if isinstance(e, IndexDone)][-1]
        assert not done.failed
    finally:
        lib.close()
    chk = check_library(home, embedder.key)
    assert chk.consistent and chk.pending == 0
    assert len(chk.documents) == len(list(NOTES.iterdir()))


def test_disk_full_in_the_database(home: Path, embedder: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = Store.save_document
    calls = {"n": 0}

    def filling(self: Store, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, **kw)

    monkeypatch.setattr(Store, "save_document", filling)
    lib = Library(home, embedder)
    try:
        with pytest.raises(StorageError, match=r"is full .*free some space.*kept"):
            list(lib.index_paths([NOTES]))
    finally:
        lib.close()
    chk = check_library(home, embedder.key)
    assert chk.consistent and len(chk.documents) == 2  # the two saved before it filled up
    monkeypatch.setattr(Store, "save_document", real)
    _finish(home, embedder)


def test_read_only_index_folder(home: Path, embedder: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    lib = Library(home, embedder)
    try:
        list(lib.index_paths([NOTES / "ckd_review.txt"]))
        saved = (home / "indexes" / embedder.key / "meta.json").read_text()

        def refuse(self: VectorIndex) -> None:
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(VectorIndex, "save", refuse)
        with pytest.raises(StorageError, match="cannot be written"):
            list(lib.index_paths([NOTES]))
    finally:
        monkeypatch.undo()
        lib.close()
    assert (home / "indexes" / embedder.key / "meta.json").read_text() == saved
    chk = check_library(home, embedder.key)
    assert chk.consistent  # what was kept agrees with the last good index
    _finish(home, embedder)
