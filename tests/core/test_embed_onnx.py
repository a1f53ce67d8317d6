"""The embedder precisions, real models: the ONNX export offline, each precision indexing and
answering, vectors of different precisions never mixing, ONNX at run time without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from medsearch_app.core.answer.rag import AskOptions, answer
from medsearch_app.core.embedding import embed_onnx
from medsearch_app.core.embedding.base import Precision, default_embedder_path
from medsearch_app.core.embedding.embed import load_embedder
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.llm.models import default_model_path
from medsearch_app.core.llm.runtime import LlmRuntime
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.types import AnswerDone

NOTES = {
    "anaphylaxis.md": "Anaphylaxis in adults: give adrenaline 0.5 mg intramuscularly into the "
    "outer thigh, repeat after five minutes if there is no improvement. Lay the patient flat.",
    "gout.txt": "Acute gout flare: colchicine 500 micrograms two or three times a day, or a "
    "short course of naproxen with a proton pump inhibitor. Start allopurinol after the flare.",
    "asthma.md": "Asthma review: check inhaler technique, adherence and triggers before stepping "
    "up treatment. A personal asthma action plan for every patient.",
}
QUESTION = "How much adrenaline for anaphylaxis?"


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notes")
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def llm() -> Any:
    rt = LlmRuntime(default_model_path(), n_ctx=2048, n_threads=2)
    yield rt
    rt.close()


@pytest.mark.slow
def test_onnx_export_works_offline_from_the_packaged_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network (sockets blocked), only the model folder of the PyPI package is read, and the
    files land in the data folder given, not in the installed package."""
    import pytest_socket

    from medsearch_app.core.embedding.embed import needs_preparing

    monkeypatch.setenv("MEDSEARCH_EMBEDDER_CACHE", str(tmp_path / "home" / "embedders"))
    assert needs_preparing(None, "onnx-int8") and needs_preparing(None, "onnx-fp32")
    assert not needs_preparing(None, "fp32") and not needs_preparing(None, "int8")
    model = default_embedder_path()
    before = sorted(p.relative_to(model) for p in model.rglob("*"))
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        folder = embed_onnx.prepare(model, tmp_path / "home" / "embedders")
    finally:
        pytest_socket.enable_socket()
    assert folder.parent == tmp_path / "home" / "embedders"
    assert {p.name for p in folder.iterdir()} == {
        "embedder.json", "model-fp32.onnx", "model-int8.onnx", "tokenizer.json"}
    info = json.loads((folder / "embedder.json").read_text())
    assert info["format"] == embed_onnx.FORMAT and info["dim"] == 384
    assert info["pooling"] == "mean" and info["int8"]["isa"] == embed_onnx.cpu_isa()
    # int8 weights: the quantized file is far smaller than the fp32 export
    assert (folder / "model-int8.onnx").stat().st_size < 0.4 * (
        folder / "model-fp32.onnx").stat().st_size
    assert sorted(p.relative_to(model) for p in model.rglob("*")) == before
    assert not list((tmp_path / "home" / "embedders").glob(".*"))  # no temporary folder left
    assert not needs_preparing(None, "onnx-int8")
    # A second call finds the cache and does not export again.
    stamp = (folder / "model-int8.onnx").stat().st_mtime_ns
    assert embed_onnx.prepare(model, tmp_path / "home" / "embedders") == folder
    assert (folder / "model-int8.onnx").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_onnx_vectors_agree_with_torch(embedder: Any) -> None:
    texts = [*NOTES.values(),
             "Warfarin: aim for an INR between 2 and 3 in atrial fibrillation.",
             "Stop metformin when the eGFR falls below 30 ml/min."]
    ref = embedder.embed_batch(texts)
    fp = load_embedder(None, Precision.ONNX_FP32, threads=2)
    q8 = load_embedder(None, Precision.ONNX_INT8, threads=2)
    try:
        cos_fp = (fp.embed_batch(texts) * ref).sum(axis=1)
        cos_q8 = (q8.embed_batch(texts) * ref).sum(axis=1)
        assert cos_fp.min() > 0.9999  # the same model, another runtime
        assert cos_q8.mean() > 0.98 and cos_q8.min() > 0.95
        assert fp.token_offsets(texts[0]) == embedder.token_offsets(texts[0])
        # Order of the results follows the input, whatever the internal length sorting.
        one_by_one = np.stack([fp.embed_batch([t])[0] for t in texts])
        assert np.allclose(fp.embed_batch(texts), one_by_one, atol=1e-4)
        # int8 quantizes activations per batch, so a vector moves slightly with its batch
        # mates; it still matches its own text best.
        sims = q8.embed_batch(texts) @ np.stack([q8.embed_batch([t])[0] for t in texts]).T
        assert list(sims.argmax(axis=1)) == list(range(len(texts)))
        assert np.diag(sims).min() > 0.98
        assert fp.key != q8.key != embedder.key
    finally:
        fp.close()
        q8.close()


