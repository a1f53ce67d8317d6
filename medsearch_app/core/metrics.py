"""Memory and CPU readings: process RSS and peak, system RAM, VRAM per NVIDIA GPU (NVML), CPU %.

VRAM is None where there is no NVIDIA GPU or driver: never a fake zero.
"""

from __future__ import annotations

import logging
import resource
import sys
import threading
from typing import Any

import psutil

from .types import MemorySample

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


_proc = psutil.Process()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (2**20 if sys.platform == "darwin" else 1024)


def sample(*, with_vram: bool = True) -> MemorySample:
    """One reading of this process's and the machine's memory and CPU."""
    rss = _proc.memory_info().rss / 2**20
    vm = psutil.virtual_memory()
    return MemorySample(
        rss_mb=rss, peak_rss_mb=max(peak_rss_mb(), rss),
        sys_used_mb=(vm.total - vm.available) / 2**20, sys_total_mb=vm.total / 2**20,
        cpu_percent=_proc.cpu_percent(None), vram=vram() if with_vram else None,
    )
