"""The comparison run: each level opened through a model factory, one after another, on the
calling thread (in the window, the model thread), its figures measured and saved as they come.

Comparison(plan, retriever, out_dir, open_model=...) yields CompareProgress, LevelDone per
level and CompareDone. Results are saved under OUT (cases.json, ref/<n>.npz,
levels/<file>.json), so an interrupted run resumes without redoing finished levels. The
arithmetic on what is measured is in scoring.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from ...answer.rag import AskOptions, answer, build_messages, fit_sources
from ...errors import BadInput
from ...evaluation.answers import judge
from ...llm.gguf import read_gguf
from ...llm.runtime import LlmRuntime
from ...retrieval.search import Retriever
from ...system import metrics
from ...types import AnswerDone
from ..kld import RefDist, agreement
from .plan import Case, ComparePlan
from .results import CompareDone, CompareProgress, LevelDone, LevelResult
from .scoring import Measured, level_result, question_run, set_answer_agreement

# Opens one level (not yet loaded): the comparison loads, uses and closes it.
ModelFactory = Callable[[Path], LlmRuntime]


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


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss / 2**20)


class _Eta:
    """Units of work (one question at one level) done so far, and the time left at that pace."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = max(1, total), 0, time.perf_counter()

    def step(self) -> None:
        self.done += 1

    def eta(self) -> float | None:
        if not self.done:
            return None
        per = (time.perf_counter() - self.t0) / self.done
        return round(per * (self.total - self.done), 1)


class Comparison:
    """One comparison run in an output folder; run() yields progress and level results.

    `open_model(path)` makes each level's runtime (default: LlmRuntime with the plan's context
    and threads); it is loaded, used and closed on the thread that iterates run()."""

    def __init__(self, plan: ComparePlan, retriever: Retriever, out_dir: Path, *,
                 open_model: ModelFactory | None = None) -> None:
        if not plan.levels:
            raise BadInput("no levels to compare")
        if not plan.questions:
            raise BadInput("no questions to ask")
        self.plan = plan
        self.retriever = retriever
        self.out = Path(out_dir)
        self.levels = plan.ordered()
        self.skipped: list[tuple[str, str]] = []
        self.open_model: ModelFactory = open_model or (
            lambda p: LlmRuntime(p, n_ctx=plan.n_ctx, n_threads=plan.n_threads))

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
        eta = _Eta(len(todo) * max(1, len(cases) if cases is not None
                                   else len(self.plan.questions)))
        stopped = False
        for p in todo:
            if cancel.is_set():
                stopped = True
                break
            rt = self.open_model(p)
            try:
                yield CompareProgress(read_gguf(p).quant, "load", eta.done, eta.total,
                                      eta.eta())
                rss0 = _rss_mb()
                t0 = time.perf_counter()
                rt.load()
                load_s = time.perf_counter() - t0
                m = Measured(quant=rt.quant, path=p, size=p.stat().st_size,
                             reference=p == ref_path, load_s=load_s, rss_before_mb=rss0,
                             rss_loaded_mb=_rss_mb(), peak_rss_mb=0.0)
                if cases is None:
                    cases = yield from self._make_cases(rt, cancel)
                    eta.total = max(1, len(todo) * max(1, len(cases)))
                level_cases: list[Case] = cases
                measured = yield from self._measure(rt, m, level_cases, eta, cancel)
            finally:
                rt.close()
            if measured is None:
                stopped = True
                break
            result = level_result(measured, bandwidth)
            set_answer_agreement(result, done.get(ref_path))
            _write_json(self._level_file(p), {"size": p.stat().st_size,
                                              "result": result.to_json()})
            done[p] = result
            yield LevelDone(result, resumed=False)
        ordered = [done[p] for p in self.levels if p in done]
        yield CompareDone(ordered, ordered[0].quant if ordered else "", list(self.skipped),
                          round(bandwidth, 2), self.out, stopped)

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

    def _measure(self, rt: LlmRuntime, m: Measured, cases: list[Case], eta: _Eta,
                 cancel: threading.Event) -> Generator[CompareProgress, None, Measured | None]:
        """Ask every case of one loaded level; None when cancelled."""
        if cases and rt.tokenize(cases[0].prompt) != cases[0].tokens:
            raise BadInput(f"{m.path.name} reads the prompts as other tokens than the reference "
                           f"{self.levels[0].name}: not levels of one model")
        m.peak_rss_mb = m.rss_loaded_mb
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
            m.peak_rss_mb = max(m.peak_rss_mb, _rss_mb())
            ref_file = self.out / "ref" / f"{case.n}.npz"
            if m.reference:
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
            m.peak_rss_mb = max(m.peak_rss_mb, _rss_mb())
            if cancel.is_set():
                return None
            if done is None:
                return None  # cancelled before the answer ended
            m.total = m.total + agr
            label = self.plan.label(case.question)
            verdict = (judge(label, done, done.timings.total_ms / 1000) if label is not None
                       else None)
            if verdict is not None:
                m.verdicts.append(verdict)
            m.runs.append(question_run(case.n, done, agr, verdict))
            eta.step()
            yield CompareProgress(m.quant, "level", eta.done, eta.total, eta.eta())
        gpus = metrics.vram()
        m.vram_mb = round(sum(g[1] for g in gpus), 1) if gpus else None
        return m


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
