"""Answer quality on labelled questions: the one answer evaluator of the project.

Each question is asked through the app's own pipeline (Engine.ask: retrieval, support
judgement, evidence, model, sentence check). Per question it records whether the answer was
refused, whether its citations and its quoted evidence point at the gold document, the share of
its checked sentences that their sources support, and the yes/no/maybe decision where the
question has one. Aggregated: false refusals (answerable questions refused), false acceptances
(unanswerable questions answered), cites-gold rates, sentence support, decision accuracy.

Question files (JSONL), one object per line:
- PubMedQA `queries.jsonl`: question, relevant_doc (gold: passages named <doc>_<n>), decision;
- the project's own sets: question, answerable, doc (gold file name), optional decision and
  answer_terms (words or numbers a right answer contains: the share of answered questions whose
  answer holds all of them is `answer_terms_share`);
- off-library sets: question and `absent` (the thing no document names): unanswerable.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..answer.quantities import numbers, quantity_keys
from ..errors import BadInput
from ..types import AnswerDone, IndexDone, Timings
from .jsonl import jsonl_lines

if TYPE_CHECKING:
    from ..engine import Engine

Log = Callable[[str], None]
Ask = Callable[[str], Iterator[object]]
DECISION = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
HEDGE = re.compile(r"\b(maybe|unclear|uncertain|not clear|inconclusive|possibly)\b", re.IGNORECASE)


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    answerable: bool
    gold: str | None = None  # a file name, or a stem that passage files start with
    decision: str | None = None
    id: str = ""
    answer_terms: tuple[str, ...] = ()


@dataclass
class QuestionResult:
    id: str
    question: str
    answerable: bool
    refused: bool
    reason: str
    cites_gold: bool | None
    evidence_gold: bool | None
    sentences_checked: int
    sentences_supported: int
    decision: str | None
    predicted: str | None
    seconds: float
    answer: str = ""
    cited: list[str] = field(default_factory=list)
    has_answer_terms: bool | None = None  # None: the question lists no answer terms
    prompt_tokens: int = 0
    ttft_ms: float | None = None


def load_questions(path: Path, *, answerable: bool | None = None) -> list[LabelledQuestion]:
    """Read a question file in any of the formats in the module docstring."""
    out = []
    for i, line in jsonl_lines(path):
        try:
            rec = json.loads(line)
            q = rec["question"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BadInput(f"{path}:{i}: not a JSON object with a 'question'") from exc
        ans = rec.get("answerable", "absent" not in rec) if answerable is None else answerable
        gold = rec.get("doc") or rec.get("relevant_doc")
        out.append(LabelledQuestion(question=q, answerable=bool(ans), gold=gold,
                                    decision=rec.get("decision"), id=str(rec.get("id", i)),
                                    answer_terms=tuple(rec.get("answer_terms") or ())))
    return out


def matches_gold(path: str, gold: str) -> bool:
    name = Path(path).name
    stem = Path(path).stem
    return name == gold or stem == gold or stem.startswith(gold + "_")


def predicted_decision(answer: str) -> str | None:
    m = DECISION.match(answer)
    if m:
        return m.group(1).lower()
    return "maybe" if HEDGE.search(answer) else None


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("–", "-").split())


def has_terms(answer: str, terms: Iterable[str]) -> bool:
    """Every term occurs in the answer (case and spacing ignored). A term made of quantities
    ("6 weeks", "2 mg", "two doses") is compared as quantities, as the sentence check compares
    them: "after the 6-week period" and "3 days" hold "6 weeks" and "three days"; "12 mg" does
    not hold "2 mg"."""
    a = _norm(answer)
    held = quantity_keys(re.sub(r"(\d)-(?=[a-z])", r"\1 ", a))
    return all(_has_term(a, held, _norm(t)) for t in terms)


def _has_term(answer: str, held: set[tuple[str, str | None]], term: str) -> bool:
    found = numbers(term, spelled=True)
    if found and all(unit for _, unit, _ in found):
        return quantity_keys(term) <= held
    return term in answer


def judge(q: LabelledQuestion, done: AnswerDone, seconds: float) -> QuestionResult:
    """The verdict on one answer to a labelled question."""
    judged = [c for c in done.sentences if c.supported is not None]
    cited = sorted({c.path for c in done.citations})
    return QuestionResult(
        id=q.id, question=q.question, answerable=q.answerable, refused=not done.supported,
        reason=done.answer if not done.supported else "",
        cites_gold=(any(matches_gold(p, q.gold) for p in cited) if q.gold else None),
        evidence_gold=(any(matches_gold(e.path, q.gold) for e in done.evidence)
                       if q.gold else None),
        sentences_checked=len(judged),
        sentences_supported=sum(1 for c in judged if c.supported),
        decision=q.decision, predicted=predicted_decision(done.answer),
        seconds=round(seconds, 2), answer=done.answer, cited=cited,
        has_answer_terms=(has_terms(done.answer, q.answer_terms)
                          if q.answer_terms and done.supported else None),
        prompt_tokens=done.timings.prompt_tokens, ttft_ms=done.timings.ttft_ms)


def evaluate(ask: Ask, questions: Iterable[LabelledQuestion], *, log: Log | None = None,
             cancel: threading.Event | None = None) -> Iterator[QuestionResult]:
    """Ask each question; yields one result per question as it is done."""
    for q in questions:
        if cancel is not None and cancel.is_set():
            return
        t0 = time.perf_counter()
        done = next((ev for ev in ask(q.question) if isinstance(ev, AnswerDone)), None)
        if done is None:
            continue
        res = judge(q, done, time.perf_counter() - t0)
        if log:
            flag = "refused" if res.refused else ("gold cited" if res.cites_gold else "answered")
            log(f"[{res.id}] {flag}: {q.question[:70]}")
        yield res


def summarize(results: list[QuestionResult]) -> dict[str, Any]:
    """The aggregate figures (shares are of the questions they apply to; None when none do)."""
    ans = [r for r in results if r.answerable]
    una = [r for r in results if not r.answerable]
    answered = [r for r in ans if not r.refused]
    with_gold = [r for r in answered if r.cites_gold is not None]
    decided = [r for r in answered if r.decision]
    checked = sum(r.sentences_checked for r in answered)
    with_terms = [r for r in answered if r.has_answer_terms is not None]
    prompts = [r.prompt_tokens for r in answered if r.prompt_tokens]
    ttfts = [r.ttft_ms for r in answered if r.ttft_ms is not None]

    def share(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    return {
        "questions": len(results),
        "answerable": len(ans),
        "unanswerable": len(una),
        "false_refusals": sum(1 for r in ans if r.refused),
        "false_acceptances": sum(1 for r in una if not r.refused),
        "refused_unanswerable_share": share(sum(1 for r in una if r.refused), len(una)),
        "answered_share": share(len(answered), len(ans)),
        "cites_gold_share": share(sum(1 for r in with_gold if r.cites_gold), len(ans)),
        "evidence_gold_share": share(sum(1 for r in with_gold if r.evidence_gold), len(ans)),
        "gold_cited_or_quoted_share": share(
            sum(1 for r in with_gold if r.cites_gold or r.evidence_gold), len(ans)),
        "sentences_checked": checked,
        "sentences_supported_share": share(sum(r.sentences_supported for r in answered),
                                           checked),
        "decision_accuracy": share(sum(1 for r in decided if r.predicted == r.decision),
                                   len(decided)),
        "decision_questions": len(decided),
        "answer_terms_share": share(sum(1 for r in with_terms if r.has_answer_terms),
                                    len(with_terms)),
        "answer_terms_questions": len(with_terms),
        "median_prompt_tokens": statistics.median(prompts) if prompts else None,
        "median_ttft_ms": round(statistics.median(ttfts), 1) if ttfts else None,
        "median_seconds": statistics.median([r.seconds for r in results]) if results else None,
    }


def report(results: list[QuestionResult]) -> dict[str, Any]:
    return {"summary": summarize(results), "results": [asdict(r) for r in results]}


# Without answers only the refusal figures mean anything.
NO_MODEL_SUMMARY = ("questions", "answerable", "unanswerable", "false_refusals",
                    "false_acceptances", "refused_unanswerable_share", "answered_share")


def run(engine: Engine, *, pubmedqa: Path | None = None, questions: Path | None = None,
        library: Iterable[Path] = (), offlib: Iterable[Path] = (), limit: int = 0,
        k: int | None = None, no_model: bool = False, source_chars: int | None = None,
        log: Log | None = None, cancel: threading.Event | None = None) -> dict[str, Any]:
    """The whole evaluation: index the folders, build the question list, ask (or only judge
    support, `no_model`), and return the report with the settings it ran with.

    `pubmedqa`: a PubMedQA folder whose passages are indexed and whose queries.jsonl is asked;
    `questions`: a labelled JSONL file; `library`: more folders to index first; `offlib`:
    question files no document answers; `limit`: keep the first N labelled questions."""
    from .retrieval import pubmedqa_corpus

    folders = list(library)
    qs: list[LabelledQuestion] = []
    if pubmedqa is not None:
        folders.append(pubmedqa_corpus(pubmedqa, engine.home / "pubmedqa_corpus"))
        qs += load_questions(pubmedqa / "queries.jsonl")
    if questions is not None:
        qs += load_questions(questions)
    if limit:
        qs = qs[:limit]
    for extra in offlib:
        qs += load_questions(extra, answerable=False)
    for folder in folders:
        for ev in engine.library.index_paths([folder], cancel=cancel):
            if isinstance(ev, IndexDone) and log:
                log(f"indexed {folder}: {ev.chunks} chunks, {len(ev.failed)} failed")
    opts = engine.ask_options(k=k)
    if source_chars is not None:
        opts.source_chars = source_chars

    def judge_only(question: str) -> Iterator[object]:
        res = engine.retriever.search(question, k=opts.k, mode=opts.mode)
        yield AnswerDone(answer=res.reason, citations=[], supported=res.supported,
                         timings=Timings(res.elapsed_ms, None, 0, None, 0, None, res.elapsed_ms),
                         model_file="", quant="", embedder="", precision="")

    def ask(question: str) -> Iterator[object]:
        return engine.ask(question, options=opts, cancel=cancel)

    rep = report(list(evaluate(judge_only if no_model else ask, qs, log=log, cancel=cancel)))
    if no_model:
        rep["summary"] = {key: rep["summary"][key] for key in NO_MODEL_SUMMARY}
    rep["settings"] = {"no_model": no_model, "k": opts.k, "mode": opts.mode.value,
                       "precision": engine.precision.value, "source_chars": opts.source_chars,
                       "model": None if no_model else engine.model_path().name}
    return rep
