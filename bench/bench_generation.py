"""Generation speed: the app's LlmRuntime.stream vs a bare llama_cpp.Llama on the same prompt.

Run:  .venv/bin/python bench/bench_generation.py [--model FILE] [--max-tokens 128]
                                                  [--repeats 3] [--no-ask] [--json OUT]

The prompt is built as the app builds it: rag.build_messages(question, hits) with 5 passages of
the demo guideline (resources/demo/guideline.md cut into 800-character pieces; the 5 pieces
sharing most words with the question, as Hit objects), rendered by LlmRuntime.render() with the
model's own chat template. Then, alternating, --repeats times each:

  app   LlmRuntime(model, n_ctx, n_threads, seed).stream(prompt, max_tokens, temperature=0);
        figures from the GenStats it reports itself.
  raw   llama_cpp.Llama(model_path=..., same n_ctx/n_threads/seed).create_completion(prompt,
        stream=True, temperature=0, same max_tokens and the app's top_p/repeat_penalty), timed
        the same way: TTFT = first streamed token - call, tokens/s = (tokens - 1) / (end - first).
        llm.reset() is called before each raw completion, and LlmRuntime.clear_cache() before
        each app one: otherwise llama-cpp-python would reuse the KV cache of the identical
        prompt from the previous repeat (the app keeps only the prefix that questions share;
        bench_ttft.py measures that).

Both generate greedily (temperature 0), so they should produce the same text; the table says so.
Reported: median tokens/s and TTFT per side and the app/raw ratio. Target: tokens/s ratio >=
0.95. Last, unless --no-ask, `medsearch ask --json` runs once as a subprocess on the demo library
(demo.install_demo + `medsearch index`) in a temporary MEDSEARCH_HOME, and its timings block is
printed. Exits 0 always.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.95
PIECE_CHARS = 800
N_PASSAGES = 5


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def demo_hits(question: str) -> list[Any]:
    from medsearch_app.core.types import Hit

    text = (REPO / "resources" / "demo" / "guideline.md").read_text(encoding="utf-8")
    pieces = [text[i:i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)]
    words = set(re.findall(r"[a-z0-9-]{3,}", question.lower()))
    overlap = [len(words & set(re.findall(r"[a-z0-9-]{3,}", p.lower()))) for p in pieces]
    best = sorted(range(len(pieces)), key=lambda i: (-overlap[i], i))[:N_PASSAGES]
    return [Hit(rank=r + 1, chunk_id=i + 1, path="guideline.pdf", page=i // 4 + 1,
                page_label=None, score=1.0 - r / 10, text=pieces[i])
            for r, i in enumerate(best)]


def run_app(rt: Any, prompt: str, max_tokens: int) -> dict[str, Any]:
    from medsearch_app.core.llm.runtime import GenStats

    stats: list[GenStats] = []
    rt.clear_cache()  # the same prompt every repeat: read it whole each time, as the raw side
    t0 = time.perf_counter()
    text = "".join(rt.stream(prompt, max_tokens=max_tokens, temperature=0.0, stats_out=stats))
    wall = time.perf_counter() - t0
    st = stats[0]
    return {"tokens": st.completion_tokens, "ttft_ms": st.ttft_ms,
            "tokens_per_s": st.tokens_per_s, "wall_ms": round(wall * 1000, 1), "text": text}


def run_raw(llm: Any, prompt: str, max_tokens: int) -> dict[str, Any]:
    llm.reset()
    t0 = time.perf_counter()
    t_first: float | None = None
    n = 0
    parts: list[str] = []
    for part in llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, top_p=0.9,
                                      repeat_penalty=1.1, stream=True):
        choice = part["choices"][0]
        if choice.get("finish_reason") is None:
            n += 1
            if t_first is None:
                t_first = time.perf_counter()
        parts.append(choice["text"])
    t_end = time.perf_counter()
    ttft = (t_first - t0) if t_first else None
    tps = (n - 1) / (t_end - t_first) if t_first and n > 1 else None
    return {"tokens": n, "ttft_ms": round(ttft * 1000, 2) if ttft else None,
            "tokens_per_s": round(tps, 1) if tps else None,
            "wall_ms": round((t_end - t0) * 1000, 1), "text": "".join(parts)}


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    xs = [r[key] for r in rows if r[key] is not None]
    return round(statistics.median(xs), 2) if xs else None


def run_ask(home: Path, question: str, max_tokens: int, model: str | None) -> dict[str, Any]:
    from medsearch_app.demo import install_demo

    demo = install_demo(home / "demo")
    env = dict(os.environ, MEDSEARCH_HOME=str(home))
    cli = [sys.executable, "-m", "medsearch_app"]
    t0 = time.perf_counter()
    idx = subprocess.run([*cli, "index", "--json", "-q", str(demo)], cwd=REPO, env=env,
                         capture_output=True, text=True, check=False)
    index_wall = time.perf_counter() - t0
    if idx.returncode != 0:
        sys.stderr.write(idx.stderr[-3000:])
        return {"error": f"medsearch index exited {idx.returncode}"}
    cmd = [*cli, "ask", "--json", "--max-tokens", str(max_tokens), question]
    if model:
        cmd += ["--model", model]
    t0 = time.perf_counter()
    ask = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    ask_wall = time.perf_counter() - t0
    if ask.returncode != 0:
        sys.stderr.write(ask.stderr[-3000:])
        return {"error": f"medsearch ask exited {ask.returncode}"}
    out = json.loads([ln for ln in ask.stdout.splitlines() if ln.strip()][-1])
    return {"index_wall_s": round(index_wall, 2), "ask_wall_s": round(ask_wall, 2),
            "timings": out["timings"], "model": out["model"], "supported": out["supported"],
            "citations": len(out["citations"]), "answer": out["answer"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="GGUF file (default: the shipped default model)")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each side, alternating")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=0, help="0 = the app's own choice")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--question", default="")
    ap.add_argument("--no-ask", action="store_true", help="skip the `medsearch ask` run")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's

    home = Path(tempfile.mkdtemp(prefix="medsearch-bench-gen-"))
    os.environ["MEDSEARCH_HOME"] = str(home)  # before any medsearch_app import reads it
    sys.path.insert(0, str(REPO))
    try:
        return _main(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _main(args: argparse.Namespace, home: Path) -> int:
    import llama_cpp

    from medsearch_app.core.answer.rag import build_messages
    from medsearch_app.core.llm.models import default_model_path
    from medsearch_app.core.llm.runtime import LlmRuntime
    from medsearch_app.core.settings import Settings, effective_threads
    from medsearch_app.demo import DEMO_QUESTIONS

    model = Path(args.model) if args.model else default_model_path()
    threads = args.threads or effective_threads(Settings())
    question = args.question or DEMO_QUESTIONS[0]

    rt = LlmRuntime(model, n_ctx=args.n_ctx, n_threads=threads, seed=args.seed)
    rt.load()
    prompt = rt.render(build_messages(question, demo_hits(question)))
    n_prompt = rt.count_tokens(prompt)
    raw = llama_cpp.Llama(model_path=str(model), n_ctx=rt.n_ctx, n_threads=threads,
                          n_threads_batch=threads, seed=args.seed, verbose=False)
    print(f"{model.name} ({rt.quant}), n_ctx {rt.n_ctx}, {threads} threads, prompt "
          f"{n_prompt} tokens, max_tokens {args.max_tokens}, {args.repeats} repeats each")

    # One untimed warm-up each (first-call allocations, page faults of the weights).
    run_app(rt, prompt, 8)
    run_raw(raw, prompt, 8)
    app_rows: list[dict[str, Any]] = []
    raw_rows: list[dict[str, Any]] = []
    for i in range(args.repeats):
        sides = [("app", app_rows), ("raw", raw_rows)]
        for name, rows in sides if i % 2 == 0 else sides[::-1]:
            r = (run_app(rt, prompt, args.max_tokens) if name == "app"
                 else run_raw(raw, prompt, args.max_tokens))
            rows.append(r)
            print(f"  {name} #{len(rows)}: {r['tokens']} tokens, TTFT {r['ttft_ms']} ms, "
                  f"{r['tokens_per_s']} tok/s")
    same_text = all(a["text"] == b["text"] for a, b in zip(app_rows, raw_rows, strict=True))
    rt.close()
    raw.close()

    med = {side: {k: _median(rows, k) for k in ("tokens_per_s", "ttft_ms", "wall_ms", "tokens")}
           for side, rows in (("app", app_rows), ("raw", raw_rows))}
    a, b = med["app"], med["raw"]
    ratio_tps = round(a["tokens_per_s"] / b["tokens_per_s"], 3) if a["tokens_per_s"] and \
        b["tokens_per_s"] else None
    ratio_ttft = round(a["ttft_ms"] / b["ttft_ms"], 3) if a["ttft_ms"] and b["ttft_ms"] else None
    ratio_wall = round(a["wall_ms"] / b["wall_ms"], 3) if a["wall_ms"] and b["wall_ms"] else None
    ok = ratio_tps is not None and ratio_tps >= TARGET_RATIO

    print()
    print(f"{'median of ' + str(args.repeats):<18} {'app':>9} {'raw':>9} {'app/raw':>8}  target")
    print(f"{'tokens/s':<18} {a['tokens_per_s']:>9} {b['tokens_per_s']:>9} {ratio_tps:>8}"
          f"  >= {TARGET_RATIO} {_verdict(ok)}")
    print(f"{'TTFT ms':<18} {a['ttft_ms']:>9} {b['ttft_ms']:>9} {ratio_ttft:>8}  (lower is better)")
    print(f"{'call wall ms':<18} {a['wall_ms']:>9} {b['wall_ms']:>9} {ratio_wall:>8}")
    print(f"{'tokens':<18} {a['tokens']:>9} {b['tokens']:>9}")
    print(f"same generated text (greedy): {'yes' if same_text else 'NO'}")

    ask: dict[str, Any] | None = None
    if not args.no_ask:
        print("\nmedsearch ask --json on the indexed demo library (one run):")
        ask = run_ask(home, question, args.max_tokens, args.model)
        if "error" in ask:
            print(f"  {ask['error']}")
        else:
            t = ask["timings"]
            print(f"  demo index {ask['index_wall_s']} s wall; ask {ask['ask_wall_s']} s wall "
                  f"(process start + model loads + answer); {ask['model']['file']} "
                  f"({ask['model']['quant']}), supported {ask['supported']}, "
                  f"{ask['citations']} citation(s)")
            print("  timings: " + ", ".join(f"{k} {v}" for k, v in t.items()))

    if args.json:
        out = {"bench": "generation", "model": str(model), "quant": rt.quant, "threads": threads,
               "n_ctx": rt.n_ctx, "prompt_tokens": n_prompt, "max_tokens": args.max_tokens,
               "repeats": args.repeats, "app": app_rows, "raw": raw_rows, "median": med,
               "ratio_tokens_per_s": ratio_tps, "ratio_ttft": ratio_ttft,
               "ratio_wall": ratio_wall, "same_text": same_text, "target_ratio": TARGET_RATIO,
               "pass": ok, "ask": ask}
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
