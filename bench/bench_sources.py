"""Whole passages or excerpts: what the model reads of each source, answer quality and time to
first token, side by side.

Run:  .venv/bin/python bench/bench_sources.py [--source-chars 0,600,300] [--pubmedqa DIR]
                 [--limit N] [--json OUT]

The questions are the project's own small library (tests/data/small_library: clinic notes and
two short PDFs, questions typed the way a clinician types them, each answerable one listing the
words a right answer contains), and with --pubmedqa DIR the first --limit PubMedQA questions
(yes/no/maybe) over that folder's passages. Each is asked through the app's own pipeline
(eval_answers: Engine.ask) with the default model and embedder, greedy (temperature 0) so the
settings differ only in what the model reads:

  0   the whole passage of each source (up to rag.SOURCE_CHARS): the app before excerpts
  N   each source cut to its best sentences and their neighbours, about N characters
      (evidence.excerpts; the sentences are scored as the quoted evidence is)

Reported per setting: answered share, answers holding all their answer terms, answers citing
the gold document, checked sentences supported by their sources, yes/no/maybe accuracy
(PubMedQA), median prompt tokens and median time to first token. Retrieval is the same for
every setting (same index), so refusals do not move. Exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
COLUMNS = [("answered_share", "answered"), ("answer_terms_share", "terms"),
           ("cites_gold_share", "cites gold"), ("sentences_supported_share", "supported"),
           ("decision_accuracy", "decision"), ("median_prompt_tokens", "prompt tok"),
           ("median_ttft_ms", "TTFT ms")]


def _row(name: str, summary: dict[str, Any]) -> str:
    cells = []
    for key, _ in COLUMNS:
        v = summary.get(key)
        cells.append("-" if v is None else (f"{v:.3f}" if isinstance(v, float) and v <= 1
                                            else f"{v:.0f}"))
    return f"{name:<22}" + "".join(f"{c:>11}" for c in cells)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-chars", default="0,600,300",
                    help="comma-separated settings to compare (default: %(default)s)")
    ap.add_argument("--pubmedqa", metavar="DIR", help="also PubMedQA from this folder")
    ap.add_argument("--limit", type=int, default=60, help="PubMedQA questions (default 60)")
    ap.add_argument("--json", metavar="OUT", help="also write the summaries as JSON")
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's
    settings_list = [int(x) for x in args.source_chars.split(",") if x.strip()]

    home = Path(tempfile.mkdtemp(prefix="medsearch-bench-sources-"))
    os.environ["MEDSEARCH_HOME"] = str(home)
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tests" / "data" / "small_library"))
    from render import build_library  # type: ignore[import-not-found]

    from medsearch_app.core.engine import Engine
    from medsearch_app.core.evaluation import answers as eval_answers
    from medsearch_app.core.settings import Settings

    library = build_library(home / "small_library")
    sets: list[tuple[str, dict[str, Any]]] = [
        ("small library", {"questions": REPO / "tests" / "data" / "small_library"
                           / "questions.jsonl", "library": [library]})]
    if args.pubmedqa:
        sets.append((f"PubMedQA ({args.limit})", {"pubmedqa": Path(args.pubmedqa),
                                                  "limit": args.limit}))
    engine = Engine(Settings(temperature=0.0))
    results: dict[str, dict[str, Any]] = {}
    try:
        for set_name, kw in sets:
            for chars in settings_list:
                rep = eval_answers.run(engine, source_chars=chars,
                                       log=lambda m: print(m, file=sys.stderr), **kw)
                results[f"{set_name} / {chars}"] = rep["summary"]
    finally:
        engine.close()

    print(f"{'set / source chars':<22}" + "".join(f"{h:>11}" for _, h in COLUMNS))
    for name, summary in results.items():
        print(_row(name, summary))
    print("source chars 0 = whole passages; N = excerpts of about N characters per source. "
          "terms = answered questions whose answer holds all its answer terms; decision = "
          "yes/no/maybe accuracy. Same index, greedy decoding, default model.")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
