"""Vector search: recall@10 against exact search and single-query latency at N chunks.

Run:  .venv/bin/python bench/bench_retrieval.py [--n 100000] [--queries 1000] [--json OUT]

Builds, in the same run and on the same vectors:
  app   medsearch_app.core.library.index.VectorIndex (the app's own wrapper: M=32,
        ef_construction=400, search ef=128), filled in batches of 64 vectors as the library
        does while indexing.
  raw   a bare hnswlib.Index with the same space/M/ef_construction/ef, filled with one
        add_items call (num_threads=1, like the app).
and compares both with exact search (numpy brute force, cosine) over --queries held-out vectors:
recall@10, p50/p99 single-query latency (queries alternate app/raw to share the machine's noise),
also at k=50 (the candidate count the app's Retriever asks for). It then times save + reopen of
the app index (VectorIndex.save: new generation file, fsync, SHA-256, meta.json; open: checksum
verification + hnswlib load) against raw save_index/load_index, and checks the reopened index
answers as before.

Vectors: embedding 100k real passages takes far too long on a 2-core machine, so the vectors are
synthetic, hierarchical gaussian clusters: --topics random unit topic directions; --clusters
cluster centres (think: documents), each mixing a topic's direction with a random one
(--topic-cos) and all sharing one common direction (--common; real sentence embeddings are
anisotropic); each vector is its centre plus gaussian noise, mostly (--rank-share) inside a
random --rank-dimensional subspace of its own cluster, scaled so its mean cosine to the centre is
--centre-cos, then normalised. Queries are drawn from the same distribution.
Calibration: on 3592 real all-MiniLM-L6-v2 PubMedQA passage vectors (1000 abstracts, leave-out
queries, the app's M/ef_construction) hnswlib recall@10 was 0.92/0.96/0.99/1.00 at search ef
10/16/32/64; these defaults at the same size give 0.91/0.95/0.97/0.99 (slightly harder than real
text), query top-1 cosine p10/p50/p90 0.41/0.58/0.69 (real 0.57/0.71/0.84), mean pairwise cosine
0.10 (real 0.13). Flat clusters without the topic level are far harder than real text (recall
0.97 at ef 128 against 0.999 for the real vectors). The printed top-1 cosines let a reader judge.

Targets: app recall@10 >= 0.98, app p50 latency < 10 ms. Ratios are app / raw. Exits 0 always.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
TARGET_RECALL = 0.98
TARGET_P50_MS = 10.0
ADD_BATCH = 64


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def make_vectors(n: int, dim: int, *, topics: int, topic_cos: float, clusters: int,
                 common: float, centre_cos: float, rank: int, rank_share: float,
                 seed: int) -> np.ndarray:
    """n unit vectors: hierarchical gaussian clusters (see the module docstring)."""
    rng = np.random.default_rng(seed)

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    shared = unit(rng.standard_normal(dim))
    topic = unit(rng.standard_normal((topics, dim)))
    centres = unit(np.sqrt(topic_cos) * topic[rng.integers(0, topics, clusters)]
                   + np.sqrt(1 - topic_cos) * unit(rng.standard_normal((clusters, dim))))
    centres = unit(np.sqrt(common) * shared + np.sqrt(1 - common) * centres)
    # E|noise|^2 = r2 gives a mean cosine to the centre of about 1 / sqrt(1 + r2).
    r2 = 1.0 / centre_cos**2 - 1.0
    labels = rng.integers(0, clusters, n)
    out = centres[labels] + rng.standard_normal((n, dim)) * np.sqrt(r2 * (1 - rank_share) / dim)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(clusters + 1))
    for c in range(clusters):
        rows = order[bounds[c]:bounds[c + 1]]
        if len(rows):
            basis = rng.standard_normal((rank, dim)) / np.sqrt(dim)  # this cluster's subspace
            z = rng.standard_normal((len(rows), rank)) * np.sqrt(r2 * rank_share / rank)
            out[rows] += z @ basis
    return unit(out).astype(np.float32)


def exact_topk(data: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k ids (best first) and the best cosine of every query, by numpy brute force."""
    ids = np.empty((len(queries), k), dtype=np.int64)
    best = np.empty(len(queries), dtype=np.float32)
    for a in range(0, len(queries), 100):
        sims = queries[a:a + 100] @ data.T
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        ids[a:a + 100] = np.take_along_axis(part, order, axis=1)
        best[a:a + 100] = sims.max(axis=1)
    return ids, best


