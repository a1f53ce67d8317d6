"""The comparison without a model: its arithmetic (core/quant/compare/scoring.py), the one table of
result fields and the tables drawn from it, and the building of levels a comparison asks for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.evaluation.answers import QuestionResult
from medsearch_app.core.quant.compare.report import text_table
from medsearch_app.core.quant.compare.results import BY_KEY, FIELDS, LevelResult, QuestionRun
from medsearch_app.core.quant.compare.scoring import (
    Measured,
    answer_agreement,
    bandwidth_share_pct,
    level_result,
    median,
    question_run,
    set_answer_agreement,
)
from medsearch_app.core.quant.kld import Agreement
from medsearch_app.core.types import AnswerDone, Timings


def _run(n: int, answer: str, tps: float | None = 100.0) -> QuestionRun:
    return QuestionRun(n, answer, 120.0, 900.0, tps, 0.1, 90.0)


def _verdict(refused: bool, cites: bool | None, decision: str | None = None,
             predicted: str | None = None) -> QuestionResult:
    return QuestionResult(id="q", question="q", answerable=True, refused=refused, reason="",
                          cites_gold=cites, evidence_gold=None, sentences_checked=2,
                          sentences_supported=1, decision=decision, predicted=predicted,
                          seconds=1.0)


def test_a_level_result_from_its_measurements() -> None:
    m = Measured(quant="Q8_0", path=Path("/m/model.Q8_0.gguf"), size=150 * 2**20,
                 reference=False, load_s=0.12345, rss_before_mb=400.04, rss_loaded_mb=560.06,
                 peak_rss_mb=610.0, vram_mb=None,
                 runs=[_run(0, "a", 100.0), _run(1, "b", 120.0), _run(2, "c", None)],
                 verdicts=[_verdict(False, True, "yes", "yes"), _verdict(True, None)],
                 total=Agreement(kld_sum=0.3, same_top=45, positions=50, tail_mass_sum=0.5))
    r = level_result(m, bandwidth_gbs=10.0)
    assert (r.file, r.path, r.file_mb, r.load_s) == ("model.Q8_0.gguf", "/m/model.Q8_0.gguf",
                                                     150.0, 0.123)
    assert (r.rss_mb, r.model_rss_mb, r.peak_rss_mb) == (560.1, 160.0, 610.0)
    assert r.tokens_per_s == 110.0 and r.ttft_ms == 120.0  # medians of the answered
    assert (r.kld_mean, r.same_top_pct, r.ref_tail_mass) == (0.006, 90.0, 0.01)
    # 110 tokens/s x 150 MiB read per token against 10 GB/s
    assert r.bandwidth_share_pct == round(100 * 110 * 150 * 2**20 / 10e9, 1)
    assert (r.labelled, r.answered_pct, r.cites_gold_pct, r.decision_accuracy_pct) == (
        2, 50.0, 50.0, 100.0)
    assert r.answer_same_pct is None and len(r.questions) == 3


def test_nothing_measured_gives_none_not_zero() -> None:
    m = Measured(quant="Q2_K", path=Path("m.gguf"), size=1, reference=True, load_s=0.1,
                 rss_before_mb=1.0, rss_loaded_mb=2.0, peak_rss_mb=2.0)
    r = level_result(m, bandwidth_gbs=10.0)
    assert r.kld_mean is r.same_top_pct is r.ref_tail_mass is r.tokens_per_s is None
    assert r.bandwidth_share_pct is None and r.labelled == 0 and r.answered_pct is None
    assert median([None, None]) is None and bandwidth_share_pct(None, 10, 1.0) is None


def test_answers_set_against_the_reference() -> None:
    ref = [_run(0, "Give warfarin 5 mg"), _run(1, "The INR is high")]
    same, sim = answer_agreement([_run(0, "give  WARFARIN 5 mg"), _run(1, "The INR is low"),
                                  _run(7, "no reference for this one")], ref)
    assert same == 50.0 and sim is not None and 0.75 < sim < 1.0
    assert answer_agreement([_run(5, "x")], ref) == (None, None)
    level = level_result(Measured("Q2_K", Path("m"), 1, False, 0.1, 1.0, 2.0, 2.0,
                                  runs=[_run(0, "Give warfarin 5 mg")]), 10.0)
    reference = level_result(Measured("Q8_0", Path("r"), 1, True, 0.1, 1.0, 2.0, 2.0,
                                      runs=ref), 10.0)
    set_answer_agreement(level, None)  # the reference's answers unknown: left alone
    assert level.answer_same_pct is None
    set_answer_agreement(level, reference)
    assert (level.answer_same_pct, level.answer_similarity) == (100.0, 1.0)
    set_answer_agreement(reference, None)
    assert (reference.answer_same_pct, reference.answer_similarity) == (100.0, 1.0)


def test_one_question_run_carries_the_verdict() -> None:
    t = Timings(retrieval_ms=5, ttft_ms=80.0, prompt_tokens=100, prompt_tokens_per_s=1000.0,
                completion_tokens=8, tokens_per_s=50.0, total_ms=300)
    done = AnswerDone(answer=" Yes, stop it. ", citations=[], supported=True, timings=t,
                      model_file="m", quant="Q8_0", embedder="e", precision="fp32")
    run = question_run(3, done, Agreement(0.1234567, 1, 2, 0.0),
                       _verdict(False, True, "yes", "no"))
    assert (run.n, run.answer, run.kld_mean, run.same_top_pct) == (3, "Yes, stop it.",
                                                                   0.061728, 50.0)
    assert (run.refused, run.cites_gold, run.decision, run.predicted) == (False, True, "yes",
                                                                          "no")
    assert question_run(3, done, Agreement(0, 0, 0, 0), None).refused is None


def _level(quant: str, **kw: Any) -> LevelResult:
    base: dict[str, Any] = dict(
        quant=quant, file=f"m.{quant}.gguf", path="", file_mb=138.1, reference=False,
        load_s=0.1234, rss_mb=300.4, model_rss_mb=140.0, peak_rss_mb=320.0, vram_mb=None,
        ttft_ms=101.6, prompt_tokens_per_s=500.0, tokens_per_s=110.25, kld_mean=0.012345,
        same_top_pct=97.25, ref_tail_mass=None, answer_same_pct=None, answer_similarity=None,
        bandwidth_share_pct=None)
    return LevelResult(**{**base, **kw})


def test_the_fields_table_is_the_one_source() -> None:
    # every result column of LevelResult has a field, and only those
    keys = set(LevelResult.__dataclass_fields__) - {"path", "reference", "questions",
                                                    "labelled"}
    assert {f.key for f in FIELDS} == keys
    assert BY_KEY["kld_mean"].text(0.012345) == "0.0123"
    assert BY_KEY["file_mb"].text(1234.56) == "1,234.6" and BY_KEY["load_s"].text(None) == "—"
    lines = text_table([_level("Q8_0"), _level("Q2_K", tokens_per_s=None, kld_mean=None)])
    assert lines == [
        "level        MiB    RSS   tok/s  ttft ms      KLD same-top",
        "Q8_0       138.1    300  110.25      102   0.0123   97.25%",
        "Q2_K       138.1    300       0      102   0.0000   97.25%"]


@pytest.mark.slow
def test_compare_builds_the_levels_it_is_asked_for(home: Path, medsearch: Any,
                                                   tmp_path: Path) -> None:
    """A fresh data folder has only the shipped Q4_1: `compare --levels Q8_0,Q4_1` builds Q8_0
    from it (as the Models page does) and then compares; a name that is no level is refused."""
    q = tmp_path / "q.txt"
    q.write_text("What should be done about the high INR?\n", encoding="utf-8")
    bad = medsearch(home, "compare", "--levels", "Q8_0,Q9_9", "--questions", str(q),
                    "--out", str(tmp_path / "bad"), "--json")
    assert bad.returncode == 4 and "no Q9_9 file" in bad.stderr, bad.stderr
    assert not list(home.rglob("*.Q8_0.gguf"))  # refused before anything was built
    r = medsearch(home, "compare", "--levels", "Q8_0,Q4_1", "--questions", str(q),
                  "--out", str(tmp_path / "cmp"), "--max-tokens", "8", "--score-tokens", "8",
                  "--json", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "[build" in r.stderr and "already quantized" in r.stderr
    doc = json.loads(r.stdout)
    assert sorted(lv["quant"] for lv in doc["levels"]) == ["Q4_1", "Q8_0"]
    built = next(Path(lv["path"]) for lv in doc["levels"] if lv["quant"] == "Q8_0")
    assert built.is_file() and home in built.parents
    assert (tmp_path / "cmp" / "report.html").is_file()
