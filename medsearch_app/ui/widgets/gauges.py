"""Live gauges: memory (RSS, peak, system RAM, VRAM per NVIDIA GPU), CPU, response times, charts.

Sampled by a QTimer on the GUI thread every 500 ms (psutil and NVML reads take well under a
millisecond; bench/gauge_overhead.py measures the cost). Charts (QtCharts) plot RSS and
generation speed over the session, with a marker line where the quant level changed.
"""

from __future__ import annotations

import time

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QListWidget, QVBoxLayout, QWidget

from ...core.system import metrics
from ...core.types import AnswerDone, MemorySample

SAMPLE_MS = 500
HISTORY = 600  # points kept per series (5 minutes at 2 per second)


class Gauges(QWidget):
    """Memory/CPU gauges updated twice a second, plus the last answers' timings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.t0 = time.monotonic()
        self.rss = QLabel()
        self.ram = QLabel()
        self.vram = QLabel()
        self.cpu = QLabel()
        self.last = QLabel("—")
        self.last.setWordWrap(True)
        self.level = QLabel("—")
        # one line for the status bar: memory now and the last answer's time, on every page
        self.summary = QLabel("")
        self.summary.setToolTip("Process memory and the last answer's time; the Models and "
                                "quantization page (Ctrl+2) has the full gauges")
        self._last_answer = ""
        mem = QGroupBox("Memory and CPU")
        f = QFormLayout(mem)
        f.addRow("Loaded level:", self.level)
        f.addRow("Process RSS:", self.rss)
        f.addRow("System RAM:", self.ram)
        f.addRow("GPU memory:", self.vram)
        f.addRow("CPU:", self.cpu)
        resp = QGroupBox("Response time")
        r = QVBoxLayout(resp)
        r.addWidget(self.last)
        self.history = QListWidget()
        self.history.setMaximumHeight(110)
        r.addWidget(self.history)
        self.mem_series = QLineSeries()
        self.mem_series.setName("RSS (MiB)")
        self.tps_series = QLineSeries()
        self.tps_series.setName("tokens/s")
        self.marks = QScatterSeries()
        self.marks.setName("level changed")
        self.marks.setMarkerSize(9.0)
        self.chart = QChart()
        for s in (self.mem_series, self.tps_series, self.marks):
            self.chart.addSeries(s)
        self.ax_t, self.ax_mem, self.ax_tps = QValueAxis(), QValueAxis(), QValueAxis()
        for ax, title in ((self.ax_t, "seconds"), (self.ax_mem, "MiB"), (self.ax_tps, "tok/s")):
            ax.setTitleText(title)
        self.chart.addAxis(self.ax_t, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.ax_mem, Qt.AlignmentFlag.AlignLeft)
        self.chart.addAxis(self.ax_tps, Qt.AlignmentFlag.AlignRight)
        for s, ay in ((self.mem_series, self.ax_mem), (self.tps_series, self.ax_tps),
                      (self.marks, self.ax_mem)):
            s.attachAxis(self.ax_t)
            s.attachAxis(ay)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(self.chart.margins() * 0)
        view = QChartView(self.chart)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        view.setMinimumHeight(200)
        lay = QVBoxLayout(self)
        lay.addWidget(mem)
        lay.addWidget(resp)
        lay.addWidget(view, 1)
        self.samples = 0
        self.cpu_meter = metrics.CpuMeter()  # the gauges' own CPU interval (one per timer tick)
        self.last_sample: MemorySample | None = None
        self._max_mem = 100.0
        self._max_tps = 10.0
        self.timer = QTimer(self, interval=SAMPLE_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.tick()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def tick(self) -> None:
        s = metrics.sample(self.cpu_meter)
        self.last_sample = s
        self.samples += 1
        self.rss.setText(f"{s.rss_mb:,.0f} MiB (peak {s.peak_rss_mb:,.0f} MiB)")
        self.ram.setText(f"{s.sys_used_mb / 1024:.1f} of {s.sys_total_mb / 1024:.1f} GiB used")
        if s.vram:
            self.vram.setText("<br>".join(f"{n}: {u:,.0f} of {t:,.0f} MiB"
                                          for n, u, t in s.vram))
        else:
            self.vram.setText(f"<i>{metrics.gpu_status()}</i>")
        self.cpu.setText(f"{s.cpu_percent:.0f}% (this process, 100% = one core)")
        gpu = "".join(f" · VRAM {u:,.0f} MiB" for _n, u, _t in s.vram[:1]) if s.vram else ""
        self.summary.setText(f"RAM {s.rss_mb:,.0f} MiB{gpu}{self._last_answer}")
        t = self.now()
        self._append(self.mem_series, QPointF(t, s.rss_mb))
        self._max_mem = max(self._max_mem, s.rss_mb * 1.1)
        self.ax_mem.setRange(0, self._max_mem)
        self.ax_t.setRange(max(0.0, t - HISTORY * SAMPLE_MS / 1000), max(t, 10.0))

    def _append(self, series: QLineSeries | QScatterSeries, p: QPointF) -> None:
        series.append(p)
        if series.count() > HISTORY:
            series.removePoints(0, series.count() - HISTORY)

    def set_level(self, text: str) -> None:
        self.level.setText(text)

    def mark_level_change(self, text: str) -> None:
        self.set_level(text)
        rss = self.last_sample.rss_mb if self.last_sample else 0.0
        self._append(self.marks, QPointF(self.now(), rss))
        self.history.insertItem(0, f"{time.strftime('%H:%M:%S')} switched to {text}")

    def on_answer(self, done: AnswerDone) -> None:
        t = done.timings
        # The answer's own CPU meter covers the whole answer; the gauges' only the last tick.
        if done.memory is not None:
            cpu = done.memory.cpu_percent
        else:
            cpu = self.last_sample.cpu_percent if self.last_sample else 0.0
        parts = [f"retrieval {t.retrieval_ms:.0f} ms"]
        if t.ttft_ms is not None:
            parts.append(f"first token {t.ttft_ms:.0f} ms")
        if t.prompt_tokens_per_s:
            parts.append(f"prompt {t.prompt_tokens_per_s:.0f} tok/s")
        if t.tokens_per_s:
            parts.append(f"generation {t.tokens_per_s:.0f} tok/s")
        parts.append(f"total {t.total_ms / 1000:.2f} s")
        self.last.setText(f"<b>{done.quant}</b>: " + " · ".join(parts) + f" · CPU {cpu:.0f}%")
        self._last_answer = f" · last answer {t.total_ms / 1000:.1f} s"
        self.history.insertItem(0, f"{done.quant}: {t.total_ms / 1000:.1f} s, "
                                   f"{t.tokens_per_s or 0:.0f} tok/s")
        if t.tokens_per_s:
            self._append(self.tps_series, QPointF(self.now(), t.tokens_per_s))
            self._max_tps = max(self._max_tps, t.tokens_per_s * 1.2)
            self.ax_tps.setRange(0, self._max_tps)
