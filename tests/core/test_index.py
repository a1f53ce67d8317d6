"""VectorIndex: atomic save and reload, ef after load, growth, deletion, damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medsearch_app.core.library.index import DEFAULT_EF, VectorIndex
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.types import IndexDone

DIM = 32


def _unit(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _saved(folder: Path, n: int = 200, dim: int = DIM) -> tuple[np.ndarray, list[int]]:
    vecs = _unit(n, dim)
    ids = list(range(1000, 1000 + n))
    idx = VectorIndex.open(folder, dim)
    idx.add(ids, vecs)
    idx.save()
    idx.close()
    return vecs, ids


def _bin(folder: Path) -> Path:
    (path,) = folder.glob("index-*.bin")
    return path


def test_save_and_reload(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    vecs, ids = _saved(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["index-1.bin", "meta.json"]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["generation"] == 1 and meta["count"] == len(ids) and meta["dim"] == DIM
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is None
    assert idx.ids == set(ids) and len(idx) == len(ids)
    np.testing.assert_allclose(idx.get_vectors(ids[:5]), vecs[:5], atol=1e-5)
    assert idx.search(vecs[7], 1)[0][0] == ids[7]
    # A second save writes a new generation and removes the old file.
    idx.add([5], _unit(1, seed=9))
    idx.save()
    assert sorted(p.name for p in folder.iterdir()) == ["index-2.bin", "meta.json"]
    idx.close()
    again = VectorIndex.open(folder, DIM)
    assert again.problem is None and 5 in again.ids and len(again) == len(ids) + 1


def test_save_without_changes_is_a_no_op(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder)
    idx = VectorIndex.open(folder, DIM)
    idx.save()
    assert _bin(folder).name == "index-1.bin"


def test_crash_before_commit_keeps_the_previous_index(tmp_path: Path) -> None:
    """Leftovers of a save that died before meta.json was replaced do not matter."""
    folder = tmp_path / "idx"
    _, ids = _saved(folder)
    (folder / "index-2.bin.tmp").write_bytes(b"half written")
    (folder / "index-2.bin").write_bytes(b"never committed")
    (folder / "meta.json.tmp").write_text("{", encoding="utf-8")
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is None and idx.ids == set(ids)


def test_ef_is_restored_after_load_and_recall_is_high(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    n, dim = 2000, 64
    vecs = _unit(n, dim, seed=1)
    idx = VectorIndex.open(folder, dim)
    idx.add(list(range(n)), vecs)
    idx.save()
    idx.close()
    idx = VectorIndex.open(folder, dim)
    assert idx._hnsw.ef == DEFAULT_EF  # hnswlib itself would reset it to 10 on load
    queries = _unit(100, dim, seed=2)
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    found = 0
    for q, truth in zip(queries, exact, strict=True):
        got = [i for i, _ in idx.search(q, 10)]
        assert len(got) == 10
        found += len(set(got) & set(truth.tolist()))
    recall = found / (10 * len(queries))
    assert recall >= 0.95, recall
    # Similarities are cosine, best first.
    res = idx.search(queries[0], 10)
    sims = [s for _, s in res]
    assert sims == sorted(sims, reverse=True)
    assert abs(sims[0] - float(queries[0] @ vecs[res[0][0]])) < 1e-4


def test_grows_past_initial_capacity(tmp_path: Path) -> None:
    idx = VectorIndex.open(tmp_path / "idx", DIM)
    vecs = _unit(5000, seed=3)
    for start in range(0, 5000, 1000):
        idx.add(list(range(start, start + 1000)), vecs[start:start + 1000])
    assert len(idx) == 5000
    assert idx._hnsw.get_max_elements() >= 5000
    for i in (0, 1023, 1024, 4999):
        assert idx.search(vecs[i], 1)[0][0] == i
    idx.save()
    idx.close()
    again = VectorIndex.open(tmp_path / "idx", DIM)
    assert again.problem is None and len(again) == 5000
    again.add([9999], _unit(1, seed=4))  # still room to grow after a reload
    assert len(again) == 5001


def test_deleted_ids_are_never_returned(tmp_path: Path) -> None:
    idx = VectorIndex.open(tmp_path / "idx", DIM)
    vecs = _unit(400, seed=5)
    idx.add(list(range(400)), vecs)
    deleted = list(range(0, 400, 2))
    idx.delete(deleted)
    assert len(idx) == 200 and idx.ids == set(range(1, 400, 2))
    for q in _unit(30, seed=6):
        assert not {i for i, _ in idx.search(q, 20)} & set(deleted)
    # Asking for a deleted vector's neighbours gives live ids only, even with k = all of them.
    res = idx.search(vecs[0], 1000)
    assert len(res) == 200 and not {i for i, _ in res} & set(deleted)
    idx.save()
    idx.close()
    again = VectorIndex.open(tmp_path / "idx", DIM)
    assert again.ids == set(range(1, 400, 2))
    assert not {i for i, _ in again.search(vecs[0], 50)} & set(deleted)


def test_small_index_with_deletions_returns_every_live_id(tmp_path: Path) -> None:
    idx = VectorIndex.open(tmp_path / "idx", DIM)
    idx.add(list(range(60)), _unit(60, seed=7))
    idx.delete(list(range(30)))
    res = idx.search(_unit(1, seed=8)[0], 50)
    assert sorted(i for i, _ in res) == list(range(30, 60))


def test_deleting_twice_or_unknown_ids_does_not_raise(tmp_path: Path) -> None:
    idx = VectorIndex.open(tmp_path / "idx", DIM)
    idx.add([1, 2, 3], _unit(3))
    idx.delete([2])
    idx.delete([2])
    idx.delete([42])
    assert idx.ids == {1, 3}


def test_empty_index_search(tmp_path: Path) -> None:
    idx = VectorIndex.open(tmp_path / "idx", DIM)
    assert idx.search(_unit(1)[0], 5) == []
    assert idx.get_vectors([]).shape == (0, DIM)


def test_truncated_file_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder)
    path = _bin(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is not None and "checksum" in idx.problem
    assert len(idx) == 0  # an empty index to rebuild into, never the damaged file


def test_altered_file_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder)
    path = _bin(folder)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is not None and "checksum" in idx.problem


def test_missing_meta_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder)
    (folder / "meta.json").unlink()
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is not None and "metadata" in idx.problem
    assert len(idx) == 0


def test_missing_index_file_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder)
    _bin(folder).unlink()
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is not None and "missing" in idx.problem


def test_unreadable_meta_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder)
    (folder / "meta.json").write_text("{not json", encoding="utf-8")
    idx = VectorIndex.open(folder, DIM)
    assert idx.problem is not None and "unreadable" in idx.problem


def test_wrong_dimension_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    _saved(folder, dim=DIM)
    idx = VectorIndex.open(folder, 48)
    assert idx.problem is not None and "32" in idx.problem and "48" in idx.problem
    assert len(idx) == 0
    idx.add([1], _unit(1, 48))  # the fresh index has the embedder's dimension
    assert idx.search(_unit(1, 48)[0], 1)[0][0] == 1


def test_fresh_folder_has_no_problem(tmp_path: Path) -> None:
    idx = VectorIndex.open(tmp_path / "new", DIM)
    assert idx.problem is None and len(idx) == 0


@pytest.mark.slow
def test_library_rebuilds_a_corrupt_index(home: Path, embedder, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "warfarin.md").write_text("Warfarin: keep the INR between 2.0 and 3.0 for atrial "
                                       "fibrillation.", encoding="utf-8")
    (notes / "gout.txt").write_text("Gout flares are treated with colchicine; allopurinol "
                                    "lowers urate.", encoding="utf-8")
    lib = Library(home, embedder)
    events = list(lib.index_paths([notes]))
    assert isinstance(events[-1], IndexDone) and events[-1].added == 2
    n = lib.store.chunk_count()
    folder = lib.index.folder
    lib.close()

    path = _bin(folder)
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))

    lib = Library(home, embedder)
    try:
        assert lib.index_problem()
        assert len(lib.index) == 0
        assert lib.pending_ids() == (lib.store.chunk_ids(), [])
        progress = list(lib.reconcile())
        assert progress and progress[-1].done == progress[-1].total == n
        assert lib.index_problem() is None
        assert lib.pending_ids() == ([], [])
        hit = Retriever(lib).search("What INR range for warfarin?", k=2, mode="dense").hits[0]
        assert hit.path.endswith("warfarin.md")
    finally:
        lib.close()
    # The rebuilt index was saved: a new session opens it cleanly.
    lib = Library(home, embedder)
    try:
        assert lib.index_problem() is None and len(lib.index) == n
    finally:
        lib.close()


def test_an_index_built_with_a_sparser_graph_is_relinked_on_open(tmp_path: Path) -> None:
    """Indexes saved with M=16 (older versions) are rebuilt with today's M, vectors kept."""
    from medsearch_app.core.library import index as index_mod

    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(300, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    old_m = index_mod.M
    index_mod.M = 16
    try:
        idx = index_mod.VectorIndex.open(tmp_path / "ix", 8)
        idx.add(list(range(1, 301)), vecs)
        idx.save()
        idx.close()
    finally:
        index_mod.M = old_m
    idx = index_mod.VectorIndex.open(tmp_path / "ix", 8)
    try:
        assert idx.problem is None and idx._hnsw.M == old_m > 16
        assert sorted(idx.ids) == list(range(1, 301))
        assert np.allclose(idx.get_vectors([7]), vecs[6:7], atol=1e-5)
        assert idx.search(vecs[41], 1)[0][0] == 42
        idx.save()
    finally:
        idx.close()
    again = index_mod.VectorIndex.open(tmp_path / "ix", 8)
    relinked_m = again._hnsw.M
    again.close()
    assert relinked_m == index_mod.M
