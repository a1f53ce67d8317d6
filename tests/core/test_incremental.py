"""Incremental indexing: unchanged files skipped, changes re-indexed, deletions dropped, resume."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from medsearch_app.core.library.indexing import Library
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.types import FileIndexed, IndexDone

NOTES = {
    "asthma.md": "Asthma: step up to an inhaled corticosteroid when reliever use exceeds twice "
                 "a week. Budesonide-formoterol can be used as reliever and maintenance.",
    "gout.txt": "Gout: treat flares with colchicine or naproxen, then start allopurinol to keep "
                "serum urate below 360 micromol/L.",
    "sepsis.md": "Sepsis: give broad-spectrum antibiotics within one hour and 30 mL/kg "
                 "crystalloid for hypotension; norepinephrine if the MAP stays below 65.",
    "migraine.txt": "Migraine: sumatriptan 50 mg at onset with naproxen; propranolol or "
                    "topiramate prevent frequent attacks.",
    "thyroid.md": "Hypothyroidism: levothyroxine 1.6 micrograms per kg daily, TSH checked six "
                  "to eight weeks after each dose change.",
}


def _write_notes(folder: Path, names: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or list(NOTES):
        (folder / name).write_text(NOTES[name], encoding="utf-8")
    return folder


def _run(lib: Library, paths: list[Path], **kw) -> tuple[list[FileIndexed], IndexDone]:
    events = list(lib.index_paths(paths, **kw))
    done = events[-1]
    assert isinstance(done, IndexDone)
    return [e for e in events if isinstance(e, FileIndexed)], done


def _consistent(lib: Library) -> None:
    """Every chunk has exactly one vector and no vector lacks a chunk."""
    assert lib.pending_ids() == ([], [])
    assert len(lib.index) == lib.store.chunk_count()
    assert lib.index.ids == set(lib.store.chunk_ids())


@pytest.fixture
def lib(home: Path, embedder):
    lib = Library(home, embedder)
    yield lib
    lib.close()


def test_rerun_skips_unchanged_files(lib: Library, tmp_path: Path) -> None:
    folder = _write_notes(tmp_path / "notes", ["asthma.md", "gout.txt", "sepsis.md"])
    _, first = _run(lib, [folder])
    assert first.added == 3 and first.chunks == lib.store.chunk_count() > 0
    ids_before = lib.store.chunk_ids()
    files, second = _run(lib, [folder])
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert second.chunks == 0 and second.failed == []
    assert {f.status for f in files} == {"unchanged"}
    assert lib.store.chunk_ids() == ids_before  # nothing re-chunked, nothing re-embedded
    _consistent(lib)


def test_sync_rescans_library_folders(lib: Library, tmp_path: Path) -> None:
    folder = _write_notes(tmp_path / "notes", ["asthma.md"])
    _run(lib, [folder])
    _write_notes(folder, ["gout.txt"])
    events = list(lib.sync())
    done = events[-1]
    assert isinstance(done, IndexDone)
    assert done.added == 1 and done.unchanged == 1
    _consistent(lib)


def test_modified_file_is_reindexed_and_old_text_is_gone(lib: Library, tmp_path: Path) -> None:
    folder = _write_notes(tmp_path / "notes", ["asthma.md", "gout.txt"])
    _run(lib, [folder])
    gout = folder / "gout.txt"
    old_ids = {r.id for r in lib.store.chunks(lib.store.chunk_ids()).values()
               if r.path == str(gout.resolve())}
    assert old_ids
    gout.write_text("Hyperkalaemia: give calcium gluconate, then insulin with dextrose.",
                    encoding="utf-8")
    files, done = _run(lib, [folder])
    assert (done.added, done.updated, done.unchanged, done.removed) == (0, 1, 1, 0)
    assert {f.path: f.status for f in files}[str(gout.resolve())] == "indexed"
    retr = Retriever(lib)
    for mode in ("keyword", "dense", "hybrid"):
        hits = retr.search("colchicine allopurinol urate gout flare", k=10, mode=mode).hits
        assert all("colchicine" not in h.text for h in hits), mode
        assert not {h.chunk_id for h in hits} & old_ids
    top = retr.search("How is hyperkalaemia treated?", k=3, mode="hybrid").hits[0]
    assert top.path == str(gout.resolve()) and "calcium gluconate" in top.text
    # The old chunks' vectors are gone too, not only their rows.
    assert not lib.index.ids & old_ids
    _consistent(lib)


def test_deleted_file_is_removed_with_its_vectors(lib: Library, tmp_path: Path) -> None:
    folder = _write_notes(tmp_path / "notes", ["asthma.md", "gout.txt", "migraine.txt"])
    _run(lib, [folder])
    n_before = lib.store.chunk_count()
    (folder / "migraine.txt").unlink()
    _, done = _run(lib, [folder])
    assert done.removed == 1 and done.unchanged == 2 and done.added == 0
    assert lib.store.document(str((folder / "migraine.txt").resolve())) is None
    assert lib.store.chunk_count() < n_before
    _consistent(lib)
    hits = Retriever(lib).search("sumatriptan for migraine", k=10, mode="hybrid").hits
    assert all("migraine" not in h.path for h in hits)


def test_remove_paths_drops_documents_and_vectors(lib: Library, tmp_path: Path) -> None:
    folder = _write_notes(tmp_path / "notes", ["asthma.md", "gout.txt"])
    _run(lib, [folder])
    assert lib.remove_paths([folder / "gout.txt"]) == 1
    assert [d.path for d in lib.store.documents()] == [str((folder / "asthma.md").resolve())]
    _consistent(lib)


def test_missing_path_raises(lib: Library, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(lib.index_paths([tmp_path / "nope"]))


def test_interrupted_run_resumes_without_duplicates(home: Path, embedder,
                                                    tmp_path: Path) -> None:
    folder = _write_notes(tmp_path / "notes")
    cancel = threading.Event()
    lib = Library(home, embedder)
    first_files: list[FileIndexed] = []
    events = []
    for ev in lib.index_paths([folder], cancel=cancel):
        events.append(ev)
        if isinstance(ev, FileIndexed):
            first_files.append(ev)
            cancel.set()
    done1 = events[-1]
    assert isinstance(done1, IndexDone) and done1.cancelled
    assert 1 <= len(first_files) < len(NOTES)
    missing, stale = lib.pending_ids()
    assert missing, "chunks committed before embedding are waiting for vectors"
    assert stale == []
    lib.close()

    # A new session (as after a restart) picks up where the first one stopped.
    lib = Library(home, embedder)
    try:
        assert lib.index_problem() is None
        files, done2 = _run(lib, [folder])
        assert not done2.cancelled and done2.failed == []
        status = {f.path: f.status for f in files}
        for f in first_files:
            assert status[f.path] == "unchanged"
        assert done2.unchanged == len(first_files)
        assert done2.added == len(NOTES) - len(first_files)
        _consistent(lib)
        # Each note is found, and by exactly one vector per chunk.
        hit = Retriever(lib).search("levothyroxine dose and TSH", k=3, mode="dense").hits[0]
        assert hit.path.endswith("thyroid.md")
        first = Path(first_files[0].path).name
        q = {"asthma.md": "inhaled corticosteroid asthma", "gout.txt": "allopurinol gout",
             "sepsis.md": "sepsis antibiotics", "migraine.txt": "sumatriptan migraine",
             "thyroid.md": "levothyroxine"}[first]
        hits = Retriever(lib).search(q, k=5, mode="dense").hits
        assert hits[0].path.endswith(first)
        assert len({h.chunk_id for h in hits}) == len(hits)
    finally:
        lib.close()
    # A third run finds nothing to do.
    lib = Library(home, embedder)
    try:
        _, done3 = _run(lib, [folder])
        assert done3.unchanged == len(NOTES) and done3.chunks == 0
        _consistent(lib)
    finally:
        lib.close()
