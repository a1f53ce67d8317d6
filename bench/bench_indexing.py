"""Indexing throughput: chunks/s through `medsearch index` vs raw sentence-transformers encode.

Run:  .venv/bin/python bench/bench_indexing.py [--notes] [--precisions fp32,int8]
                                                [--max-files N] [--json OUT]

For each precision, in one run:

  app   the real CLI as a subprocess, `medsearch index --json --precision P FILES...`, on a fresh
        temporary MEDSEARCH_HOME (the user's library is never touched). Default documents: the 11
        top-level PDFs of <evaldata>/pdfs (not litqa2/); --notes uses the ACI-BENCH clinical notes
        of <evaldata>/clinical_notes_aci_bench/notes.
  raw   `SentenceTransformer.encode` on the SAME chunk texts, read back from the chunks table of
        that run's library.sqlite3: the model from default_embedder_path(), batch_size 32,
        normalize_embeddings=True, the same torch thread count as the app; for int8 the same
        torch quantize_dynamic(nn.Linear, qint8) model. Only encode is timed (after a warm-up
        encode of 8 texts).

Two ratios are reported (app chunks/s divided by raw chunks/s), clearly labelled:
  wall   the CLI's wall time: process start + imports + model load + PDF extraction + embedding
         + SQLite/index writes.
  index  the CLI's own `seconds` from its JSON: the indexing run only (extraction, embedding and
         writes; no process start, no model load).
The text extraction alone (the app's own extractor: a spawned pypdf child per PDF) is also timed
once, to show how much of the gap it explains (--no-extract skips it).
Target: ratio >= 0.8 (the `index` ratio is the one the target is about; `wall` is shown too).
Exits 0 whatever the figures; PASS/MISS is printed next to each target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.8
WARMUP_TEXTS = 8


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _documents(evaldata: Path, notes: bool, max_files: int) -> list[Path]:
    if notes:
        folder = evaldata / "clinical_notes_aci_bench" / "notes"
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".txt", ".md"})
    else:
        folder = evaldata / "pdfs"
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".pdf")
    if not files:
        raise SystemExit(f"no documents found in {folder}")
    return files[:max_files] if max_files > 0 else files


def _run_cli(files: list[Path], precision: str, home: Path) -> tuple[dict[str, Any], float]:
    env = dict(os.environ, MEDSEARCH_HOME=str(home))
    cmd = [sys.executable, "-m", "medsearch_app", "index", "--json", "-q",
           "--precision", precision, *[str(f) for f in files]]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"medsearch index exited {proc.returncode}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return json.loads(lines[-1]), wall


def _chunk_texts(home: Path) -> list[str]:
    db = sqlite3.connect(home / "library.sqlite3")
    try:
        return [r[0] for r in db.execute("SELECT text FROM chunks ORDER BY id")]
    finally:
        db.close()


def _extract_seconds(files: list[Path]) -> float:
    """Seconds to extract every document alone, one after another, as the app does (pdf.py)."""
    from medsearch_app.core.ingest.notes import read_note
    from medsearch_app.core.ingest.pdf import extract_pdf

    t0 = time.perf_counter()
    for f in files:
        if f.suffix.lower() == ".pdf":
            extract_pdf(f)
        else:
            read_note(f)
    return time.perf_counter() - t0


def _raw_encode(texts: list[str], precision: str, threads: int) -> float:
    """Seconds taken by SentenceTransformer.encode over all texts (model load not timed)."""
    import warnings

    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from medsearch_app.core.embed import default_embedder_path

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    model: Any = SentenceTransformer(str(default_embedder_path()), device="cpu",
                                     local_files_only=True)
    model.eval()
    if precision == "int8":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.ao.quantization import quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    kw = {"batch_size": 32, "normalize_embeddings": True, "convert_to_numpy": True,
          "show_progress_bar": False}
    model.encode(texts[:WARMUP_TEXTS], **kw)
    t0 = time.perf_counter()
    vecs = model.encode(texts, **kw)
    seconds = time.perf_counter() - t0
    assert vecs.shape[0] == len(texts)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaldata", default=str(REPO.parent / "shared" / "evaldata"),
                    help="shared evaluation data folder (default: %(default)s)")
    ap.add_argument("--notes", action="store_true",
                    help="index the ACI-BENCH clinical notes instead of the PDFs")
    ap.add_argument("--max-files", type=int, default=0,
                    help="only the first N documents (sorted by name; 0 = all)")
    ap.add_argument("--precisions", default="fp32,int8", help="comma-separated (fp32,int8)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads of the raw baseline (0 = the app's own choice)")
    ap.add_argument("--no-extract", action="store_true",
                    help="skip timing the text extraction alone")
    ap.add_argument("--keep", action="store_true", help="keep the temporary homes")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO))
    from medsearch_app.core.settings import Settings, effective_threads

    app_threads = effective_threads(Settings())
    threads = args.threads or app_threads
    files = _documents(Path(args.evaldata), args.notes, args.max_files)
    source = "clinical notes" if args.notes else "PDFs"
    print(f"{len(files)} {source} from {Path(args.evaldata).resolve()}; app threads "
          f"{app_threads}, raw torch threads {threads}")

    rows: list[dict[str, Any]] = []
    for precision in [p.strip() for p in args.precisions.split(",") if p.strip()]:
        home = Path(tempfile.mkdtemp(prefix=f"medsearch-bench-index-{precision}-"))
        try:
            done, wall = _run_cli(files, precision, home)
            texts = _chunk_texts(home)
        finally:
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)
        if not texts:
            raise SystemExit("the index run produced no chunks")
        raw_s = _raw_encode(texts, precision, threads)
        n = len(texts)
        row = {
            "precision": precision, "files": len(files), "failed": len(done["failed"]),
            "chunks": n, "chunks_reported": done["chunks"],
            "cli_wall_s": round(wall, 3), "cli_index_s": done["seconds"],
            "raw_encode_s": round(raw_s, 3),
            "cli_wall_chunks_per_s": round(n / wall, 2),
            "cli_index_chunks_per_s": round(n / done["seconds"], 2),
            "raw_chunks_per_s": round(n / raw_s, 2),
            "ratio_wall": round(raw_s / wall, 3),
            "ratio_index": round(raw_s / done["seconds"], 3),
        }
        row["pass_index"] = row["ratio_index"] >= TARGET_RATIO
        row["pass_wall"] = row["ratio_wall"] >= TARGET_RATIO
        rows.append(row)
        print(f"  {precision}: {n} chunks ({row['failed']} file(s) failed), CLI wall "
              f"{wall:.1f} s, CLI index {done['seconds']:.1f} s, raw encode {raw_s:.1f} s")

    extract_s = None if args.no_extract else round(_extract_seconds(files), 3)

    print()
    print(f"{'precision':<9} {'chunks':>6} | {'what':<36} {'seconds':>8} {'chunks/s':>9} "
          f"{'ratio':>6}  target >= {TARGET_RATIO}")
    for r in rows:
        print(f"{r['precision']:<9} {r['chunks']:>6} | {'raw SentenceTransformer.encode':<36} "
              f"{r['raw_encode_s']:>8.2f} {r['raw_chunks_per_s']:>9.1f} {'1.000':>6}")
        print(f"{'':<9} {'':>6} | {'app: CLI indexing (JSON seconds)':<36} "
              f"{r['cli_index_s']:>8.2f} {r['cli_index_chunks_per_s']:>9.1f} "
              f"{r['ratio_index']:>6.3f}  {_verdict(r['pass_index'])}")
        print(f"{'':<9} {'':>6} | {'app: CLI wall (+start, load, extract)':<36} "
              f"{r['cli_wall_s']:>8.2f} {r['cli_wall_chunks_per_s']:>9.1f} "
              f"{r['ratio_wall']:>6.3f}  {_verdict(r['pass_wall'])}")
    print("ratio = app chunks/s / raw chunks/s on the same chunk texts, same run. "
          "CLI seconds include text extraction (overlapped with embedding).")
    if extract_s is not None:
        print(f"text extraction alone (the app's extractor, files one after another, no "
              f"embedding): {extract_s:.2f} s for {len(files)} file(s)")

    if args.json:
        out = {"bench": "indexing", "source": source, "files": [f.name for f in files],
               "app_threads": app_threads, "raw_threads": threads,
               "extract_alone_s": extract_s, "target_ratio": TARGET_RATIO, "results": rows}
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