@pytest.mark.slow
def test_leaving_a_core_to_the_reader_keeps_the_vectors(notes: Path, tmp_path: Path) -> None:
    """While the PDF reader works, the ONNX embedder runs one thread fewer (its own second
    session): the same vectors, and every thread again once indexing ends, however it ends."""
    q8 = load_embedder(None, Precision.ONNX_INT8, threads=2)
    texts = list(NOTES.values())
    try:
        full = q8.embed_batch(texts)
        q8.leave_core(True)
        assert q8._session is q8._sessions[1]
        assert np.allclose(q8.embed_batch(texts), full, atol=1e-5)
        q8.leave_core(False)
        assert q8._session is q8._sessions[2]
        one = load_embedder(None, Precision.ONNX_INT8, threads=1)
        one.leave_core(True)  # never below one thread
        assert one._session is one._sessions[1] and len(one._sessions) == 1
        one.close()

        q8.leave_core(True)  # as a run stopped mid-batch would leave it
        (tmp_path / "home").mkdir()
        lib = Library(tmp_path / "home", q8)
        try:
            list(lib.index_paths([notes]))
            assert q8._session is q8._sessions[2]
        finally:
            lib.close()
    finally:
        q8.close()


@pytest.mark.slow
def test_onnx_at_run_time_never_imports_torch() -> None:
    load_embedder(None, Precision.ONNX_INT8, threads=1).close()  # the cache exists
    code = ("import sys; from medsearch_app.core.embedding.embed import load_embedder; "
            "e = load_embedder(None, 'onnx-int8', threads=1); v = e.embed_batch(['a note']); "
            "assert v.shape == (1, 384); print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('torch', 'transformers', 'sentence_transformers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), timeout=120, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("precision", [p.value for p in Precision])
def test_each_precision_indexes_and_answers(precision: str, notes: Path, tmp_path: Path,
                                            llm: Any) -> None:
    emb = load_embedder(None, precision, threads=2)
    (tmp_path / "home").mkdir()
    lib = Library(tmp_path / "home", emb)
    try:
        done = list(lib.index_paths([notes]))[-1]
        assert done.chunks == len(NOTES) and not done.failed
        assert len(lib.index) == len(NOTES)
        res = Retriever(lib).search(QUESTION, k=3, mode="dense")
        assert Path(res.hits[0].path).name == "anaphylaxis.md"
        events = list(answer(QUESTION, retriever=Retriever(lib), llm=llm,
                             options=AskOptions(k=2, max_tokens=24)))
        done_ev = events[-1]
        assert isinstance(done_ev, AnswerDone)
        assert done_ev.precision == precision and done_ev.supported is not None
        assert Path(done_ev.sources[0].path).name == "anaphylaxis.md"
        assert done_ev.answer.strip()
    finally:
        lib.close()
        emb.close()


@pytest.mark.slow
def test_vectors_of_different_precisions_never_mix(notes: Path, tmp_path: Path,
                                                   embedder: Any) -> None:
    """One data folder indexed at fp32 and at onnx-int8: two indexes, each holding its own
    embedder's vectors for the same passages; switching back reuses nothing of the other."""
    home = tmp_path / "home"
    home.mkdir()
    q8 = load_embedder(None, Precision.ONNX_INT8, threads=2)
    try:
        libs = {}
        for emb in (embedder, q8):
            lib = Library(home, emb)
            list(lib.index_paths([notes]))
            libs[emb.key] = lib
        folders = sorted(p.name for p in (home / "indexes").iterdir())
        assert folders == sorted([embedder.key, q8.key])
        for emb in (embedder, q8):
            lib = libs[emb.key]
            ids = sorted(lib.index.ids)
            assert len(ids) == len(NOTES)
            texts = [lib.store.chunks([i])[i].text for i in ids]
            own = emb.embed_batch(texts)
            stored = lib.index.get_vectors(ids)
            assert (own * stored).sum(axis=1).min() > 0.999
        a, b = libs[embedder.key], libs[q8.key]
        ids = sorted(a.index.ids)
        assert ids == sorted(b.index.ids)  # the same passages (one database)
        va, vb = a.index.get_vectors(ids), b.index.get_vectors(ids)
        assert not np.allclose(va, vb, atol=1e-4)  # ... with each precision's own vectors
        for lib in libs.values():
            lib.close()
    finally:
        q8.close()


NO_TORCH = ("import runpy, sys\n"
            "for m in ('torch', 'transformers', 'sentence_transformers', 'scipy', 'sklearn'):\n"
            "    sys.modules[m] = None  # import fails, find_spec says not installed\n"
            "sys.argv = ['medsearch', *sys.argv[1:]]\n"
            "runpy.run_module('medsearch_app', run_name='__main__')\n")


@pytest.mark.slow
def test_the_selftest_passes_without_torch_from_a_shipped_export(tmp_path: Path) -> None:
    """The installed app's case: torch unimportable, the embedder's ONNX graph shipped (made
    by export_to, as packaging/build.sh does). Every check passes; the ONNX embedder is the
    shipped graph quantized here, with no export; fp32 and int8 say they need the developer
    install instead of failing."""
    exports = tmp_path / "exports"
    shipped = embed_onnx.export_to(default_embedder_path(), exports)
    assert sorted(p.name for p in shipped.iterdir()) == sorted(embed_onnx.EXPORT_FILES)
    env = dict(os.environ, MEDSEARCH_ONNX_EXPORTS=str(exports),
               MEDSEARCH_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen")
    env.pop("MEDSEARCH_EMBEDDER_CACHE", None)
    out = subprocess.run([sys.executable, "-c", NO_TORCH, "selftest", "--no-window", "--json"],
                         capture_output=True, text=True, env=env, timeout=600)
    doc = json.loads(out.stdout)
    detail = {c["name"]: c["detail"] for c in doc["checks"]}
    assert out.returncode == 0 and doc["ok"], (out.stderr[-2000:], doc)
    assert "shipped graph quantized" in detail["embedder onnx-int8"]
    assert "cosine" in detail["embedder onnx-fp32"]
    for p in ("fp32", "int8"):
        assert detail[f"embedder {p}"].startswith("not in this install"), detail
        assert "developer install" in detail[f"embedder {p}"]


@pytest.mark.slow
def test_a_shipped_export_gives_the_vectors_of_a_torch_export(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """The ONNX embedder made from a shipped export is the one made by exporting here: the same
    files (the export is deterministic), so the same vectors and the same search results."""
    model = default_embedder_path()
    embed_onnx.export_to(model, tmp_path / "exports")
    monkeypatch.setenv("MEDSEARCH_ONNX_EXPORTS", str(tmp_path / "exports"))
    assert not embed_onnx.needs_export(model, tmp_path / "a")
    a = embed_onnx.prepare(model, tmp_path / "a")
    assert "shipped" in json.loads((a / "embedder.json").read_text())
    monkeypatch.delenv("MEDSEARCH_ONNX_EXPORTS")
    assert embed_onnx.needs_export(model, tmp_path / "b")
    b = embed_onnx.prepare(model, tmp_path / "b")
    for name in ("model-fp32.onnx", "model-int8.onnx", "tokenizer.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_an_export_of_another_model_is_not_used(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped export serves only the model it was made from (its name carries a hash of the
    model's config) and only in the current format."""
    model = default_embedder_path()
    folder = tmp_path / "exports" / embed_onnx.cache_folder(model, tmp_path).name
    folder.mkdir(parents=True)
    for name in embed_onnx.EXPORT_FILES:
        (folder / name).write_text("{}")
    monkeypatch.setenv("MEDSEARCH_ONNX_EXPORTS", str(tmp_path / "exports"))
    (folder / "export.json").write_text(json.dumps({"format": embed_onnx.FORMAT - 1}))
    assert embed_onnx.shipped_export(model) is None
    (folder / "export.json").write_text(json.dumps({"format": embed_onnx.FORMAT}))
    assert embed_onnx.shipped_export(model) == folder
    other = tmp_path / "other" / "model"
    other.mkdir(parents=True)
    (other / "config.json").write_text('{"hidden_size": 8}')
    assert embed_onnx.shipped_export(other) is None
