"""Retrieval quality on question sets, per mode: PubMedQA passages and page location in PDFs.

Everything is indexed through the real pipeline (files -> chunks -> embedder -> hnswlib + FTS5)
in a temporary library, so the figures are the app's, not the raw model's.
PubMedQA: recall@5, MRR@10, nDCG@10 over passage ids. PDFs (LitQA2 questions with key-passage
pages): share of questions whose key page is among the top-5 hits.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..embedding.embed import load_embedder
from ..errors import BadInput
from ..library.indexing import Library
from ..retrieval.search import Mode, Retriever
from ..settings import Settings, effective_threads
from ..types import IndexDone
from .jsonl import jsonl_lines

Log = Callable[[str], None]


def _index(lib: Library, folder: Path, log: Log) -> IndexDone:
    done = None
    for ev in lib.index_paths([folder]):
        if isinstance(ev, IndexDone):
            done = ev
    assert done is not None
    log(f"indexed {folder}: {done.chunks} chunks in {done.seconds:.1f} s "
        f"({len(done.failed)} failed)")
    return done


def _passage_ranking(hits: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for h in hits:
        seen.setdefault(Path(h.path).stem, None)
    return list(seen)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank lines skipped); BadInput if it cannot be read."""
    out = []
    for i, line in jsonl_lines(path):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{i}: not valid JSON ({exc.msg})") from exc
        if not isinstance(rec, dict):
            raise BadInput(f"{path}:{i}: not a JSON object")
        out.append(rec)
    return out


def parse_weights(text: str) -> list[float] | None:
    """Hybrid dense weights from "0.4,0.6" (None when empty); BadInput if not numbers."""
    try:
        return [float(w) for w in text.split(",") if w.strip()] or None
    except ValueError as exc:
        raise BadInput(f"weights must be numbers separated by commas, not {text!r}") from exc


def pubmedqa_corpus(folder: Path, work: Path) -> Path:
    """Write PubMedQA's passages as one note each (<passage id>.txt) into `work`."""
    work.mkdir(parents=True, exist_ok=True)
    for rec in read_jsonl(folder / "corpus.jsonl"):
        f_out = work / f"{rec['id']}.txt"
        if not f_out.exists():
            f_out.write_text(rec["text"], encoding="utf-8")
    return work


def _index_bytes(lib: Library) -> dict[str, float]:
    """Size of the library's vector index on disk (its newest generation file) and of its
    database; hnswlib keeps the same layout in memory as in the file."""
    idx = sorted((Path(lib.home) / "indexes").rglob("index-*.bin"),
                 key=lambda f: f.stat().st_mtime)
    db = sum(f.stat().st_size for f in Path(lib.home).glob("library.sqlite3*"))
    return {"index_mb": round(idx[-1].stat().st_size / 2**20, 2) if idx else 0.0,
            "database_mb": round(db / 2**20, 2)}


