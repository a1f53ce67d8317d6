"""A library of 10,000 documents / 200,000+ passages: memory while indexing, and search and
answers while it grows.

Run:  .venv/bin/python bench/bench_load.py [--docs 10000] [--words 3300] [--work DIR] [--asks 3]

What is real and what is not: the documents (generated clinic notes, ~20 passages each), their
reading, chunking, the SQLite store with its full-text index, the hnswlib index (M=32,
ef_construction=400, saved atomically every 10 s), hybrid search and, for the questions asked
during indexing, the default language model, are the app's own code (Library.index_paths,
Retriever, rag.answer). Only the embedding is replaced: each passage gets a 384-dimension unit
vector drawn from a generator seeded by a hash of its text (PRECOMPUTED, so that 200k passages
index in minutes on 2 cores; embedding speed is measured by bench_indexing.py). Random vectors
are the hardest case for the graph search; the keyword half of hybrid search still finds the
right notes. Chunking counts whitespace words instead of MiniLM word pieces for the same reason.

Printed: documents, passages, wall time, passages/s, peak RSS (sampled every 0.2 s), the
latency of hybrid searches (k=5) made every 0.5 s from another thread while indexing runs
(p50, p99, max), the answers to --asks questions asked while indexing, and p50/p99 of 200
searches on the finished library.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from medsearch_app.core.embedding.base import (  # noqa: E402
    Embedder,
    Precision,
    whitespace_offsets,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line  # noqa: E402

_WORDS_TEXT = """
patient review clinic dose daily weekly blood pressure kidney liver heart lung asthma
diabetes insulin metformin warfarin apixaban statin aspirin pain fever cough rash
swelling follow referral scan result normal raised reduced stopped started continued
plan agreed advice history examination symptoms weight sleep mood exercise diet smoking
alcohol family nurse doctor ward discharge admission infection antibiotic culture urine
glucose cholesterol thyroid anaemia iron vitamin fracture knee hip
"""
WORDS = _WORDS_TEXT.split()
DRUGS = ["allopurinol", "furosemide", "amlodipine", "ramipril", "sertraline", "naproxen",
         "levothyroxine", "salbutamol", "tiotropium", "colchicine", "doxycycline", "prednisolone"]


class PrecomputedVectors(Embedder):
    """Unit vectors seeded by a hash of the passage text: no model (see the module docstring)."""

    name = "precomputed-hash"
    dim = 384
    max_tokens = 256

    def __init__(self) -> None:
        self.precision = Precision.FP32

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return whitespace_offsets(text)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = np.random.default_rng(zlib.crc32(t.encode())).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def write_notes(folder: Path, n: int, words: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        drug = DRUGS[i % len(DRUGS)]
        head = (f"Note {i}. Patient {100000 + i} started {drug} {rnd.choice([5, 10, 20, 40])} mg "
                f"for review number {i}.")
        body = " ".join(rnd.choice(WORDS) if rnd.random() > 0.02 else f"{rnd.randint(1, 999)}"
                        for _ in range(words))
        (folder / f"n{i // 1000:02d}" / f"note_{i:05d}.txt").parent.mkdir(exist_ok=True)
        (folder / f"n{i // 1000:02d}" / f"note_{i:05d}.txt").write_text(
            head + "\n\n" + body + "\n", encoding="utf-8")


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))] if s else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--words", type=int, default=3300, help="words per note (~20 passages)")
    ap.add_argument("--asks", type=int, default=3, help="questions answered while indexing")
    ap.add_argument("--work", default=tempfile.mkdtemp(prefix="medsearch-load-"))
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's
    from medsearch_app.core.answer.rag import AskOptions, answer
    from medsearch_app.core.library.indexing import Library
    from medsearch_app.core.llm.models import default_model_path
    from medsearch_app.core.llm.runtime import LlmRuntime
    from medsearch_app.core.retrieval.search import Mode, Retriever
    from medsearch_app.core.types import AnswerDone, IndexDone

    work = Path(args.work)
    notes = work / "notes"
    t0 = time.perf_counter()
    write_notes(notes, args.docs, args.words)
    print(f"wrote {args.docs} notes in {time.perf_counter() - t0:.0f} s", flush=True)

    proc = psutil.Process()
    (work / "home").mkdir(parents=True, exist_ok=True)
    lib = Library(work / "home", PrecomputedVectors())
    llm = LlmRuntime(default_model_path(), n_ctx=2048, n_threads=1) if args.asks else None
    if llm is not None:
        llm.load()
    retriever = Retriever(lib)
    rss0 = proc.memory_info().rss / 2**20
    peak = [rss0]
    done = threading.Event()
    during: list[float] = []
    answers: list[str] = []

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss / 2**20)
            time.sleep(0.2)

    def search_while_indexing() -> None:
        asked = 0
        i = 0
        next_report = 20_000
        while not done.is_set():
            time.sleep(0.5)
            i += 1
            n = lib.store.chunk_count()
            if n < 1000:
                continue
            if n >= next_report:  # progress, so that a partial run still says something
                next_report += 20_000
                recent = during[-40:]
                print(f"  {n} passages after {time.perf_counter() - t0:.0f} s, RSS "
                      f"{proc.memory_info().rss / 2**20:.0f} MiB (peak {peak[0]:.0f}), search "
                      f"p50 of the last {len(recent)}: "
                      f"{statistics.median(recent) if recent else float('nan'):.1f} ms",
                      flush=True)
            q = f"What dose of {DRUGS[i % len(DRUGS)]} was started?"
            t = time.perf_counter()
            retriever.search(q, k=5, mode=Mode.HYBRID)
            during.append((time.perf_counter() - t) * 1000)
            if llm is not None and asked < args.asks and n > 20_000 * (asked + 1):
                asked += 1
                ev = [e for e in answer(q, retriever=retriever, llm=llm,
                                        options=AskOptions(k=3, max_tokens=48))
                      if isinstance(e, AnswerDone)][-1]
                answers.append(f"at {n} passages, {ev.timings.total_ms / 1000:.1f} s: "
                               f"{'answered' if ev.supported else 'refused'}: "
                               f"{ev.answer[:90]!r}")
                print(f"  asked while indexing {answers[-1]}", flush=True)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=sample, daemon=True),
               threading.Thread(target=search_while_indexing, daemon=True)]
    for t in threads:
        t.start()
    last: Any = None
    for ev in lib.index_paths([notes]):
        if isinstance(ev, IndexDone):
            last = ev
    wall = time.perf_counter() - t0
    done.set()
    for t in threads:
        t.join()
    after = []
    for i in range(200):
        t = time.perf_counter()
        retriever.search(f"note {i * 37} {DRUGS[i % len(DRUGS)]} dose", k=5, mode=Mode.HYBRID)
        after.append((time.perf_counter() - t) * 1000)
    n_chunks = lib.store.chunk_count()
    print(f"\n{last.added} documents, {n_chunks} passages indexed in {wall:.0f} s "
          f"({n_chunks / wall:.0f} passages/s; vectors precomputed, see above)")
    print(f"RSS: {rss0:.0f} MiB before (model loaded: {llm is not None}), peak "
          f"{peak[0]:.0f} MiB while indexing, {proc.memory_info().rss / 2**20:.0f} MiB after")
    print(f"hybrid search while indexing: {len(during)} searches, p50 "
          f"{statistics.median(during):.1f} ms, p99 {pct(during, 99):.1f} ms, max "
          f"{max(during):.1f} ms")
    print(f"hybrid search on the finished library: p50 {statistics.median(after):.1f} ms, "
          f"p99 {pct(after, 99):.1f} ms")
    for a in answers:
        print(f"asked while indexing {a}")
    lib.close()
    if llm is not None:
        llm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
