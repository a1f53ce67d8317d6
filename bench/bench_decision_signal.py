"""Does the answer model know yes from no? Its next-token log-probabilities for Yes, No and Maybe
at the start of the answer, on PubMedQA, and whether any calibration of them could reach a
decision accuracy target.

Run:  .venv/bin/python bench/bench_decision_signal.py [--pubmedqa DIR] [--start 200] [--limit 100]
                                                      [--home DIR] [--jsonl OUT]

The PubMedQA passages (../shared/evaldata/pubmedqa, read from there) are indexed in --home (a
data folder; reused when it already holds them) with the default embedder; each question from
--start on gets the very prompt the app would build (retrieval, focus, automatic source text, the
"begin with Yes, No or Maybe" line) and the default answer model's log-probabilities of the
first token of "Yes", "No" and "Maybe" are read where the answer begins. Also read: the same for
the question with no sources (what the model says from the question alone), and for a
content-free prompt ("N/A", no sources) once.

Printed, over the questions the support gate answers: decision accuracy of the model's own
choice (what the app's greedy answer begins with), of contextual calibration (divide by the
content-free probabilities; Zhao et al. 2021), of the sources' effect (full minus question-only),
of batch calibration (minus the mean over the questions); the AUC of the yes-minus-no margin on
gold yes/no questions (0.5 = no signal); and the best accuracy any threshold on that margin
reaches on these very questions (an upper bound: it is fitted to the answers). Use a --start
past the first 200 to keep the questions the app is judged on out of the choice. The CPU model
and its flags are printed first. Exits 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from itertools import product
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parents[1]

from cpu import cpu_line  # noqa: E402

WORDS = ("yes", "no", "maybe")


def accuracy(recs: list[dict[str, Any]], score: Any) -> tuple[float, dict[str, int]]:
    import numpy as np

    chosen = [WORDS[int(np.argmax(score(r)))] for r in recs]
    right = sum(c == r["gold"] for c, r in zip(chosen, recs, strict=True))
    return right / max(1, len(recs)), {w: chosen.count(w) for w in WORDS}


def auc(pairs: list[tuple[float, str]]) -> float:
    pos = [m for m, g in pairs if g == "yes"]
    neg = [m for m, g in pairs if g == "no"]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in product(pos, neg))
    return wins / max(1, len(pos) * len(neg))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pubmedqa", type=Path, default=REPO.parent / "shared/evaldata/pubmedqa")
    ap.add_argument("--start", type=int, default=200)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--home", type=Path, default=Path("/tmp/medsearch-decision-home"))
    ap.add_argument("--jsonl", type=Path)
    args = ap.parse_args()
    print(cpu_line(), flush=True)
    os.environ["MEDSEARCH_HOME"] = str(args.home)
    os.environ.setdefault("MEDSEARCH_DEFAULT_MODEL", "auto")
    import numpy as np

    from medsearch_app.core.answer import evidence, rag
    from medsearch_app.core.engine import Engine
    from medsearch_app.core.evaluation.answers import load_questions
    from medsearch_app.core.evaluation.retrieval import pubmedqa_corpus

    eng = Engine()
    folder = pubmedqa_corpus(args.pubmedqa, eng.home / "pubmedqa_corpus")
    for _ev in eng.library.index_paths([folder]):
        pass
    opts = eng.ask_options()
    llm = eng.llm
    llm.load()
    print(f"model {llm.path.name} ({llm.quant}), embedder {eng.embedder.name} "
          f"{eng.precision.value}", flush=True)
    ids = [llm.tokenize(w.capitalize())[0] for w in WORDS]

    def logprobs(prompt: str) -> list[float]:
        _, rows = llm.next_token_logits(llm.tokenize(prompt), n=1)
        row = rows[0].astype(np.float64)
        row -= row.max()
        lse = math.log(float(np.exp(row).sum()))
        return [float(row[i] - lse) for i in ids]

    content_free = logprobs(llm.render(rag.build_messages("N/A", [])))
    questions = load_questions(args.pubmedqa / "queries.jsonl")[args.start:args.start + args.limit]
    recs: list[dict[str, Any]] = []
    out = args.jsonl.open("w") if args.jsonl else None
    for n, q in enumerate(questions):
        t0 = time.perf_counter()
        res = eng.retriever.search(q.question, k=opts.k, mode=opts.mode)
        if not res.supported or not q.decision:
            continue
        units = evidence.score_units(q.question, res.hits, eng.embedder)
        found, units, n_read = rag.arrange(units, res.hits, opts.focus)
        _hits, prompt = rag.model_prompt(q.question, found[:n_read], units, llm, opts)
        rec = {"i": args.start + n, "gold": q.decision, "full": logprobs(prompt),
               "question_only": logprobs(llm.render(rag.build_messages(q.question, []))),
               "prompt_tokens": llm.count_tokens(prompt),
               "seconds": round(time.perf_counter() - t0, 1)}
        recs.append(rec)
        if out:
            out.write(json.dumps(rec) + "\n")
            out.flush()
        print(f"{n + 1}/{len(questions)} gold {q.decision}: log p(Yes, No, Maybe) = "
              f"{[round(x, 2) for x in rec['full']]} ({rec['seconds']} s)", flush=True)
    if out:
        out.close()

    def norm(v: Any) -> Any:
        v = np.asarray(v, dtype=np.float64)
        v = v - v.max()
        return v - math.log(float(np.exp(v).sum()))

    full = {r["i"]: norm(r["full"]) for r in recs}
    mean = np.mean(list(full.values()), axis=0) if recs else np.zeros(3)
    gold = {w: sum(r["gold"] == w for r in recs) for w in WORDS}
    print(f"\n{len(recs)} questions (PubMedQA {args.start}..{args.start + args.limit - 1}, the "
          f"support gate's answered ones), gold {gold}; majority class "
          f"{max(gold.values()) / max(1, len(recs)):.3f}")
    rows = [
        ("the model's own choice (greedy)", lambda r: full[r["i"]]),
        ("contextual calibration (content-free)", lambda r: full[r["i"]] - norm(content_free)),
        ("the sources' effect (full - question only)",
         lambda r: full[r["i"]] - norm(r["question_only"])),
        ("batch calibration (minus the mean)", lambda r: full[r["i"]] - mean),
    ]
    for name, score in rows:
        acc, chosen = accuracy(recs, score)
        print(f"  {name:45s} accuracy {acc:.3f}  chose {chosen}")
    margins = [(float(full[r['i']][0] - full[r['i']][1]), r["gold"]) for r in recs]
    print(f"  AUC of log p(Yes) - log p(No) on gold yes/no: {auc(margins):.3f} (0.5 = no signal)")
    best = max((sum(("yes" if m > t else "no") == g for m, g in margins) / max(1, len(recs)), t)
               for t in sorted(m for m, _ in margins)) if margins else (0.0, 0.0)
    print(f"  best threshold on that margin, fitted to these answers: accuracy {best[0]:.3f} "
          f"(margin > {best[1]:.2f} says yes): an upper bound for any yes/no calibration")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
