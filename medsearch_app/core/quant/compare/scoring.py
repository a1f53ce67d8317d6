"""The comparison's arithmetic, free of any model: what one level measured (Measured) becomes
its LevelResult (medians, KLD and same-top over all positions, the share of the memory-bandwidth
limit, the answer evaluator's scores as percentages), and a level's answers are set against the
reference's. Everything here is pure and is tested without a model.
"""

from __future__ import annotations

import difflib
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...evaluation.answers import QuestionResult, summarize
from ...types import AnswerDone
from ..kld import NO_AGREEMENT, Agreement
from .results import LevelResult, QuestionRun


@dataclass
class Measured:
    """What the runner measured of one level, before the arithmetic: its file, the memory and
    time its load took, and per question the run, the verdict (labelled questions) and the
    agreement with the reference (summed over all positions in `total`)."""

    quant: str
    path: Path
    size: int  # bytes of the file
    reference: bool
    load_s: float
    rss_before_mb: float  # process RSS before the load
    rss_loaded_mb: float  # and right after it
    peak_rss_mb: float
    vram_mb: float | None = None
    runs: list[QuestionRun] = field(default_factory=list)
    verdicts: list[QuestionResult] = field(default_factory=list)
    total: Agreement = NO_AGREEMENT


def median(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.median(vals), 2) if vals else None


def round_or_none(x: float | None, nd: int) -> float | None:
    return round(x, nd) if x is not None else None


def question_run(n: int, done: AnswerDone, agr: Agreement,
                 verdict: QuestionResult | None) -> QuestionRun:
    """One question's row: the answer and its timings, its agreement with the reference, and
    the answer evaluator's verdict where the question is labelled."""
    t = done.timings
    run = QuestionRun(n, done.answer.strip(), t.ttft_ms, t.prompt_tokens_per_s,
                      t.tokens_per_s, round_or_none(agr.kld_mean, 6),
                      round_or_none(agr.same_top_pct, 2))
    if verdict is not None:
        run.refused, run.cites_gold = verdict.refused, verdict.cites_gold
        run.sentences_checked = verdict.sentences_checked
        run.sentences_supported = verdict.sentences_supported
        run.decision, run.predicted = verdict.decision, verdict.predicted
    return run


def bandwidth_share_pct(tokens_per_s: float | None, size: int,
                        bandwidth_gbs: float) -> float | None:
    """Generation reads every weight once per token: tokens/s x bytes against the bandwidth."""
    if not tokens_per_s:
        return None
    return round(100 * tokens_per_s * size / (bandwidth_gbs * 1e9), 1)


def answer_scores(verdicts: list[QuestionResult]) -> dict[str, Any]:
    """The answer evaluator's summary of one level, as LevelResult's percentages."""
    if not verdicts:
        return {}
    s = summarize(verdicts)

    def pct(key: str) -> float | None:
        return round(100 * s[key], 1) if s[key] is not None else None

    return {"labelled": len(verdicts), "answered_pct": pct("answered_share"),
            "cites_gold_pct": pct("cites_gold_share"),
            "sentences_supported_pct": pct("sentences_supported_share"),
            "decision_accuracy_pct": pct("decision_accuracy")}


def level_result(m: Measured, bandwidth_gbs: float) -> LevelResult:
    """One level's result from its measurements (answer agreement is set afterwards, against
    the reference's answers: set_answer_agreement)."""
    total = m.total
    tps = median([r.tokens_per_s for r in m.runs])
    return LevelResult(
        quant=m.quant, file=m.path.name, path=str(m.path), file_mb=round(m.size / 2**20, 1),
        reference=m.reference,
        load_s=round(m.load_s, 3), rss_mb=round(m.rss_loaded_mb, 1),
        model_rss_mb=round(m.rss_loaded_mb - m.rss_before_mb, 1),
        peak_rss_mb=round(m.peak_rss_mb, 1), vram_mb=m.vram_mb,
        ttft_ms=median([r.ttft_ms for r in m.runs]),
        prompt_tokens_per_s=median([r.prompt_tokens_per_s for r in m.runs]),
        tokens_per_s=tps, kld_mean=round_or_none(total.kld_mean, 6),
        same_top_pct=round_or_none(total.same_top_pct, 2),
        ref_tail_mass=round_or_none(total.tail_mass_sum / total.positions, 6)
        if total.positions else None,
        answer_same_pct=None, answer_similarity=None,
        bandwidth_share_pct=bandwidth_share_pct(tps, m.size, bandwidth_gbs),
        questions=m.runs, **answer_scores(m.verdicts))


def _words(text: str) -> list[str]:
    return text.lower().split()


def answer_agreement(answers: list[QuestionRun], ref: list[QuestionRun],
                     ) -> tuple[float | None, float | None]:
    """Share of answers identical to the reference's (%), and their mean word-level similarity;
    (None, None) when no question was answered by both."""
    ref_answers = {q.n: q.answer for q in ref}
    same, sims = 0, []
    for q in answers:
        r = ref_answers.get(q.n)
        if r is None:
            continue
        a, b = _words(q.answer), _words(r)
        same += a == b
        sims.append(difflib.SequenceMatcher(None, a, b).ratio())
    if not sims:
        return None, None
    return round(100.0 * same / len(sims), 1), round(sum(sims) / len(sims), 3)


def set_answer_agreement(result: LevelResult, ref: LevelResult | None) -> None:
    """The reference agrees with itself; another level is set against the reference's answers
    (left as it is when those are unknown or no question was answered by both)."""
    if result.reference:
        result.answer_same_pct, result.answer_similarity = 100.0, 1.0
    elif ref is not None:
        same, sim = answer_agreement(result.questions, ref.questions)
        if same is not None:
            result.answer_same_pct, result.answer_similarity = same, sim
