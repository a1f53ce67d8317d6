"""Where an indexing run's time goes on this CPU: a per-stage timeline of one run with each
core's use (issue: indexing on AVX2-only CPUs).

Run:  .venv/bin/python bench/bench_index_timeline.py [--pdfs DIR] [--notes] [--json OUT]

One `Library.index_paths` run, in this process, exactly as `medsearch index` runs it (the
default onnx-int8 embedder with the app's thread count, prepared beforehand and not counted),
on the 17 evaluation PDFs (<evaldata>/pdfs and pdfs/litqa2), into a fresh data folder. The
library's own functions are wrapped with timers, nothing else changes:

  read      a file read by the reader thread (PDFs: pypdf in a child process), per file
  wait      the indexing loop waiting for the file it needs next from the reader
  chunk     cutting pages into passages (the embedder's tokenizer)
  sqlite    saving a document and its passages
  embed     Embedder.embed_batch, split by the thread count it ran with (1: beside a busy reader)
  vectors   VectorIndex.add; save: VectorIndex.save

A sampler reads every core's use each 0.25 s (psutil) and the CPU seconds of this process and of
its children. Printed: the CPU model and flags, each stage's seconds and share of the run, the
reader's span, the cores' mean use, and how much of the run had a core idle (under 50 % busy)
or both (under 50 % together).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


class Timers:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.lock = threading.Lock()

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*a: Any, **kw: Any) -> Any:
            start = time.monotonic()
            try:
                return fn(*a, **kw)
            finally:
                label = name(*a, **kw) if callable(name) else name
                with self.lock:
                    self.spans[label].append((start - self.t0, time.monotonic() - self.t0))
        return timed


def sample(stop: threading.Event, out: list[dict[str, Any]], t0: float) -> None:
    me = psutil.Process()
    psutil.cpu_percent(percpu=True)
    while not stop.wait(0.25):
        per_core = psutil.cpu_percent(percpu=True)
        ended = os.times()  # children already ended and reaped
        kids = ended.children_user + ended.children_system
        for c in me.children(recursive=True):  # live ones, and what they reaped (the PDF
            try:                                 # readers are forks of a fork server)
                t = c.cpu_times()
                kids += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        t = me.cpu_times()
        out.append({"t": time.monotonic() - t0, "cores": per_core,
                    "self_cpu": t.user + t.system, "children_cpu": kids})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pdfs", default=str(REPO.parent / "shared" / "evaldata" / "pdfs"))
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    print(cpu_line(), flush=True)
    home = Path(tempfile.mkdtemp(prefix="timeline-"))
    os.environ["MEDSEARCH_HOME"] = str(home)
    from medsearch_app.core.engine import Engine
    from medsearch_app.core.library import indexing as library
    from medsearch_app.core.library.index import VectorIndex
    from medsearch_app.core.types import IndexDone

    src = Path(args.pdfs)
    files = sorted(p for p in src.rglob("*.pdf"))
    eng = Engine()
    lib = eng.library  # the embedder loaded (and prepared, if needed) before the clock starts
    emb = lib.embedder
    print(f"{len(files)} PDFs from {src}; embedder {emb.key}, "
          f"{getattr(emb, 'threads', '?')} threads", flush=True)
    timers = Timers()
    threads_now = {"n": getattr(emb, "threads", 0)}
    real_leave = emb.leave_core

    def leave_core(on: bool) -> None:
        threads_now["n"] = max(1, emb.threads - 1) if on else emb.threads  # type: ignore[attr-defined]
        real_leave(on)

    emb.leave_core = leave_core  # type: ignore[method-assign]
    emb.embed_batch = timers.wrap(lambda *_a, **_k: f"embed ({threads_now['n']} thr)",  # type: ignore[method-assign]
                                  emb.embed_batch)
    library._extract = timers.wrap("read", library._extract)
    library.chunk_pages = timers.wrap("chunk", library.chunk_pages)
    lib.store.save_document = timers.wrap("sqlite", lib.store.save_document)  # type: ignore[method-assign]
    lib.index.add = timers.wrap("vectors", lib.index.add)  # type: ignore[method-assign]
    real_save = VectorIndex.save
    VectorIndex.save = timers.wrap("save", real_save)  # type: ignore[method-assign]
    samples: list[dict[str, Any]] = []
    stop = threading.Event()
    timers.t0 = time.monotonic()
    sampler = threading.Thread(target=sample, args=(stop, samples, timers.t0), daemon=True)
    sampler.start()
    done: IndexDone | None = None
    waits: list[tuple[float, float]] = []
    last = time.monotonic()
    from medsearch_app.core.types import FileIndexed, Progress, Stage

    reading_since: float | None = None
    for ev in lib.index_paths([src]):
        now = time.monotonic()
        if isinstance(ev, Progress) and ev.stage is Stage.READING:
            reading_since = now
        elif isinstance(ev, FileIndexed) and reading_since is not None:
            # from asking for the file to having it chunked and saved: the wait is this span
            # less the chunk and sqlite time inside it (subtracted below)
            waits.append((reading_since - timers.t0, now - timers.t0))
            reading_since = None
        elif isinstance(ev, IndexDone):
            done = ev
        last = now
    wall = last - timers.t0
    stop.set()
    sampler.join()
    VectorIndex.save = real_save  # type: ignore[method-assign]
    eng.close()

    def total(name: str) -> float:
        return sum(b - a for a, b in timers.spans.get(name, []))

    def inside(spans: list[tuple[float, float]], name: str) -> float:
        return sum(max(0.0, min(b, d) - max(a, c)) for a, b in spans
                   for c, d in timers.spans.get(name, []))

    wait = sum(b - a for a, b in waits) - inside(waits, "chunk") - inside(waits, "sqlite")
    stages = {"read (reader thread, per file)": total("read"),
              "wait for the reader": wait, "chunk": total("chunk"), "sqlite": total("sqlite"),
              "embed (2 thr)": total("embed (2 thr)"), "embed (1 thr)": total("embed (1 thr)"),
              "vectors add": total("vectors"), "vectors save": total("save")}
    reads = timers.spans.get("read", [])
    reader_end = max((b for _a, b in reads), default=0.0)
    assert done is not None
    print(f"\nrun: {wall:.1f} s wall; {done.chunks} passages from {done.added} files "
          f"({len(done.failed)} failed)")
    print(f"{'stage':34} {'seconds':>8} {'share of run':>13}")
    for k, v in stages.items():
        print(f"{k:34} {v:8.1f} {v / wall:12.0%}")
    print(f"the reader worked from 0 to {reader_end:.1f} s ({reader_end / wall:.0%} of the run)")
    cores = list(zip(*[s["cores"] for s in samples], strict=True)) if samples else []
    busy = [sum(s["cores"]) / len(s["cores"]) for s in samples]
    one_idle = sum(1 for s in samples if min(s["cores"]) < 50) / max(1, len(samples))
    both_low = sum(1 for b in busy if b < 50) / max(1, len(samples))
    print("cores' mean use: " + ", ".join(f"core {i} {sum(c) / len(c):.0f} %"
                                          for i, c in enumerate(cores)))
    print(f"a core idle (under 50 % busy): {one_idle:.0%} of the run; "
          f"both together under one busy core: {both_low:.0%}")
    if samples:
        s = samples[-1]
        print(f"CPU seconds: this process {s['self_cpu']:.1f} (embedding, chunking, SQLite), "
              f"PDF reader children {s['children_cpu']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "cpu": cpu_line(), "wall_s": wall, "stages_s": stages, "reader_end_s": reader_end,
            "one_core_idle_share": one_idle, "both_low_share": both_low,
            "samples": samples, "spans": timers.spans}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