def recall(found: list[list[int]], truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k].tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (k * len(truth))


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="vectors in the index")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=1000, help="held-out query vectors")
    ap.add_argument("--topics", type=int, default=50, help="top-level topics")
    ap.add_argument("--topic-cos", type=float, default=0.3,
                    help="share of a cluster centre that is its topic's direction")
    ap.add_argument("--clusters", type=int, default=1000, help="clusters (documents)")
    ap.add_argument("--common", type=float, default=0.2,
                    help="share of every centre along one common direction (anisotropy)")
    ap.add_argument("--centre-cos", type=float, default=0.7,
                    help="mean cosine of a vector to its cluster centre")
    ap.add_argument("--rank", type=int, default=16, help="rank of each cluster's own subspace")
    ap.add_argument("--rank-share", type=float, default=0.8,
                    help="share of the noise variance in the cluster's subspace (rest isotropic)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--ef-sweep", default="64,128,256,512",
                    help="also report raw recall@10/p50 at these search ef values ('' = skip)")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's

    sys.path.insert(0, str(REPO))
    import hnswlib

    from medsearch_app.core.library import index as app_index
    from medsearch_app.core.library.index import VectorIndex

    k, k2 = 10, 50
    t = time.perf_counter()
    allv = make_vectors(args.n + args.queries, args.dim, topics=args.topics,
                        topic_cos=args.topic_cos, clusters=args.clusters, common=args.common,
                        centre_cos=args.centre_cos, rank=args.rank, rank_share=args.rank_share,
                        seed=args.seed)
    data, queries = allv[:args.n], allv[args.n:]
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    truth, best = exact_topk(data, queries, k)
    exact_s = time.perf_counter() - t
    print(f"{args.n} x {args.dim} synthetic vectors ({args.topics} topics, {args.clusters} "
          f"clusters, centre cos {args.centre_cos}); generated in {gen_s:.1f} s, exact top-{k} "
          f"of {len(queries)} queries in {exact_s:.1f} s")
    print(f"query top-1 cosine p10/p50/p90: {np.percentile(best, 10):.2f} / "
          f"{np.percentile(best, 50):.2f} / {np.percentile(best, 90):.2f}")

    tmp = Path(tempfile.mkdtemp(prefix="medsearch-bench-retrieval-"))
    res: dict[str, Any] = {}
    try:
        ids = np.arange(args.n, dtype=np.int64)
        # --- build ---
        t = time.perf_counter()
        app = VectorIndex.open(tmp / "app", args.dim)
        for a in range(0, args.n, ADD_BATCH):
            app.add(ids[a:a + ADD_BATCH].tolist(), data[a:a + ADD_BATCH])
        app_build = time.perf_counter() - t
        t = time.perf_counter()
        raw = hnswlib.Index(space="cosine", dim=args.dim)
        raw.init_index(max_elements=args.n, ef_construction=app_index.EF_CONSTRUCTION,
                       M=app_index.M)
        raw.add_items(data, ids, num_threads=1)
        raw.set_ef(app_index.DEFAULT_EF)
        raw_build = time.perf_counter() - t
        print(f"build: app {app_build:.1f} s, raw {raw_build:.1f} s "
              f"(M={app_index.M}, ef_construction={app_index.EF_CONSTRUCTION}, "
              f"ef={app_index.DEFAULT_EF})")

        # --- queries, alternating app/raw ---
        def run(kk: int) -> dict[str, Any]:
            for q in queries[:20]:  # warm-up
                app.search(q, kk)
                raw.knn_query(q.reshape(1, -1), k=kk)
            lat_app: list[float] = []
            lat_raw: list[float] = []
            found_app: list[list[int]] = []
            found_raw: list[list[int]] = []
            for i, q in enumerate(queries):
                q2 = queries[i:i + 1]
                order = (0, 1) if i % 2 == 0 else (1, 0)
                for which in order:
                    if which == 0:
                        t0 = time.perf_counter()
                        hits = app.search(q, kk)
                        lat_app.append((time.perf_counter() - t0) * 1000)
                        found_app.append([h for h, _ in hits])
                    else:
                        t0 = time.perf_counter()
                        labels, _ = raw.knn_query(q2, k=kk)
                        lat_raw.append((time.perf_counter() - t0) * 1000)
                        found_raw.append(labels[0].tolist())
            return {
                "k": kk,
                "app_recall_at_10": round(recall(found_app, truth, k), 4),
                "raw_recall_at_10": round(recall(found_raw, truth, k), 4),
                "app_p50_ms": round(_pct(lat_app, 50), 3),
                "app_p99_ms": round(_pct(lat_app, 99), 3),
                "raw_p50_ms": round(_pct(lat_raw, 50), 3),
                "raw_p99_ms": round(_pct(lat_raw, 99), 3),
            }

        q10, q50 = run(k), run(k2)
        for r in (q10, q50):
            r["ratio_p50"] = round(r["app_p50_ms"] / r["raw_p50_ms"], 3)
            r["ratio_p99"] = round(r["app_p99_ms"] / r["raw_p99_ms"], 3)

        # --- what other search ef values would give (raw index, k=10) ---
        sweep = []
        for ef in [int(e) for e in args.ef_sweep.split(",") if e.strip()]:
            raw.set_ef(ef)
            lat: list[float] = []
            found: list[list[int]] = []
            for i in range(len(queries)):
                t0 = time.perf_counter()
                labels, _ = raw.knn_query(queries[i:i + 1], k=k)
                lat.append((time.perf_counter() - t0) * 1000)
                found.append(labels[0].tolist())
            sweep.append({"ef": ef, "recall_at_10": round(recall(found, truth, k), 4),
                          "p50_ms": round(_pct(lat, 50), 3), "p99_ms": round(_pct(lat, 99), 3)})
        raw.set_ef(app_index.DEFAULT_EF)

        # --- save + reopen ---
        t = time.perf_counter()
        app.save()
        app_save = time.perf_counter() - t
        t = time.perf_counter()
        reopened = VectorIndex.open(tmp / "app", args.dim)
        app_open = time.perf_counter() - t
        same = reopened.problem is None and all(
            [h for h, _ in reopened.search(q, k)] == [h for h, _ in app.search(q, k)]
            for q in queries[:100])
        raw_path = tmp / "raw.bin"
        t = time.perf_counter()
        raw.save_index(str(raw_path))
        raw_save = time.perf_counter() - t
        t = time.perf_counter()
        raw2 = hnswlib.Index(space="cosine", dim=args.dim)
        raw2.load_index(str(raw_path), max_elements=args.n)
        raw2.set_ef(app_index.DEFAULT_EF)
        raw_open = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in (tmp / "app").iterdir()) / 2**20
        reopened.close()
        app.close()
        res = {
            "bench": "retrieval", "n": args.n, "dim": args.dim, "queries": len(queries),
            "vectors": {name: getattr(args, name) for name in (
                "topics", "topic_cos", "clusters", "common", "centre_cos", "rank", "rank_share",
                "seed")},
            "query_top1_cos_p10_p50_p90": [round(float(np.percentile(best, p)), 3)
                                           for p in (10, 50, 90)],
            "M": app_index.M, "ef_construction": app_index.EF_CONSTRUCTION,
            "ef": app_index.DEFAULT_EF,
            "build_s": {"app": round(app_build, 2), "raw": round(raw_build, 2),
                        "ratio": round(app_build / raw_build, 3)},
            "search_k10": q10, "search_k50": q50, "raw_ef_sweep": sweep,
            "save_s": {"app": round(app_save, 3), "raw": round(raw_save, 3),
                       "ratio": round(app_save / raw_save, 3)},
            "reopen_s": {"app": round(app_open, 3), "raw": round(raw_open, 3),
                         "ratio": round(app_open / raw_open, 3)},
            "reopened_answers_same": bool(same), "index_files_mb": round(size_mb, 1),
            "pass_recall": q10["app_recall_at_10"] >= TARGET_RECALL,
            "pass_p50": q10["app_p50_ms"] < TARGET_P50_MS,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"{'':<22} {'app':>9} {'raw':>9} {'app/raw':>8}  target")
    for name, r in (("k=10", res["search_k10"]), ("k=50", res["search_k50"])):
        tgt_r = (f"  >= {TARGET_RECALL} {_verdict(res['pass_recall'])}" if r["k"] == 10 else "")
        tgt_l = (f"  < {TARGET_P50_MS:g} ms {_verdict(res['pass_p50'])}" if r["k"] == 10 else "")
        print(f"{'recall@10 (' + name + ')':<22} {r['app_recall_at_10']:>9.4f} "
              f"{r['raw_recall_at_10']:>9.4f} {'':>8}{tgt_r}")
        print(f"{'p50 ms (' + name + ')':<22} {r['app_p50_ms']:>9.3f} {r['raw_p50_ms']:>9.3f} "
              f"{r['ratio_p50']:>8.3f}{tgt_l}")
        print(f"{'p99 ms (' + name + ')':<22} {r['app_p99_ms']:>9.3f} {r['raw_p99_ms']:>9.3f} "
              f"{r['ratio_p99']:>8.3f}")
    for label, key in (("build s", "build_s"), ("save s", "save_s"), ("reopen s", "reopen_s")):
        r = res[key]
        print(f"{label:<22} {r['app']:>9.3f} {r['raw']:>9.3f} {r['ratio']:>8.3f}")
    if res["raw_ef_sweep"]:
        print("raw index, k=10, other search ef: " + "; ".join(
            f"ef {r['ef']}: recall {r['recall_at_10']:.4f}, p50 {r['p50_ms']:.2f} ms"
            for r in res["raw_ef_sweep"]))
    print(f"app index on disk {res['index_files_mb']} MiB; reopened index answers as before: "
          f"{'yes' if res['reopened_answers_same'] else 'NO'}")
    print("app save = hnswlib save + fsync + SHA-256 + meta.json; app reopen = SHA-256 check + "
          "hnswlib load.")

    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
