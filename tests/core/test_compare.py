"""Quant level comparison with the real default model and real levels built by llama.cpp."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from medsearch_app.core.evaluation.answers import LabelledQuestion
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.llm.gguf import read_gguf
from medsearch_app.core.llm.models import default_model_path
from medsearch_app.core.quant.compare import (
    CompareDone,
    ComparePlan,
    CompareProgress,
    Comparison,
    LevelDone,
    LevelResult,
)
from medsearch_app.core.quant.kld import RefDist, agreement
from medsearch_app.core.quant.quantize import QuantDone, build_ladder
from medsearch_app.core.quant.recommend import Budget, recommend
from medsearch_app.core.retrieval.search import Retriever

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"
QUESTIONS = [
    "What should be done about the high INR?",
    "How is the patient's asthma controlled?",
    "What was the eGFR at the kidney review?",
    "What is the capital of Australia?",  # nothing in the notes: skipped, not asked
]


def test_agreement_of_a_distribution_with_itself_is_zero_and_differs_otherwise() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 1000)).astype(np.float32) * 3
    ref = RefDist.from_logits(list(np.argmax(logits, axis=1)), logits, k=50)
    same = agreement(ref, logits)
    assert same.kld_mean == 0.0 and same.same_top_pct == 100.0 and same.positions == 6
    noisy = agreement(ref, logits + rng.normal(size=logits.shape).astype(np.float32))
    assert noisy.kld_mean is not None and noisy.kld_mean > 0.01
    # The coarsened KLD never exceeds the full one.
    lp = logits.astype(np.float64) - np.log(np.exp(logits.astype(np.float64)).sum(1))[:, None]
    q = logits + rng.normal(size=logits.shape).astype(np.float32)
    lq = q.astype(np.float64) - np.log(np.exp(q.astype(np.float64)).sum(1))[:, None]
    full = float((np.exp(lp) * (lp - lq)).sum(1).mean())
    part = agreement(ref, q).kld_mean
    assert part is not None and 0 < part <= full + 1e-9


def _level(quant: str, mb: float, same: float, tps: float, path: str = "") -> LevelResult:
    return LevelResult(quant=quant, file=f"m.{quant}.gguf", path=path, file_mb=mb,
                       reference=False, load_s=0.1, rss_mb=300, model_rss_mb=mb,
                       peak_rss_mb=300, vram_mb=None, ttft_ms=100.0,
                       prompt_tokens_per_s=500.0, tokens_per_s=tps, kld_mean=None,
                       same_top_pct=same, ref_tail_mass=None, answer_same_pct=None,
                       answer_similarity=None, bandwidth_share_pct=None)


def test_recommendation_follows_the_budget() -> None:
    levels = [_level("Q8_0", 138, 97.0, 110), _level("Q4_K_M", 100, 89.0, 120),
              _level("Q2_K", 84, 65.0, 130)]
    assert recommend(levels, Budget(min_same_top_pct=95), {}).quant == "Q8_0"
    assert recommend(levels, Budget(min_same_top_pct=85)).quant == "Q4_K_M"
    assert recommend(levels, Budget(min_same_top_pct=60)).quant == "Q2_K"
    assert recommend(levels, Budget(min_same_top_pct=60, min_tokens_per_s=125)).quant == "Q2_K"
    # A level that does not fit in the memory free is passed over, with the reason.
    tight = recommend(levels, Budget(min_same_top_pct=60), {"m.Q2_K.gguf": False})
    assert tight.quant == "Q4_K_M"
    assert "Q2_K" not in tight.reason
    short = recommend(levels, Budget(min_same_top_pct=60), {"m.Q2_K.gguf": False,
                                                             "m.Q4_K_M.gguf": False,
                                                             "m.Q8_0.gguf": False})
    assert short.quant is None and "does not fit in the memory free now" in short.reason
    none = recommend(levels, Budget(min_same_top_pct=99))
    assert none.quant is None and none.to_json() is None
    assert "Q8_0: same-top 97.0% < 99%" in none.reason


@pytest.fixture(scope="module")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("cmp-ladder")
    done = list(build_ladder(default_model_path(), ["Q8_0", "Q2_K"], out))[-1]
    assert isinstance(done, QuantDone) and not done.error
    levels = {read_gguf(p).quant: p for p in done.built}
    twin = out / "twin-of-Q8_0.gguf"  # the same weights under another name
    shutil.copyfile(levels["Q8_0"], twin)
    levels["twin"] = twin
    return levels


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    lib = Library(tmp_path_factory.mktemp("cmp-home"), embedder)
    for _ in lib.index_paths([NOTES]):
        pass
    yield Retriever(lib)
    lib.close()


def _run(plan: ComparePlan, retriever: Any, out: Path,
         cancel: threading.Event | None = None, stop_after_levels: int = 0) -> list[Any]:
    events: list[Any] = []
    cancel = cancel or threading.Event()
    for ev in Comparison(plan, retriever, out).run(cancel):
        events.append(ev)
        finished = [e for e in events if isinstance(e, LevelDone) and not e.resumed]
        if stop_after_levels and len(finished) >= stop_after_levels:
            cancel.set()
    return events


@pytest.mark.slow
def test_levels_compared_on_the_same_prompts(ladder: dict[str, Path], retriever: Any,
                                             tmp_path: Path) -> None:
    # Two questions labelled with their gold note (one also with a decision): their answers are
    # scored by the answer evaluator at every level; the third is not labelled.
    labels = [LabelledQuestion(QUESTIONS[0], True, gold="warfarin_clinic.md", decision="yes"),
              LabelledQuestion(QUESTIONS[2], True, gold="ckd_review.txt")]
    plan = ComparePlan([ladder["Q2_K"], ladder["Q8_0"], ladder["twin"]], QUESTIONS,
                       k=3, max_tokens=16, score_tokens=16, labels=labels)
    events = _run(plan, retriever, tmp_path)
    done = events[-1]
    assert isinstance(done, CompareDone) and not done.stopped
    assert any(isinstance(e, CompareProgress) and e.eta_s is not None for e in events)
    by_file = {r.file: r for r in done.levels}
    ref, twin, q2 = (by_file[ladder[k].name] for k in ("Q8_0", "twin", "Q2_K"))
    assert done.reference == "Q8_0" and ref.reference and done.levels[0] is ref
    assert [q for q, _ in done.skipped] == [QUESTIONS[3]]
    assert len(ref.questions) == 3
    # The same weights on the same tokens: no divergence at all, the same answers.
    assert twin.kld_mean == 0.0 and twin.same_top_pct == 100.0
    assert twin.answer_same_pct == 100.0
    # Two bits per weight lose more than eight.
    assert q2.kld_mean is not None and q2.kld_mean > 0.01
    assert q2.same_top_pct is not None and q2.same_top_pct < 100.0
    assert q2.file_mb < ref.file_mb
    for r in done.levels:
        assert r.tokens_per_s and r.tokens_per_s > 0 and r.ttft_ms and r.rss_mb > 0
        assert r.bandwidth_share_pct is not None and 0 < r.bandwidth_share_pct < 100
    assert done.bandwidth_gbs > 0.5
    rec = recommend(done.levels, Budget(min_same_top_pct=99.0))
    assert rec.quant in ("Q8_0",) and rec.file in (ref.file, twin.file)
    # The answers are the app's own (citations attached) and the labelled ones are scored.
    for r in done.levels:
        assert r.labelled == 2 and r.answered_pct is not None
        scored = [q for q in r.questions if q.refused is not None]
        assert len(scored) == 2 and all(q.decision in ("yes", None) for q in scored)
        # A share of the answerable labelled questions: defined even where none was answered.
        assert r.cites_gold_pct is not None and 0 <= r.cites_gold_pct <= r.answered_pct
        unscored = [q for q in r.questions if q.refused is None]
        assert len(unscored) == 1 and unscored[0].cites_gold is None
    # The same weights give the same verdicts.
    for key in ("answered_pct", "cites_gold_pct", "sentences_supported_pct",
                "decision_accuracy_pct"):
        assert getattr(twin, key) == getattr(ref, key)


@pytest.mark.slow
def test_an_interrupted_run_resumes_without_redoing_finished_levels(
        ladder: dict[str, Path], retriever: Any, tmp_path: Path) -> None:
    plan = ComparePlan([ladder["Q8_0"], ladder["Q2_K"]], QUESTIONS[:2], k=3, max_tokens=16,
                       score_tokens=16)
    first = _run(plan, retriever, tmp_path, stop_after_levels=1)
    assert isinstance(first[-1], CompareDone) and first[-1].stopped
    assert [r.quant for r in first[-1].levels] == ["Q8_0"]
    saved = (tmp_path / "levels" / f"{ladder['Q8_0'].name}.json").read_text()
    second = _run(plan, retriever, tmp_path)
    resumed = [e.result.quant for e in second if isinstance(e, LevelDone) and e.resumed]
    fresh = [e.result.quant for e in second if isinstance(e, LevelDone) and not e.resumed]
    assert resumed == ["Q8_0"] and fresh == ["Q2_K"]
    assert not any(isinstance(e, CompareProgress) and e.level == "Q8_0" for e in second)
    assert (tmp_path / "levels" / f"{ladder['Q8_0'].name}.json").read_text() == saved
    done = second[-1]
    assert isinstance(done, CompareDone) and [r.quant for r in done.levels] == ["Q8_0", "Q2_K"]
    # Another question set in the same folder is refused, not mixed in.
    from medsearch_app.core.errors import BadInput

    other = ComparePlan(plan.levels, ["What was the eGFR?"])
    with pytest.raises(BadInput, match="another comparison"):
        _run(other, retriever, tmp_path)


def test_question_files_in_three_forms(tmp_path: Path) -> None:
    from medsearch_app.core.errors import BadInput
    from medsearch_app.core.retrieval.search import read_queries

    (tmp_path / "q.txt").write_text("What is the INR?\n\nWhat is CURB-65?\n", encoding="utf-8")
    (tmp_path / "q.jsonl").write_text('{"question": "What is the INR?"}\n', encoding="utf-8")
    (tmp_path / "q.csv").write_text('id,question\n1,"What is the INR, today?"\n2,\n',
                                    encoding="utf-8")
    (tmp_path / "bad.csv").write_text("id,text\n1,x\n", encoding="utf-8")
    assert read_queries(tmp_path / "q.txt") == ["What is the INR?", "What is CURB-65?"]
    assert read_queries(tmp_path / "q.jsonl") == ["What is the INR?"]
    assert read_queries(tmp_path / "q.csv") == ["What is the INR, today?"]
    # Labelled JSONL lines (a gold source or a decision) also score the answers.
    from medsearch_app.core.quant.compare import labelled_questions

    (tmp_path / "l.jsonl").write_text(
        '{"question": "Is A?", "relevant_doc": "12345", "decision": "no"}\n'
        '{"question": "Is B?"}\n', encoding="utf-8")
    assert [(q.question, q.gold, q.decision) for q in labelled_questions(
        tmp_path / "l.jsonl")] == [("Is A?", "12345", "no")]
    assert labelled_questions(tmp_path / "q.jsonl") == []
    assert labelled_questions(tmp_path / "q.csv") == []
    with pytest.raises(BadInput, match="'question' column"):
        read_queries(tmp_path / "bad.csv")


def test_report_files(tmp_path: Path) -> None:
    import csv
    import json

    from medsearch_app.core.quant.compare import report as compare_report

    shipped = default_model_path()
    levels = [_level("Q8_0", 138.1, 100.0, 110), _level("Q2_K", 84.1, 65.5, 130)]
    levels[1].kld_mean = 0.30721
    done = CompareDone(levels, "Q8_0", [("What is the capital?", "not supported")], 18.7,
                       tmp_path, stopped=False)
    plan = ComparePlan([shipped], ["q1", "What is the capital?"])
    rec = recommend(levels, Budget(min_same_top_pct=60), {})
    data = compare_report.write(done, plan, Budget(min_same_top_pct=60), rec, tmp_path)
    rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8")))
    assert [r["quant"] for r in rows] == ["Q8_0", "Q2_K"] and rows[1]["kld_mean"] == "0.30721"
    saved = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert saved["recommendation"]["quant"] == "Q2_K" and saved["reference"] == "Q8_0"
    assert saved["machine"]["cpus"] >= 1 and "llama-cpp-python" in saved["versions"]
    assert saved["settings"]["questions"] == 2 and len(saved["skipped"]) == 1
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert "<td>0.3072</td>" in page and "Recommended: Q2_K" in page
    assert data["files"] == [str(tmp_path / f"report.{x}") for x in ("csv", "json", "html")]
    # Columns no level has a value for stay out of the page; answer scores appear with labels.
    assert "VRAM MiB" not in page and "cites gold source %" not in page
    levels[0].labelled, levels[0].cites_gold_pct = 10, 90.0
    compare_report.write(done, plan, Budget(min_same_top_pct=60), rec, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<th>cites gold source %</th>" in page and "<td>90.0</td>" in page


@pytest.mark.slow
def test_report_says_when_levels_come_from_a_quantized_file(ladder: dict[str, Path]) -> None:
    from medsearch_app.core.quant.compare.report import ladder_notes
    from medsearch_app.core.quant.quantize import provenance

    assert provenance(ladder["Q2_K"]) == {"built_from": default_model_path().name,
                                          "source_quant": "Q4_1"}
    assert provenance(ladder["twin"]) is None  # a copy made by hand: nothing known
    levels = [_level("Q8_0", 138, 97.0, 110, str(ladder["Q8_0"])),
              _level("Q2_K", 84, 65.0, 130, str(ladder["Q2_K"])),
              _level("Q4_1", 94, 99.0, 120, str(default_model_path()))]
    notes = ladder_notes(levels)
    assert len(notes) == 1 and "Q8_0, Q2_K were built from" in notes[0]
    assert "already quantized (Q4_1)" in notes[0]
