"""Retrieval modes, support judgement, `medsearch ask/search --json`, cancellation, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from medsearch_app.core.engine import Engine
from medsearch_app.core.llm.models import DEFAULT_MODEL_FILE
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.types import AnswerDone, Retrieved, Token

# question -> (file name, page) that must come first
QUESTIONS = {
    "What INR target should warfarin aim for?": ("multipage.pdf", 2),
    "What CURB-65 score suggests hospital admission for pneumonia?": ("multipage.pdf", 1),
    "When should metformin be stopped because of kidney function?": ("multipage.pdf", 3),
    "What is the adult dose of amoxicillin?": ("table.pdf", 1),
    "Which ACE inhibitor starts hypertension treatment?": ("two_column.pdf", 1),
    "How much intramuscular adrenaline is given for anaphylaxis?": ("anaphylaxis.md", None),
    "Which vasopressor is used first in septic shock?": ("page_labels.pdf", 4),
    "Which antibiotic for febrile neutropenia above 38 °C?": ("fever_cp1252.txt", None),
    "How is hyperkalaemia treated?": ("encrypted_owner.pdf", 1),
}
UNSUPPORTED = "What is the dose of natalizumab for multiple sclerosis?"
WARFARIN_Q = "What INR target should warfarin aim for in atrial fibrillation?"


# ---- retrieval over the generated corpus (in process) -----------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
@pytest.mark.parametrize("question", list(QUESTIONS))
def test_every_mode_puts_the_right_document_first(indexed, mode: str, question: str) -> None:
    name, page = QUESTIONS[question]
    res = Retriever(indexed.lib).search(question, k=5, mode=mode)
    assert res.hits, "no hits"
    top = res.hits[0]
    assert (Path(top.path).name, top.page) == (name, page)
    assert res.supported, res.reason
    assert [h.rank for h in res.hits] == list(range(1, len(res.hits) + 1))
    scores = [h.score for h in res.hits]
    assert scores == sorted(scores, reverse=True)
    assert len(res.hits) <= 5


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_question_about_something_never_mentioned_is_unsupported(indexed, mode: str) -> None:
    res = Retriever(indexed.lib).search(UNSUPPORTED, k=5, mode=mode)
    assert not res.supported
    assert "natalizumab" in res.missing_terms
    assert "natalizumab" in res.reason


@pytest.mark.slow
def test_hybrid_scores_carry_both_signals(indexed) -> None:
    res = Retriever(indexed.lib).search("warfarin INR target", k=3, mode="hybrid")
    top = res.hits[0]
    assert top.dense_score is not None and top.keyword_score is not None
    assert 0 < top.dense_score <= 1 and top.keyword_score > 0


# ---- the CLI, on a small library indexed with `medsearch index` -----------------------------
@pytest.fixture(scope="module")
def cli_lib(tmp_path_factory, docs, medsearch) -> tuple[Path, Path]:
    """(MEDSEARCH_HOME, documents folder) after `medsearch index FOLDER --json`."""
    home = tmp_path_factory.mktemp("cli-home")
    # One thread: on a shared 2-core machine llama.cpp's thread barriers stall badly when the
    # cores are oversubscribed, and the 135M model is quick on one core anyway.
    (home / "settings.json").write_text(json.dumps({"schema_version": 2, "threads": 1}),
                                        encoding="utf-8")
    folder = tmp_path_factory.mktemp("cli-docs")
    for p in (docs.multipage, docs.table, docs.two_column, docs.md_note, docs.cp1252_note):
        shutil.copy(p, folder / p.name)
    r = medsearch(home, "index", str(folder), "--json")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert done["added"] == 5 and done["failed"] == [] and done["chunks"] > 5
    return home, folder


@pytest.mark.slow
def test_index_again_reports_unchanged(cli_lib, medsearch) -> None:
    home, folder = cli_lib
    r = medsearch(home, "index", str(folder), "--json")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert done["unchanged"] == 5 and done["added"] == 0 and done["chunks"] == 0


@pytest.mark.slow
def test_ask_json_is_one_document_with_citations_and_timings(cli_lib, medsearch) -> None:
    home, folder = cli_lib
    r = medsearch(home, "ask", WARFARIN_Q, "--json", "-k", "3", "--max-tokens", "48")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().count("\n") == 0, "stdout holds exactly one JSON document"
    data = json.loads(r.stdout)
    assert {"answer", "citations", "supported", "timings", "model", "embedder",
            "memory"} <= set(data)
    assert isinstance(data["answer"], str) and data["answer"].strip()
    t = data["timings"]
    for key in ("retrieval_ms", "ttft_ms", "prompt_tokens_per_s", "tokens_per_s", "total_ms"):
        assert key in t
    assert t["retrieval_ms"] > 0 and t["total_ms"] >= t["retrieval_ms"]
    assert t["ttft_ms"] is not None and t["ttft_ms"] > 0
    assert t["prompt_tokens"] > 0 and 0 < t["completion_tokens"] <= 48
    assert data["model"] == {"file": DEFAULT_MODEL_FILE, "quant": "Q4_1"}
    assert data["embedder"]["precision"] == "onnx-int8" and data["embedder"]["name"]
    mem = data["memory"]
    assert set(mem) >= {"rss_mb", "peak_rss_mb", "vram_mb"}
    assert mem["rss_mb"] > 0 and mem["peak_rss_mb"] >= mem["rss_mb"]
    assert mem["vram_mb"] is None or mem["vram_mb"] >= 0
    library = {str(p.resolve()) for p in folder.iterdir()}
    # The library answers this question (multipage.pdf, page 2): this test is about the answer
    # path, so a refusal (by retrieval or by the model) is a failure, not an alternative.
    assert data["supported"] is True, data["answer"]
    assert data["citations"], "a supported answer cites its sources"
    for c in data["citations"]:
        assert {"n", "path", "page", "snippet"} <= set(c)
        assert 1 <= c["n"] <= 3 and f"[{c['n']}]" in data["answer"]
        assert c["path"] in library and c["snippet"]
    assert any(c["path"].endswith("multipage.pdf") and c["page"] == 2
               for c in data["citations"])


@pytest.mark.slow
def test_ask_unsupported_question_refuses_without_citations(cli_lib, monkeypatch,
                                                            embedder) -> None:
    home, _ = cli_lib
    monkeypatch.setenv("MEDSEARCH_HOME", str(home))
    eng = Engine()
    eng._embedder = embedder  # share the session's embedder (not closed below)
    try:
        events = list(eng.ask(UNSUPPORTED, options=eng.ask_options(k=3)))
        assert isinstance(events[0], Retrieved) and not events[0].supported
        assert not any(isinstance(e, Token) for e in events)
        done = events[-1]
        assert isinstance(done, AnswerDone)
        assert not done.supported and done.citations == []
        assert "do not support" in done.answer and "natalizumab" in done.answer
        assert eng._llm is not None and not eng._llm.loaded  # the model was never asked
        assert done.quant == "Q4_1"
    finally:
        eng._embedder = None
        eng.close()


@pytest.mark.slow
def test_ask_stops_promptly_when_cancelled(cli_lib, monkeypatch, embedder) -> None:
    home, _ = cli_lib
    monkeypatch.setenv("MEDSEARCH_HOME", str(home))
    eng = Engine()
    eng._embedder = embedder
    ev = threading.Event()
    tokens = 0
    done = None
    try:
        for e in eng.ask(WARFARIN_Q, options=eng.ask_options(max_tokens=200, k=2), cancel=ev):
            if isinstance(e, Token):
                tokens += 1
                if tokens == 3:
                    ev.set()
            elif isinstance(e, AnswerDone):
                done = e
        assert done is not None
        assert done.stopped
        assert tokens == 3, "no token is streamed after cancel"
        assert done.timings.completion_tokens <= 5
        # The model is still usable after a cancelled answer.
        assert eng.llm.loaded
    finally:
        eng._embedder = None
        eng.close()


@pytest.mark.slow
def test_search_queries_file(cli_lib, medsearch, tmp_path: Path) -> None:
    home, _ = cli_lib
    qfile = tmp_path / "questions.txt"
    qfile.write_text(
        "What INR target should warfarin aim for?\n\n"
        + json.dumps({"question": "What is the adult dose of amoxicillin?"}) + "\n"
        + "Which ACE inhibitor starts hypertension treatment?\n",
        encoding="utf-8",
    )
    r = medsearch(home, "search", "--queries", str(qfile), "--json", "-k", "3")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    results = data["results"]
    assert len(results) == 3
    expected = ["multipage.pdf", "table.pdf", "two_column.pdf"]
    for res, name in zip(results, expected, strict=True):
        assert 1 <= len(res["hits"]) <= 3
        assert Path(res["hits"][0]["path"]).name == name
        assert res["supported"] is True
    assert results[1]["question"] == "What is the adult dose of amoxicillin?"


# ---- exit codes --------------------------------------------------------------------------------
def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


def test_unknown_precision_is_bad_input(home: Path, medsearch) -> None:
    r = medsearch(home, "search", "warfarin", "--precision", "fp7", "--json")
    assert r.returncode in (2, 3)
    assert "precision" in r.stderr and "fp7" in r.stderr
    assert r.stdout == ""
    _no_traceback(r.stderr)


def test_unknown_mode_and_missing_question_are_usage_errors(home: Path, medsearch) -> None:
    assert medsearch(home, "search", "x", "--mode", "fuzzy").returncode == 2
    r = medsearch(home, "search", "--json")
    assert r.returncode == 2 and "QUESTION" in r.stderr
    assert medsearch(home, "no-such-command").returncode == 2


@pytest.mark.slow
def test_index_missing_path_is_bad_input(home: Path, medsearch, tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist"
    r = medsearch(home, "index", str(missing), "--json")
    assert r.returncode == 3
    assert "does not exist" in r.stderr and str(missing) in r.stderr
    _no_traceback(r.stderr)


@pytest.mark.slow
def test_missing_model_file_is_exit_4(cli_lib, medsearch) -> None:
    home, _ = cli_lib
    r = medsearch(home, "ask", WARFARIN_Q, "--model", "/nonexistent.gguf", "--json")
    assert r.returncode == 4
    assert "not found" in r.stderr and "/nonexistent.gguf" in r.stderr
    assert r.stdout == ""
    _no_traceback(r.stderr)


@pytest.mark.slow
def test_broken_model_file_is_bad_input(cli_lib, medsearch, tmp_path: Path) -> None:
    home, _ = cli_lib
    broken = tmp_path / "x.gguf"
    broken.write_bytes(os.urandom(4096))
    r = medsearch(home, "ask", WARFARIN_Q, "--model", str(broken), "--json")
    assert r.returncode == 3
    assert "x.gguf" in r.stderr and "not a usable model" in r.stderr
    assert r.stdout == ""
    _no_traceback(r.stderr)


@pytest.mark.slow
def test_truncated_model_file_is_bad_input(cli_lib, medsearch, tmp_path: Path) -> None:
    from medsearch_app.core.llm.models import default_model_path

    home, _ = cli_lib
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(default_model_path().read_bytes()[:1000])
    r = medsearch(home, "ask", WARFARIN_Q, "--model", str(cut), "--json")
    assert r.returncode == 3
    assert "cut.gguf" in r.stderr and "truncated" in r.stderr
    _no_traceback(r.stderr)
