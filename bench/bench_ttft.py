"""Time to first token: where it goes, and what keeping the shared prompt prefix saves.

Run:  .venv/bin/python bench/bench_ttft.py [--model FILE] [--questions N] [--json OUT]

On the demo library (installed and indexed in a temporary MEDSEARCH_HOME with the default
embedder), each question's prompt is built as the app builds it (retrieval, fit_sources,
rag.build_messages, the model's own chat template) and split into its parts, counted in the
model's tokens: the prefix every question shares (template + system prompt + "Question: "),
the question (asked, then restated at the end), the numbered sources, and the rest (labels,
instructions). Then each prompt is answered twice, alternating, 8 tokens, greedy:

  whole    LlmRuntime.clear_cache() first: the whole prompt is read (the app before this change).
  prefix   the app as it is: llama-cpp-python keeps the KV cache of the prefix this prompt shares
           with the previous one (each run follows a different question's prompt).

Reported per mode: median TTFT and prompt tokens read; the saving is the ratio. Also reported:
the tokens the sources would take if cut to the passages' evidence sentences (what the embedder
matched), for scale; the app cuts sources only when asked (settings "source_chars": excerpts,
measured by bench/bench_sources.py). Exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
EXTRA_QUESTIONS = [
    "What should the first-line treatment for hypertension be?",
    "When is a statin recommended?",
    "How often should HbA1c be checked?",
    "What dose of amoxicillin for pneumonia?",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="", help="GGUF file (default: the shipped model)")
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's

    home = Path(tempfile.mkdtemp(prefix="medsearch-bench-ttft-"))
    os.environ["MEDSEARCH_HOME"] = str(home)
    sys.path.insert(0, str(REPO))
    from medsearch_app.core.answer import evidence
    from medsearch_app.core.answer.rag import build_messages, fit_sources
    from medsearch_app.core.engine import Engine
    from medsearch_app.core.llm.models import default_model_path
    from medsearch_app.core.llm.runtime import GenStats, LlmRuntime
    from medsearch_app.core.settings import Settings, effective_threads
    from medsearch_app.demo import DEMO_QUESTIONS, install_demo

    folder = install_demo(home)
    eng = Engine()
    list(eng.library.index_paths([folder]))
    questions = (list(DEMO_QUESTIONS) + EXTRA_QUESTIONS)[:args.questions]
    model = Path(args.model) if args.model else default_model_path()
    llm = LlmRuntime(model, n_ctx=4096, n_threads=effective_threads(Settings.load()))
    llm.load()

    prompts: list[tuple[str, dict[str, int]]] = []
    for q in questions:
        res = eng.retriever.search(q, k=5)
        if not res.supported:
            continue
        hits = fit_sources(llm, q, res.hits, 256)
        prompt = llm.render(build_messages(q, hits))
        toks = llm.tokenize(prompt)
        other = llm.tokenize(llm.render(build_messages("another question?", hits)))
        shared = 0
        for a, b in zip(toks, other, strict=False):
            if a != b:
                break
            shared += 1
        src = sum(llm.count_tokens(h.text) for h in hits)
        quoted = evidence.select(q, hits, eng.embedder)
        ev = sum(llm.count_tokens(e.text) for e in quoted) if quoted else 0
        qt = 2 * llm.count_tokens(q)
        parts = {"prompt": len(toks), "shared_prefix": shared, "question_x2": qt,
                 "sources": src, "rest": len(toks) - shared - qt - src,
                 "evidence_sentences": ev, "sources_n": len(hits)}
        prompts.append((prompt, parts))

    def run(prompt: str, whole: bool) -> float:
        if whole:
            llm.clear_cache()
        stats: list[GenStats] = []
        "".join(llm.stream(prompt, max_tokens=8, temperature=0.0, stats_out=stats))
        return float(stats[0].ttft_ms or 0.0)

    whole: list[float] = []
    prefix: list[float] = []
    t0 = time.perf_counter()
    for i, (p, _) in enumerate(prompts):
        # whole, then (after another prompt was read) prefix: each prefix run follows a
        # different prompt, as in the app.
        whole.append(run(p, True))
        run(prompts[(i + 1) % len(prompts)][0], True)
        prefix.append(run(p, False))
    llm.close()
    eng.close()

    def med(key: str) -> float:
        return statistics.median(pp[key] for _, pp in prompts)

    print(f"{len(prompts)} questions on the demo library, model {model.name}, "
          f"{time.perf_counter() - t0:.0f} s")
    print("prompt tokens (median): total {:.0f} = shared prefix {:.0f} + question x2 {:.0f} + "
          "sources {:.0f} ({:.0f} passages) + labels/instructions {:.0f}".format(
              med("prompt"), med("shared_prefix"), med("question_x2"), med("sources"),
              med("sources_n"), med("rest")))
    print(f"evidence sentences alone would be {med('evidence_sentences'):.0f} tokens of the "
          f"sources' {med('sources'):.0f}")
    mw, mp = statistics.median(whole), statistics.median(prefix)
    print(f"TTFT median: whole prompt {mw:.0f} ms, shared prefix kept {mp:.0f} ms "
          f"(ratio {mp / mw:.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "model": model.name, "prompts": [pp for _, pp in prompts],
            "ttft_whole_ms": whole, "ttft_prefix_ms": prefix}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
