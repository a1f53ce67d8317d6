"""Quant levels of the default model compared on PubMedQA questions (`medsearch compare`).

Run:  .venv/bin/python bench/bench_compare.py [--pubmedqa ../shared/evaldata/pubmedqa]
          [--questions 50] [--levels all] [--work DIR] [--precision int8]

1. In a work folder used as MEDSEARCH_HOME (kept, so a rerun resumes): PubMedQA's passages are
   written as one note each and indexed (`medsearch index`, int8 embedder by default: retrieval
   is held fixed for every level, so its precision does not matter to the comparison).
2. The default model's ladder is built once (`medsearch quantize default`).
3. `medsearch compare --levels ... --questions <the first N PubMedQA questions> --json` runs in
   that home; its report (CSV, JSON, HTML) lands in WORK/compare. The table printed here is
   the one in the README: memory of each level as a share of F16's (weights: the file; process:
   RSS taken by the load), speed, and quality against the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MEDSEARCH = [sys.executable, "-m", "medsearch_app"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print("$ medsearch " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run([*MEDSEARCH, *args], env=env, text=True, stdout=subprocess.PIPE,
                          check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pubmedqa", default=str(REPO.parent / "shared/evaldata/pubmedqa"))
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--levels", default="all")
    ap.add_argument("--precision", default="int8")
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "medsearch-compare"))
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--score-tokens", type=int, default=32)
    ap.add_argument("-k", type=int, default=3, help="passages per prompt (the app's default "
                    "is 5; 3 keeps the prompts near 900 tokens so a full ladder fits in ~30 min "
                    "on 2 cores)")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO))
    from medsearch_app.core.evaluate import pubmedqa_corpus

    work = Path(args.work)
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MEDSEARCH_HOME": str(home)}
    corpus = pubmedqa_corpus(Path(args.pubmedqa), work / "corpus")
    _run(["index", str(corpus), "--precision", args.precision, "-q", "--json"], env)
    _run(["quantize", "default", "--json"], env)
    qfile = work / "questions.jsonl"
    lines = Path(args.pubmedqa, "queries.jsonl").read_text(encoding="utf-8").splitlines()
    qfile.write_text("\n".join(
        json.dumps({"question": json.loads(ln)["question"]}) for ln in lines[:args.questions])
        + "\n", encoding="utf-8")
    out = _run(["compare", "--levels", args.levels, "--questions", str(qfile), "--out",
                str(work / "compare"), "--precision", args.precision, "--max-tokens",
                str(args.max_tokens), "--score-tokens", str(args.score_tokens), "-k",
                str(args.k), "-q",
                "--json"], env)
    rep = json.loads(out.stdout)
    levels = rep["levels"]
    ref = next((r for r in levels if r["quant"] == "F16"), levels[0])
    print(f"\n{len(lines[:args.questions]) - len(rep['skipped'])} questions compared "
          f"({len(rep['skipped'])} skipped), reference {rep['reference']}, memory bandwidth "
          f"{rep['bandwidth_gbs']} GB/s\n")
    print("| level | file MiB | file vs F16 | RSS taken by load MiB | vs F16 | first token ms "
          "| tokens/s | % of bandwidth limit | KLD | same top % | same answer % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in levels:
        print(f"| {r['quant']} | {r['file_mb']} | {r['file_mb'] / ref['file_mb']:.2f} | "
              f"{r['model_rss_mb']} | {r['model_rss_mb'] / ref['model_rss_mb']:.2f} | "
              f"{r['ttft_ms']} | {r['tokens_per_s']} | {r['bandwidth_share_pct']} | "
              f"{r['kld_mean']:.4f} | {r['same_top_pct']} | {r['answer_same_pct']} |")
    print(f"\nRecommendation (same top >= 90%): {rep['recommendation_reason']}")
    print(f"Report: {', '.join(rep['files'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
