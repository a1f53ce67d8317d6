"""Quant levels of one model compared on the same prompts: speed, memory and quality.

Retrieval is held fixed: each question's passages are retrieved once, rendered into one prompt
and tokenized once (saved in OUT/cases.json); every level gets exactly those tokens, so the
differences come from quantization alone. The highest-precision level is the reference. (The
app-style answer below retrieves again, from the same unchanged library and settings, so it gets
the same passages; its prompt is the app's own.)

Quality is measured as llama.cpp's `llama-perplexity --kl-divergence` does (core/kld.py), through
LlmRuntime.next_token_logits: the reference's greedy continuation of each prompt
(`score_tokens` tokens) and its next-token distribution at every position are kept; each level
is fed the same prompt + continuation and at every position

    KLD      = sum_x P_ref(x) (log P_ref(x) - log P_level(x))
    same-top = the level's most likely token is the reference's

averaged over all positions of all questions. The reference distribution is stored as its top
REF_TOP tokens plus one bucket for the rest of the vocabulary, so the KLD is that of the
coarsened distributions: never more than the full KLD, and equal to it up to the mass outside the
top (reported as `ref_tail_mass`). Each level also answers each question as the app does
(rag.answer: the same retrieval, prompt, generation, citations and sentence check; greedy, and
first, so its timings include the prompt) for the timings and the answer. Where the questions
are labelled (a gold source, a yes/no/maybe decision), that answer is scored by the project's
one answer evaluator (eval_answers): answered, cites the gold source, sentences supported,
decision accuracy.

Results are saved under OUT as they come (cases.json, ref/<n>.npz, levels/<file>.json), so an
interrupted run resumes without redoing finished levels.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import statistics
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from . import metrics
from .errors import BadInput
from .eval_answers import (
    LabelledQuestion,
    QuestionResult,
    judge,
    load_questions,
    summarize,
)
from .gguf import NOMINAL_BITS, read_gguf
from .kld import NO_AGREEMENT, RefDist, agreement
from .llm import LlmRuntime
from .rag import AskOptions, answer, build_messages, fit_sources
from .search import Mode, Retriever
from .types import AnswerDone

RUN_VERSION = 2


def labelled_questions(path: Path) -> list[LabelledQuestion]:
    """The labelled lines of a JSONL question file (a gold source or a yes/no/maybe decision);
    none for other files."""
    if path.suffix.lower() not in (".jsonl", ".json"):
        return []
    return [q for q in load_questions(path) if q.gold or q.decision]


# ---- the run -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComparePlan:
    """What to compare: level files (any order; the highest precision is the reference), the
    questions, and how each is asked."""

    levels: list[Path]
    questions: list[str]
    k: int = 5
    mode: Mode = Mode.HYBRID
    max_tokens: int = 64  # answer length for the timings
    score_tokens: int = 32  # positions of the reference continuation scored per question
    n_ctx: int = 2048
    n_threads: int = 2
    labels: list[LabelledQuestion] = field(default_factory=list)  # by question text

    def label(self, question: str) -> LabelledQuestion | None:
        return next((q for q in self.labels if q.question == question), None)

    def ordered(self) -> list[Path]:
        """The levels, reference (highest bits per weight) first."""
        def bits(p: Path) -> float:
            return NOMINAL_BITS.get(read_gguf(p).quant, 0.0)
        return sorted(dict.fromkeys(Path(p) for p in self.levels), key=lambda p: -bits(p))

    def fingerprint(self) -> str:
        ref = self.ordered()[0]
        h = hashlib.sha256(json.dumps({
            "v": RUN_VERSION, "ref": [ref.name, ref.stat().st_size], "q": self.questions,
            "k": self.k, "mode": str(self.mode), "max": self.max_tokens,
            "score": self.score_tokens, "ctx": self.n_ctx,
            "labels": [[q.question, q.gold, q.decision, q.answerable] for q in self.labels]},
        ).encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Case:
    n: int
    question: str
    prompt: str
    tokens: list[int]
    sources: list[str]


@dataclass
class QuestionRun:
    n: int
    answer: str
    ttft_ms: float | None
    prompt_tokens_per_s: float | None
    tokens_per_s: float | None
    kld_mean: float | None
    same_top_pct: float | None
    # the answer evaluator's verdict, where the question is labelled
    refused: bool | None = None
    cites_gold: bool | None = None
    sentences_checked: int = 0
    sentences_supported: int = 0
    decision: str | None = None
    predicted: str | None = None


@dataclass
class LevelResult:
    quant: str
    file: str
    path: str
    file_mb: float
    reference: bool
    load_s: float
    rss_mb: float  # process RSS with the model loaded
    model_rss_mb: float  # RSS taken by loading it
    peak_rss_mb: float  # highest RSS sampled while this level ran
    vram_mb: float | None
    ttft_ms: float | None  # medians over the questions
    prompt_tokens_per_s: float | None
    tokens_per_s: float | None
    kld_mean: float | None
    same_top_pct: float | None
    ref_tail_mass: float | None
    answer_same_pct: float | None
    answer_similarity: float | None
    bandwidth_share_pct: float | None
    questions: list[QuestionRun] = field(default_factory=list)
    # with labelled questions (eval_answers.summarize, as percentages); None without labels
    labelled: int = 0
    answered_pct: float | None = None
    cites_gold_pct: float | None = None
    sentences_supported_pct: float | None = None
    decision_accuracy_pct: float | None = None

    def to_json(self, *, with_questions: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not with_questions:
            d.pop("questions")
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LevelResult:
        qs = [QuestionRun(**q) for q in d.get("questions", [])]
        return cls(**{**d, "questions": qs})


@dataclass(frozen=True)
class CompareProgress:
    level: str
    step: str  # "retrieval", "load", "level"
    done: int
    total: int
    eta_s: float | None


@dataclass(frozen=True)
class LevelDone:
    result: LevelResult
    resumed: bool


@dataclass(frozen=True)
class CompareDone:
    levels: list[LevelResult]
    reference: str
    skipped: list[tuple[str, str]]  # (question, why)
    bandwidth_gbs: float
    out_dir: Path
    stopped: bool


def measure_bandwidth_gbs(mib: int = 256, repeats: int = 3) -> float:
    """This machine's memory bandwidth (GB/s): the best of `repeats` copies of a `mib` MiB
    array, counting the bytes read and written."""
    a = np.ones(mib * 2**20 // 8, dtype=np.float64)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best / 1e9


def _median(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.median(vals), 2) if vals else None


def _words(text: str) -> list[str]:
    return text.lower().split()


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss / 2**20)


class Comparison:
    """One comparison run in an output folder; run() yields progress and level results."""

    def __init__(self, plan: ComparePlan, retriever: Retriever, out_dir: Path) -> None:
        if not plan.levels:
            raise BadInput("no levels to compare")
        if not plan.questions:
            raise BadInput("no questions to ask")
        self.plan = plan
        self.retriever = retriever
        self.out = Path(out_dir)
        self.levels = plan.ordered()
        self.skipped: list[tuple[str, str]] = []

    # ---- files in the output folder -------------------------------------------------------
    def _check_folder(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "levels").mkdir(exist_ok=True)
        (self.out / "ref").mkdir(exist_ok=True)
        run_file = self.out / "run.json"
        fp = self.plan.fingerprint()
        if run_file.exists():
            try:
                old = json.loads(run_file.read_text(encoding="utf-8")).get("fingerprint")
            except (OSError, ValueError):
                old = None
            if old != fp:
                raise BadInput(f"{self.out} holds another comparison (other reference level, "
                               "questions or settings); choose an empty folder")
        else:
            _write_json(run_file, {"fingerprint": fp, "reference": self.levels[0].name})

    def _level_file(self, path: Path) -> Path:
        return self.out / "levels" / f"{path.name}.json"

    def _saved(self, path: Path) -> LevelResult | None:
        f = self._level_file(path)
        if not f.exists():
            return None
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
            if d.get("size") != path.stat().st_size:
                return None  # the file changed since: measure it again
            return LevelResult.from_json(d["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # ---- the run --------------------------------------------------------------------------
    def run(self, cancel: threading.Event | None = None,
            ) -> Iterator[CompareProgress | LevelDone | CompareDone]:
        cancel = cancel or threading.Event()
        self._check_folder()
        bandwidth = measure_bandwidth_gbs()
        ref_path = self.levels[0]
        done: dict[Path, LevelResult] = {}
        for p in self.levels:
            saved = self._saved(p)
            if saved is not None:
                done[p] = saved
        cases = self._load_cases()
        todo = [p for p in self.levels if p not in done]
        if ref_path in todo:
            # the reference's continuation is needed by every other level: run it first
            todo = [ref_path] + [p for p in todo if p != ref_path]
        for p in self.levels:
            if p in done:
                yield LevelDone(done[p], resumed=True)
        units = max(1, len(todo) * max(1, len(cases) if cases is not None else len(
            self.plan.questions)))
        state = {"units": 0, "t0": time.perf_counter()}
        stopped = False
        for p in todo:
            if cancel.is_set():
                stopped = True
                break
            rt = LlmRuntime(p, n_ctx=self.plan.n_ctx, n_threads=self.plan.n_threads)
            try:
                yield CompareProgress(read_gguf(p).quant, "load", int(state["units"]), units,
                                      self._eta(state, units))
                rss0 = _rss_mb()
                t0 = time.perf_counter()
                rt.load()
                load_s = time.perf_counter() - t0
                rss_load = _rss_mb()
                if cases is None:
                    cases = yield from self._make_cases(rt, cancel)
                    units = max(1, len(todo) * max(1, len(cases)))
                level_cases: list[Case] = cases
                result = yield from self._run_level(rt, p, level_cases, p == ref_path, load_s, rss0,
                                                    rss_load, bandwidth, state, units, cancel)
            finally:
                rt.close()
            if result is None:
                stopped = True
                break
            if p != ref_path and ref_path in done:
                _answer_agreement(result, done[ref_path])
            elif p == ref_path:
                result.answer_same_pct, result.answer_similarity = 100.0, 1.0
            _write_json(self._level_file(p), {"size": p.stat().st_size,
                                              "result": result.to_json()})
            done[p] = result
            yield LevelDone(result, resumed=False)
        ordered = [done[p] for p in self.levels if p in done]
        yield CompareDone(ordered, ordered[0].quant if ordered else "", list(self.skipped),
                          round(bandwidth, 2), self.out, stopped)

    @staticmethod
    def _eta(state: dict[str, float], units: int) -> float | None:
        if not state["units"]:
            return None
        per = (time.perf_counter() - state["t0"]) / state["units"]
        return round(per * (units - state["units"]), 1)

    def _load_cases(self) -> list[Case] | None:
        f = self.out / "cases.json"
        if not f.exists():
            return None
        d = json.loads(f.read_text(encoding="utf-8"))
        self.skipped = [(str(x[0]), str(x[1])) for x in d.get("skipped", [])]
        return [Case(**c) for c in d["cases"]]

    def _make_cases(self, rt: LlmRuntime, cancel: threading.Event,
                    ) -> Generator[CompareProgress, None, list[Case]]:
        """Retrieve once per question and render the prompt with the reference's template."""
        cases: list[Case] = []
        room = self.plan.max_tokens + self.plan.score_tokens
        for i, q in enumerate(self.plan.questions):
            if cancel.is_set():
                break
            yield CompareProgress("", "retrieval", i, len(self.plan.questions), None)
            res = self.retriever.search(q, k=self.plan.k, mode=self.plan.mode)
            if not res.supported:
                self.skipped.append((q, f"not supported by the library: {res.reason}"))
                continue
            hits = fit_sources(rt, q, res.hits, room)
            prompt = rt.render(build_messages(q, hits))
            toks = rt.tokenize(prompt)
            if len(toks) + room >= rt.n_ctx:
                self.skipped.append((q, f"prompt of {len(toks)} tokens leaves no room"))
                continue
            cases.append(Case(len(cases), q, prompt, toks, [h.path for h in hits]))
        if not cancel.is_set():
            _write_json(self.out / "cases.json", {
                "cases": [asdict(c) for c in cases], "skipped": self.skipped})
        return cases

    def _run_level(self, rt: LlmRuntime, path: Path, cases: list[Case], is_ref: bool,
                   load_s: float, rss0: float, rss_load: float, bandwidth: float,
                   state: dict[str, float], units: int, cancel: threading.Event,
                   ) -> Generator[CompareProgress, None, LevelResult | None]:
        quant = rt.quant
        if cases and rt.tokenize(cases[0].prompt) != cases[0].tokens:
            raise BadInput(f"{path.name} reads the prompts as other tokens than the reference "
                           f"{self.levels[0].name}: not levels of one model")
        peak = rss_load
        total = NO_AGREEMENT
        runs: list[QuestionRun] = []
        verdicts: list[QuestionResult] = []
        opts = AskOptions(k=self.plan.k, mode=self.plan.mode, max_tokens=self.plan.max_tokens,
                          temperature=0.0)
        for case in cases:
            if cancel.is_set():
                return None
            # First the answer, as the app gives it and timed as the app times it (the prompt
            # evaluated from scratch); then the scoring, which reuses the prompt in the cache.
            done = next((ev for ev in answer(case.question, retriever=self.retriever, llm=rt,
                                             options=opts, cancel=cancel)
                         if isinstance(ev, AnswerDone)), None)
            peak = max(peak, _rss_mb())
            ref_file = self.out / "ref" / f"{case.n}.npz"
            if is_ref:
                toks, logits = rt.next_token_logits(case.tokens, n=self.plan.score_tokens,
                                                    cancel=cancel)
                ref = RefDist.from_logits(toks, logits)
                if not cancel.is_set():
                    ref.save(ref_file)
            else:
                ref = RefDist.load(ref_file)
                _, logits = rt.next_token_logits(case.tokens, follow=ref.tokens, cancel=cancel)
            agr = agreement(ref, logits)
            del logits
            peak = max(peak, _rss_mb())
            if cancel.is_set():
                return None
            if done is None:
                return None  # cancelled before the answer ended
            t = done.timings
            total = total + agr
            run = QuestionRun(case.n, done.answer.strip(), t.ttft_ms, t.prompt_tokens_per_s,
                              t.tokens_per_s, _round(agr.kld_mean, 6),
                              _round(agr.same_top_pct, 2))
            label = self.plan.label(case.question)
            if label is not None:
                verdict = judge(label, done, t.total_ms / 1000)
                verdicts.append(verdict)
                run.refused, run.cites_gold = verdict.refused, verdict.cites_gold
                run.sentences_checked = verdict.sentences_checked
                run.sentences_supported = verdict.sentences_supported
                run.decision, run.predicted = verdict.decision, verdict.predicted
            runs.append(run)
            state["units"] += 1
            yield CompareProgress(quant, "level", int(state["units"]), units,
                                  self._eta(state, units))
        size = path.stat().st_size
        tps = _median([r.tokens_per_s for r in runs])
        gpus = metrics.vram()
        return LevelResult(
            quant=quant, file=path.name, path=str(path), file_mb=round(size / 2**20, 1),
            reference=is_ref,
            load_s=round(load_s, 3), rss_mb=round(rss_load, 1),
            model_rss_mb=round(rss_load - rss0, 1), peak_rss_mb=round(peak, 1),
            vram_mb=round(sum(g[1] for g in gpus), 1) if gpus else None,
            ttft_ms=_median([r.ttft_ms for r in runs]),
            prompt_tokens_per_s=_median([r.prompt_tokens_per_s for r in runs]),
            tokens_per_s=tps, kld_mean=_round(total.kld_mean, 6),
            same_top_pct=_round(total.same_top_pct, 2),
            ref_tail_mass=_round(total.tail_mass_sum / total.positions, 6)
            if total.positions else None,
            answer_same_pct=None, answer_similarity=None,
            # generation reads every weight once per token: tokens/s x bytes vs the bandwidth
            bandwidth_share_pct=round(100 * tps * size / (bandwidth * 1e9), 1) if tps else None,
            questions=runs, **_answer_scores(verdicts))


def _answer_scores(verdicts: list[QuestionResult]) -> dict[str, Any]:
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


def _round(x: float | None, nd: int) -> float | None:
    return round(x, nd) if x is not None else None


def _answer_agreement(result: LevelResult, ref: LevelResult) -> None:
    """Share of answers identical to the reference's, and their mean word-level similarity."""
    ref_answers = {q.n: q.answer for q in ref.questions}
    same, sims = 0, []
    for q in result.questions:
        r = ref_answers.get(q.n)
        if r is None:
            continue
        a, b = _words(q.answer), _words(r)
        same += a == b
        sims.append(difflib.SequenceMatcher(None, a, b).ratio())
    if sims:
        result.answer_same_pct = round(100.0 * same / len(sims), 1)
        result.answer_similarity = round(sum(sims) / len(sims), 3)


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
