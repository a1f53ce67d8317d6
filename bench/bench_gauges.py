"""Cost of the memory/CPU gauges: CPU time spent by metrics.sample() at 2 Hz, vs raw psutil.

Run:  .venv/bin/python bench/bench_gauges.py [--seconds 20] [--hz 2] [--json OUT]

A worker thread wakes --hz times a second for --seconds and, each tick, calls both (alternating
which goes first):
  app   medsearch_app.core.system.metrics.sample(meter) with the gauges' own CpuMeter (process RSS
        and peak, system RAM, process CPU %,
        and VRAM through NVML where there is an NVIDIA GPU; VRAM is skipped quietly without one)
  raw   the psutil calls alone: Process.memory_info(), virtual_memory(), Process.cpu_percent()
The CPU time of each call is measured with time.thread_time() (this thread's CPU only) and
summed; cost = CPU seconds / wall seconds, as % of one core. The first sample() (NVML set-up) is
timed separately and not counted. Target: app < 2% of a core. The ratio is app / raw.
Exits 0 always.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
TARGET_PCT = 2.0


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--hz", type=float, default=2.0)
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's
    sys.path.insert(0, str(REPO))

    import psutil

    from medsearch_app.core.system import metrics

    proc = psutil.Process()
    meter = metrics.CpuMeter()  # as the gauges widget owns one

    def app_sample() -> Any:
        return metrics.sample(meter)

    def raw_sample() -> tuple[Any, ...]:
        return proc.memory_info().rss, psutil.virtual_memory(), proc.cpu_percent(None)

    t0 = time.perf_counter()
    c0 = time.thread_time()
    first = app_sample()
    setup = {"wall_ms": round((time.perf_counter() - t0) * 1000, 3),
             "cpu_ms": round((time.thread_time() - c0) * 1000, 3)}
    raw_sample()

    cpu = {"app": [], "raw": []}
    wall = {"app": [], "raw": []}
    thread_cpu: list[float] = []
    stop_at = time.monotonic() + args.seconds

    def worker() -> None:
        start_cpu = time.thread_time()
        period = 1.0 / args.hz
        nxt = time.monotonic()
        i = 0
        while time.monotonic() < stop_at:
            order = ("app", "raw") if i % 2 == 0 else ("raw", "app")
            for name in order:
                fn = app_sample if name == "app" else raw_sample
                w = time.perf_counter()
                c = time.thread_time()
                fn()
                cpu[name].append(time.thread_time() - c)
                wall[name].append(time.perf_counter() - w)
            i += 1
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))
        thread_cpu.append(time.thread_time() - start_cpu)

    th = threading.Thread(target=worker, name="gauges")
    w0 = time.perf_counter()
    th.start()
    th.join()
    elapsed = time.perf_counter() - w0

    res: dict[str, Any] = {"bench": "gauges", "seconds": round(elapsed, 2), "hz": args.hz,
                           "samples": len(cpu["app"]), "first_sample": setup,
                           "gpu": metrics.gpu_status(), "vram": first.vram}
    for name in ("app", "raw"):
        res[name] = {
            "cpu_pct_of_core": round(sum(cpu[name]) / elapsed * 100, 4),
            "cpu_us_per_call_mean": round(statistics.mean(cpu[name]) * 1e6, 1),
            "cpu_us_per_call_max": round(max(cpu[name]) * 1e6, 1),
            "wall_us_per_call_p50": round(statistics.median(wall[name]) * 1e6, 1),
        }
    res["thread_total_cpu_pct_of_core"] = round(thread_cpu[0] / elapsed * 100, 4)
    raw_mean = res["raw"]["cpu_us_per_call_mean"]
    res["ratio"] = round(res["app"]["cpu_us_per_call_mean"] / raw_mean, 3) if raw_mean else None
    res["pass"] = res["app"]["cpu_pct_of_core"] < TARGET_PCT

    print(f"{res['samples']} samples each at {args.hz:g} Hz over {elapsed:.1f} s; "
          f"{res['gpu']}; first sample() {setup['wall_ms']} ms wall, {setup['cpu_ms']} ms CPU")
    print()
    print(f"{'':<24} {'% of a core':>11} {'CPU us/call':>11} {'max us':>8} {'wall us p50':>11}"
          "  target")
    for name, label in (("app", "app metrics.sample(meter)"), ("raw", "raw psutil calls")):
        r = res[name]
        tgt = f"  < {TARGET_PCT:g}% {_verdict(res['pass'])}" if name == "app" else ""
        print(f"{label:<24} {r['cpu_pct_of_core']:>11.4f} {r['cpu_us_per_call_mean']:>11.1f} "
              f"{r['cpu_us_per_call_max']:>8.1f} {r['wall_us_per_call_p50']:>11.1f}{tgt}")
    print(f"app/raw CPU per call: {res['ratio']}; whole sampling thread (both + loop): "
          f"{res['thread_total_cpu_pct_of_core']:.4f}% of a core")

    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
