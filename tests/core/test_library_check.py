"""`medsearch library`: the library as it stands, and whether database and index agree."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from medsearch_app.core.embedding.base import Precision, embedder_key
from medsearch_app.core.library.check import check_library
from medsearch_app.core.library.indexing import Library

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"


def test_key_without_loading_the_model(embedder: Any) -> None:
    assert embedder_key(None, "fp32") == embedder.key
    assert embedder_key(None, Precision.INT8) == embedder.key.replace("-fp32", "-int8")


def test_check_finds_what_is_pending_and_what_is_wrong(home: Path, embedder: Any,
                                                       medsearch: Any) -> None:
    assert check_library(home, embedder.key).documents == []  # no library yet: empty, fine
    lib = Library(home, embedder)
    try:
        for _ in lib.index_paths([NOTES]):
            pass
        chk = check_library(home, embedder.key)
        n_docs = len(list(NOTES.iterdir()))
        assert chk.consistent and chk.problems == [] and chk.pending == 0
        assert len(chk.documents) == n_docs and chk.chunks == sum(
            d.n_chunks for d in chk.documents) > 0
        (active,) = chk.indexes
        assert active.active and active.vectors == chk.chunks and active.stale == 0

        # A passage whose vector was lost is pending (the next sync embeds it), not a fault.
        first = sorted(lib.index.ids)[0]
        lib.index.delete([first])
        lib.index.save()
        chk = check_library(home, embedder.key)
        assert chk.consistent and chk.pending == 1

        # A vector with no passage behind it is a fault.
        lib.index.add([10**9], np.ones((1, embedder.dim), dtype=np.float32))
        lib.index.save()
        chk = check_library(home, embedder.key)
        assert not chk.consistent
        assert any("1 vectors of passages no longer in the database" in p for p in chk.problems)
    finally:
        lib.close()

    # A document whose passage count disagrees with the database is a fault too.
    db = sqlite3.connect(home / "library.sqlite3")
    path = db.execute("SELECT path FROM documents ORDER BY path LIMIT 1").fetchone()[0]
    db.execute("UPDATE documents SET n_chunks = n_chunks + 5 WHERE path = ?", (path,))
    db.commit()
    db.close()

    # The command says the same, as text and as one JSON document, and exits 3.
    # (--precision: the in-process library above is the fp32 fixture's; the default is onnx-int8)
    out = medsearch(home, "library", "--json", "--precision", embedder.precision.value)
    assert out.returncode == 3, out.stderr
    data = json.loads(out.stdout)
    assert data["consistent"] is False and data["chunks"] == chk.chunks
    assert len(data["documents"]) == n_docs and data["totals"]["indexed"] == n_docs
    assert any(path in p and "listed with" in p for p in data["problems"])
    assert data["pending"] == 1 and data["indexes"][0]["stale"] == 1
    text = medsearch(home, "library", "--precision", embedder.precision.value)
    assert text.returncode == 3 and "NOT consistent" in text.stdout


def test_an_unreadable_index_is_reported(home: Path, embedder: Any) -> None:
    lib = Library(home, embedder)
    try:
        for _ in lib.index_paths([NOTES / "ckd_review.txt"]):
            pass
    finally:
        lib.close()
    folder = home / "indexes" / embedder.key
    (bin_file,) = folder.glob("index-*.bin")
    bin_file.write_bytes(bin_file.read_bytes()[:100])
    chk = check_library(home, embedder.key)
    assert not chk.consistent
    assert any("truncated or altered" in p for p in chk.problems)
