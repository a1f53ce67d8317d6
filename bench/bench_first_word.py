"""The wait for the first word of an answer: the app end to end vs bare llama-cpp-python on the
same prompts, and generation speed against the memory-bandwidth ceiling.

Run:  .venv/bin/python bench/bench_first_word.py [--model FILE] [--limit 12] [--tokens 48]
                                                  [--json OUT]

The project's own small library (tests/data/small_library: clinic notes and two short PDFs) is
built and indexed in a temporary MEDSEARCH_HOME with the default embedder; its first --limit
answerable questions are asked with the default model (the strongest installed one that fits,
as the app chooses; --model to name one) and the app's default settings (sources focused,
source text automatic: fitted to the model's measured reading speed). Per question, alternating
which side goes first:

  app    Engine.ask(question): from the call to the first Token event, the wait a physician
         sees (retrieval, evidence sentences, choosing and cutting the sources, reading the
         prompt, the first token). The KV cache is cleared first, so the whole prompt is read.
  raw    a separate bare llama_cpp.Llama (same file, context and threads) given the very prompt
         the app rendered for that question: create_completion(stream=True) to the first token.

Both generate --tokens tokens greedily; tokens/s is compared too, and against the ceiling
memory bandwidth / weight bytes (every token reads every weight once; bench/cpu.py measures the
bandwidth with one thread per CPU). Also printed: the prompt tokens all the retrieved passages,
whole, would have taken (the app before focus and excerpts). Targets: median app first word
<= 8 s on this machine, app/raw <= 1.05. The CPU model and its flags are printed first. Exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 8.0
TARGET_RATIO = 1.05


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="GGUF file (default: the app's default choice)")
    ap.add_argument("--limit", type=int, default=12, help="answerable questions to ask")
    ap.add_argument("--tokens", type=int, default=48, help="tokens generated per answer")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="medsearch-bench-first-word-"))
    os.environ["MEDSEARCH_HOME"] = str(home)
    os.environ.setdefault("MEDSEARCH_DEFAULT_MODEL", "auto")
    sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "tests" / "data" / "small_library")]
    try:
        return _main(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _raw_first_word(llm: Any, prompt: str, tokens: int) -> dict[str, Any]:
    llm.reset()
    t0 = time.perf_counter()
    first: float | None = None
    n = 0
    for part in llm.create_completion(prompt, max_tokens=tokens, temperature=0.0, top_p=0.9,
                                      repeat_penalty=1.1, stream=True):
        if part["choices"][0].get("finish_reason") is None:
            n += 1
            first = first or time.perf_counter()
    end = time.perf_counter()
    return {"ttft_ms": round((first - t0) * 1000, 1) if first else None,
            "tokens_per_s": round((n - 1) / (end - first), 1) if first and n > 1 else None}


def _app_first_word(eng: Any, question: str, tokens: int) -> dict[str, Any]:
    from medsearch_app.core.types import AnswerDone, Token

    eng.llm.clear_cache()
    opts = eng.ask_options(max_tokens=tokens)
    opts.temperature = 0.0
    t0 = time.perf_counter()
    first: float | None = None
    done: AnswerDone | None = None
    for ev in eng.ask(question, options=opts):
        if isinstance(ev, Token) and first is None:
            first = time.perf_counter()
        elif isinstance(ev, AnswerDone):
            done = ev
    assert done is not None
    return {"first_word_ms": round((first - t0) * 1000, 1) if first else None,
            "ttft_ms": done.timings.ttft_ms, "tokens_per_s": done.timings.tokens_per_s,
            "prompt_tokens": done.timings.prompt_tokens, "supported": done.supported}


def _main(args: argparse.Namespace, home: Path) -> int:
    import llama_cpp
    from cpu import cpu_line, memory_bandwidth_gbs
    from render import QUESTIONS, build_library

    from medsearch_app.core.answer import evidence, rag
    from medsearch_app.core.engine import Engine

    print(cpu_line())
    bandwidth = memory_bandwidth_gbs()
    eng = Engine()
    if args.model:
        eng.settings.model_path = args.model
    list(eng.library.index_paths([build_library(home / "library")]))
    model = eng.model_path()
    weights = model.stat().st_size
    questions = [q["question"] for q in map(json.loads, QUESTIONS.read_text("utf-8").splitlines())
                 if q["answerable"]][:args.limit]
    speed = eng.llm.reading_speed()
    raw = llama_cpp.Llama(model_path=str(model), n_ctx=eng.llm.n_ctx,
                          n_threads=eng.llm.n_threads, n_threads_batch=eng.llm.n_threads,
                          seed=eng.llm.seed, verbose=False)
    print(f"{model.name} ({eng.llm.quant}, {weights / 1e9:.2f} GB), {eng.llm.n_threads} threads, "
          f"reads {speed:.0f} prompt tokens/s (measured by the app); memory bandwidth "
          f"{bandwidth:.1f} GB/s -> generation ceiling {bandwidth * 1e9 / weights:.1f} tokens/s")
    _app_first_word(eng, questions[0], 4)  # warm-up: first-call allocations, weights paged in
    _raw_first_word(raw, "Hello", 4)
    rows: list[dict[str, Any]] = []
    print(f"{'question':<58} {'prompt':>6} {'whole':>6} {'app s':>6} {'raw s':>6} {'ratio':>6}")
    for i, q in enumerate(questions):
        res = eng.retriever.search(q, k=eng.settings.top_k)
        if not res.supported:
            print(f"{q[:58]:<58} refused by the support gate: not timed")
            continue
        units = evidence.score_units(q, res.hits, eng.embedder)
        opts = eng.ask_options(max_tokens=args.tokens)
        found, units, n_read = rag.arrange(units, res.hits, opts.focus)
        _, prompt = rag.model_prompt(q, found[:n_read], units, eng.llm, opts)
        # what the app read before focus and excerpts: every retrieved passage, whole
        whole = eng.llm.count_tokens(eng.llm.render(rag.build_messages(q, found)))
        sides = ["app", "raw"] if i % 2 == 0 else ["raw", "app"]
        row: dict[str, Any] = {"question": q, "whole_passages_tokens": whole}
        for side in sides:
            if side == "app":
                row["app"] = _app_first_word(eng, q, args.tokens)
            else:
                row["raw"] = _raw_first_word(raw, prompt, args.tokens)
        a, r = row["app"], row["raw"]
        row["ratio"] = round(a["first_word_ms"] / r["ttft_ms"], 3) if a["first_word_ms"] and \
            r["ttft_ms"] else None
        rows.append(row)
        print(f"{q[:58]:<58} {a['prompt_tokens']:>6} {whole:>6} "
              f"{(a['first_word_ms'] or 0) / 1000:>6.2f} {(r['ttft_ms'] or 0) / 1000:>6.2f} "
              f"{row['ratio']!s:>6}")
    raw.close()
    eng.close()

    def med(get: Any) -> float | None:
        vals = [v for v in (get(r) for r in rows) if v is not None]
        return statistics.median(vals) if vals else None

    app_s = (med(lambda r: r["app"]["first_word_ms"]) or 0) / 1000
    raw_s = (med(lambda r: r["raw"]["ttft_ms"]) or 0) / 1000
    ratio = med(lambda r: r["ratio"])
    app_tps = med(lambda r: r["app"]["tokens_per_s"])
    raw_tps = med(lambda r: r["raw"]["tokens_per_s"])
    ceiling = bandwidth * 1e9 / weights
    print()
    print(f"median over {len(rows)} questions: prompt {med(lambda r: r['app']['prompt_tokens'])} "
          f"tokens (whole passages would be {med(lambda r: r['whole_passages_tokens'])})")
    print(f"first word: app {app_s:.2f} s, raw {raw_s:.2f} s, app/raw {ratio} "
          f"(target <= {TARGET_RATIO}: {'PASS' if ratio and ratio <= TARGET_RATIO else 'MISS'}); "
          f"app <= {TARGET_S:.0f} s: {'PASS' if app_s <= TARGET_S else 'MISS'}")
    print(f"generation: app {app_tps} tokens/s, raw {raw_tps} tokens/s, ceiling {ceiling:.1f} "
          f"(app at {100 * (app_tps or 0) / ceiling:.0f}% of it)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "bench": "first_word", "cpu": cpu_line(), "model": model.name,
            "weights_bytes": weights, "bandwidth_gbs": round(bandwidth, 2),
            "reading_speed": round(speed, 1), "rows": rows, "median_app_s": app_s,
            "median_raw_s": raw_s, "median_ratio": ratio, "app_tokens_per_s": app_tps,
            "raw_tokens_per_s": raw_tps, "ceiling_tokens_per_s": round(ceiling, 1)}, indent=2),
            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