def eval_pubmedqa(lib: Library, folder: Path, modes: list[str], *, limit: int, log: Log,
                  weights: list[float],
                  rankings: dict[str, list[list[str]]] | None = None) -> dict[str, Any]:
    """recall@5 (a relevant passage in the top 5), MRR@10, nDCG@10, and set precision, recall
    and F1 at 5 over the relevant passage ids; `rankings` collects each mode's top 10."""
    work = pubmedqa_corpus(folder, Path(lib.home) / "pubmedqa_corpus")
    done = _index(lib, work, log)
    queries = read_jsonl(folder / "queries.jsonl")
    if limit:
        queries = queries[:limit]
    out: dict[str, Any] = {"questions": len(queries), "chunks": done.chunks,
                           "index_seconds": done.seconds,
                           "chunks_per_s": round(done.chunks / done.seconds, 1)
                           if done.seconds else None, **_index_bytes(lib)}
    runs: list[tuple[str, float | None]] = [(m, None) for m in modes if m != "hybrid"]
    if "hybrid" in modes:
        runs += [("hybrid", w) for w in weights]
    for mode, w in runs:
        retr = Retriever(lib) if w is None else Retriever(lib, dense_weight=w)
        r5 = mrr = ndcg = p5 = rr5 = f5 = 0.0
        lat: list[float] = []
        ranks: list[list[str]] = []
        for q in queries:
            res = retr.search(q["question"], k=30, mode=mode)
            lat.append(res.elapsed_ms)
            ranking = _passage_ranking(res.hits)[:10]
            ranks.append(ranking)
            rel = set(q["relevant_ids"])
            r5 += any(p in rel for p in ranking[:5])
            got = len(rel & set(ranking[:5]))
            prec, rec = got / 5, got / len(rel) if rel else 0.0
            p5, rr5 = p5 + prec, rr5 + rec
            f5 += 2 * prec * rec / (prec + rec) if got else 0.0
            first = next((i for i, p in enumerate(ranking) if p in rel), None)
            mrr += 1.0 / (first + 1) if first is not None else 0.0
            dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(ranking) if p in rel)
            idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
            ndcg += dcg / idcg if idcg else 0.0
        n = max(1, len(queries))
        name = mode if w is None else f"hybrid@{w:g}"
        lat.sort()
        out[name] = {"recall@5": round(r5 / n, 4), "mrr@10": round(mrr / n, 4),
                     "ndcg@10": round(ndcg / n, 4), "precision@5": round(p5 / n, 4),
                     "set_recall@5": round(rr5 / n, 4), "f1@5": round(f5 / n, 4),
                     "p50_ms": round(lat[len(lat) // 2], 2)}
        if rankings is not None:
            rankings[name] = ranks
        log(f"pubmedqa {name}: {out[name]}")
    return out


def eval_pdfs(lib: Library, folder: Path, modes: list[str], *, log: Log,
              weights: list[float], page_questions: Sequence[Path] = ()) -> dict[str, Any]:
    """Page location: the LitQA2 key pages, plus page-located question files of one's own
    (JSONL: question, file (a name under `folder`), pages (1-based physical pages))."""
    done = _index(lib, folder, log)
    sets: dict[str, list[dict[str, Any]]] = {"litqa2": []}
    for qfile in sorted(folder.rglob("questions.jsonl")):
        for rec in read_jsonl(qfile):
            if rec.get("key_passage_pages"):
                sets["litqa2"].append({"question": rec["question"], "file": rec["file"],
                                       "pages": rec["key_passage_pages"]})
    for extra in page_questions:
        sets[extra.stem] = read_jsonl(extra)
    out: dict[str, Any] = {"questions": {k: len(v) for k, v in sets.items()},
                           "chunks": done.chunks,
                           "failed": [{"path": f.path, "reason": f.reason} for f in done.failed]}
    runs: list[tuple[str, float | None]] = [(m, None) for m in modes if m != "hybrid"]
    if "hybrid" in modes:
        runs += [("hybrid", w) for w in weights]
    for mode, w in runs:
        retr = Retriever(lib) if w is None else Retriever(lib, dense_weight=w)
        name = mode if w is None else f"hybrid@{w:g}"
        for set_name, qs in sets.items():
            found = 0
            for q in qs:
                res = retr.search(q["question"], k=5, mode=mode)
                pages, file = set(q["pages"]), Path(q["file"]).name
                found += any(Path(h.path).name == file and h.page in pages for h in res.hits)
            key = name if set_name == "litqa2" else f"{set_name}:{name}"
            out[key] = {"page_in_top5": found, "of": len(qs),
                        "share": round(found / max(1, len(qs)), 3)}
            log(f"pdfs {key}: {out[key]}")
    return out


def overlap_at(a: list[list[str]], b: list[list[str]], k: int = 10) -> float:
    """Mean share of the top k that two rankings of the same questions have in common (of the
    longer of the two when a ranking has fewer than k entries: a ranking overlaps itself 1.0)."""
    pairs = list(zip(a, b, strict=True))
    if not pairs:
        return 0.0
    return round(sum(len(set(x[:k]) & set(y[:k])) / max(1, len(x[:k]), len(y[:k]))
                     for x, y in pairs) / len(pairs), 4)


def run_precisions(*, pubmedqa: Path | None, precisions: list[str], modes: list[str],
                   limit: int = 0, log: Log = print, work: Path | None = None,
                   pdfs: Path | None = None,
                   page_questions: Sequence[Path] = ()) -> dict[str, Any]:
    """The embedder precisions side by side on PubMedQA (and the PDF pages when `pdfs` is
    given): each precision's retrieval figures (eval_pubmedqa, eval_pdfs), its indexing
    throughput and index size, and the overlap of its top 10 with the first precision's (the
    reference, normally fp32) per mode."""
    out: dict[str, Any] = {"reference": precisions[0], "precisions": {}}
    ranks: dict[str, dict[str, list[list[str]]]] = {}
    for p in precisions:
        ranks[p] = {}
        rep = run_eval(pubmedqa=pubmedqa, pdfs=pdfs, modes=modes, precision=p, limit=limit,
                       log=log, work=work, rankings=ranks[p], page_questions=page_questions)
        out["precisions"][p] = rep
    ref = precisions[0]
    for p in precisions:
        for mode, r in ranks[p].items():
            if mode in ranks[ref] and "pubmedqa" in out["precisions"][p]:
                out["precisions"][p]["pubmedqa"][mode]["overlap@10"] = overlap_at(
                    r, ranks[ref][mode])
    return out


def precision_table(report: dict[str, Any]) -> str:
    """run_precisions' report as one plain-text table: a row per precision and mode."""
    lines = [f"{'precision':<10} {'mode':<10} {'R@5':>6} {'MRR@10':>7} {'nDCG@10':>8} "
             f"{'ovl@10':>7} {'chunks/s':>8} {'pages@5':>9}"]
    for p, rep in report["precisions"].items():
        pq = rep.get("pubmedqa", {})
        pdf = rep.get("pdfs", {})
        modes = [m for m in pq if isinstance(pq[m], dict) and "recall@5" in pq[m]] or [
            m for m in pdf if isinstance(pdf[m], dict) and "share" in pdf[m] and ":" not in m]
        for m in modes:
            r = pq.get(m, {})
            pages = [v for k, v in pdf.items() if isinstance(v, dict) and "page_in_top5" in v
                     and k.split(":")[-1] == m]
            found = sum(v["page_in_top5"] for v in pages)
            of = sum(v["of"] for v in pages)

            def f(key: str, r: dict[str, Any] = r) -> str:
                return f"{r[key]:.4f}" if key in r else "-"

            lines.append(f"{p:<10} {m:<10} {f('recall@5'):>6} {f('mrr@10'):>7} "
                         f"{f('ndcg@10'):>8} {f('overlap@10'):>7} "
                         f"{pq.get('chunks_per_s') or '-':>8} "
                         f"{f'{found}/{of}' if of else '-':>9}")
    return "\n".join(lines)


def run_eval(*, pubmedqa: Path | None, pdfs: Path | None, modes: list[str], precision: str,
             limit: int = 0, log: Log = print, weights: list[float] | None = None,
             work: Path | None = None, page_questions: Sequence[Path] = (),
             rankings: dict[str, list[list[str]]] | None = None) -> dict[str, Any]:
    """Evaluate retrieval per mode (and per hybrid weight) in a throwaway library."""
    from ..retrieval.search import DENSE_WEIGHT

    for m in modes:
        Mode.parse(m)
    weights = weights or [DENSE_WEIGHT]
    t0 = time.monotonic()
    report: dict[str, Any] = {"precision": precision}
    emb = load_embedder(None, precision, threads=effective_threads(Settings.load()))
    report["embedder"] = emb.name
    with tempfile.TemporaryDirectory(prefix="medsearch-eval-") as tmp_s:
        # A kept work folder makes re-runs incremental (unchanged files are not re-embedded).
        tmp = str(work / precision) if work else tmp_s
        if pubmedqa:
            (Path(tmp) / "pubmedqa").mkdir(parents=True, exist_ok=True)
            lib = Library(Path(tmp) / "pubmedqa", emb)
            try:
                report["pubmedqa"] = eval_pubmedqa(lib, pubmedqa, modes, limit=limit, log=log,
                                                   weights=weights, rankings=rankings)
            finally:
                lib.close()
        if pdfs:
            (Path(tmp) / "pdfs").mkdir(parents=True, exist_ok=True)
            lib = Library(Path(tmp) / "pdfs", emb)
            try:
                report["pdfs"] = eval_pdfs(lib, pdfs, modes, log=log, weights=weights,
                                           page_questions=page_questions)
            finally:
                lib.close()
    report["seconds"] = round(time.monotonic() - t0, 1)
    return report

