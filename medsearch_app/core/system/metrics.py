"""Memory and CPU readings: process RSS and peak, system RAM, VRAM per NVIDIA GPU (NVML), CPU %.

VRAM is None where there is no NVIDIA GPU or driver: never a fake zero.

CPU % is "since the previous reading", so each caller that wants it owns a CpuMeter (its own
psutil.Process and so its own interval): the window's gauges, one answer, a level switch do not
reset each other's readings. sample() without a meter reports CPU_NOT_MEASURED.
"""

from __future__ import annotations

import logging
import resource
import sys
import threading
from typing import Any

import psutil

from ..types import MemorySample

log = logging.getLogger(__name__)

_nvml_lock = threading.Lock()
_nvml_state: dict[str, Any] = {"tried": False, "ok": False, "error": ""}


def _nvml() -> Any:
    """The pynvml module once initialised, or None (no NVIDIA GPU / driver)."""
    with _nvml_lock:
        if not _nvml_state["tried"]:
            _nvml_state["tried"] = True
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml_state["ok"] = True
                _nvml_state["mod"] = pynvml
            except Exception as exc:  # noqa: BLE001 - NVMLError, ImportError, OSError: no GPU
                _nvml_state["error"] = str(exc) or type(exc).__name__
        return _nvml_state.get("mod") if _nvml_state["ok"] else None


def gpu_status() -> str:
    """A line for the UI: the GPUs found, or why there is none."""
    nv = _nvml()
    if nv is None:
        return f"no NVIDIA GPU ({_nvml_state['error'] or 'NVML unavailable'})"
    n = nv.nvmlDeviceGetCount()
    return f"{n} NVIDIA GPU(s)"


def vram() -> list[tuple[str, float, float]] | None:
    """(name, used MiB, total MiB) for each NVIDIA GPU, or None if there is none."""
    nv = _nvml()
    if nv is None:
        return None
    out = []
    try:
        for i in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(i)
            mem = nv.nvmlDeviceGetMemoryInfo(h)
            name = nv.nvmlDeviceGetName(h)
            if isinstance(name, bytes):
                name = name.decode()
            out.append((str(name), mem.used / 2**20, mem.total / 2**20))
    except Exception as exc:  # noqa: BLE001 - a GPU lost mid-session
        log.warning("NVML read failed: %s", exc)
        return None
    return out or None


_proc = psutil.Process()  # memory only: memory_info() keeps no state between calls
CPU_NOT_MEASURED = 0.0  # MemorySample.cpu_percent when sample() is given no CpuMeter


class CpuMeter:
    """CPU use of this process over one caller's own interval (100% = one core busy).

    The first percent() covers the time since the meter was made; each later one the time since
    the previous call. Meters are independent: reading one never moves another's interval."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self._proc.cpu_percent(None)  # starts this meter's interval

    def percent(self) -> float:
        """CPU % since the previous reading (or since the meter was made)."""
        return float(self._proc.cpu_percent(None))


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (2**20 if sys.platform == "darwin" else 1024)


def sample(cpu: CpuMeter | None = None, *, with_vram: bool = True) -> MemorySample:
    """One reading of this process's and the machine's memory, and CPU % from `cpu` (the
    caller's own meter; without one, cpu_percent is CPU_NOT_MEASURED)."""
    rss = _proc.memory_info().rss / 2**20
    vm = psutil.virtual_memory()
    return MemorySample(
        rss_mb=rss, peak_rss_mb=max(peak_rss_mb(), rss),
        sys_used_mb=(vm.total - vm.available) / 2**20, sys_total_mb=vm.total / 2**20,
        cpu_percent=cpu.percent() if cpu is not None else CPU_NOT_MEASURED,
        vram=vram() if with_vram else None,
    )
