"""CPU readings: each caller's CpuMeter keeps its own interval."""

from __future__ import annotations

import time

from medsearch_app.core.system import metrics


def _burn(cpu_s: float) -> None:
    """Keep this process busy for `cpu_s` seconds of CPU time."""
    end = time.process_time() + cpu_s
    x = 0
    while time.process_time() < end:
        x += 1


def test_two_meters_do_not_reset_each_other() -> None:
    first = metrics.CpuMeter()
    t0, c0 = time.monotonic(), time.process_time()
    _burn(0.3)
    second = metrics.CpuMeter()
    for _ in range(5):  # another caller reading often must not move `first`'s interval
        second.percent()
        time.sleep(0.02)
    time.sleep(0.3)
    busy = first.percent()
    expected = (time.process_time() - c0) / (time.monotonic() - t0) * 100
    # `first` covers the busy part too; with one shared interval it would read ~0 (idle only).
    assert busy > expected * 0.5, (busy, expected)
    assert busy > 10
    idle = second.percent()  # only the idle time since `second`'s last reading
    assert idle < busy


def test_sample_takes_cpu_from_the_callers_meter() -> None:
    meter = metrics.CpuMeter()
    _burn(0.2)
    s = metrics.sample(meter, with_vram=False)
    assert s.cpu_percent > 0 and s.rss_mb > 0 and s.vram is None
    plain = metrics.sample(with_vram=False)
    assert plain.cpu_percent == metrics.CPU_NOT_MEASURED
