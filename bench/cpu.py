"""What machine a benchmark ran on: the CPU model, its vector instruction sets, the cores, and
the memory bandwidth that caps token generation (every generated token reads all the weights).

    from cpu import cpu_line, memory_bandwidth_gbs   (bench/ scripts put bench/ on sys.path)
"""

from __future__ import annotations

import os
import platform
import time

FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_info() -> dict[str, object]:
    """Model name, the FLAGS present, logical CPUs this process may use."""
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model in ("unknown", "", platform.machine()):
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    return {"model": model, "flags": [f for f in FLAGS if f in flags],
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count()}


def cpu_line() -> str:
    info = cpu_info()
    flags = info["flags"]
    assert isinstance(flags, list)
    vnni = "VNNI" if {"avx512_vnni", "avx_vnni"} & set(flags) else "no VNNI"
    avx512 = "AVX-512" if "avx512f" in flags else "no AVX-512"
    return (f"CPU: {info['model']}, {info['cpus']} CPUs, {'AVX2' if 'avx2' in flags else 'no AVX2'}"
            f", {avx512}, {vnni} (flags: {' '.join(flags) or 'none of ' + ' '.join(FLAGS)})")


def memory_bandwidth_gbs(megabytes: int = 1024, repeats: int = 5) -> float:
    """Best-of-`repeats` read bandwidth (GB/s) of one thread per usable CPU, each summing its own
    slice of a large float32 array (numpy releases the GIL): generation cannot beat this divided
    by the model's weight bytes, since every token reads every weight once."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    n = int(cpu_info()["cpus"] or 1)  # type: ignore[call-overload]
    a = np.ones(megabytes * 1024 * 1024 // 4, dtype=np.float32)
    parts = np.array_split(a, n)
    best = float("inf")
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(np.sum, parts))  # pages touched once
        for _ in range(repeats):
            t0 = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - t0)
    return a.nbytes / best / 1e9
