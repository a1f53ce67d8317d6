"""The Compare levels page (view only): what to compare, progress, the table, charts, advice.

Signals carry the user's requests; ui/compare_actions.py runs them as jobs and feeds results
back through set_models / set_progress / add_level / set_recommendation.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCharts import QChart, QChartView, QScatterSeries, QValueAxis
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.llm.models import ModelFile
from ...core.quant.compare.results import BY_KEY, WINDOW_COLUMNS, LevelResult
from ...core.quant.recommend import Budget

# The table's columns (key, heading), tooltips and decimals: from the comparison's one table of
# result fields (core/quant/compare/results.py).
COLUMNS = [(key, BY_KEY[key].label) for key in WINDOW_COLUMNS]
LABELLED = {key for key in WINDOW_COLUMNS if BY_KEY[key].labelled}  # shown with labels only
TIPS = {key: BY_KEY[key].tooltip for key in WINDOW_COLUMNS if BY_KEY[key].tooltip}
SOURCES = ["Demo questions", "Questions typed below", "Questions from a file…"]


class _NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number, not its text."""

    def __init__(self, value: float | None, text: str) -> None:
        super().__init__(text)
        self.value = value if value is not None else float("-inf")
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _NumberItem):
            return self.value < other.value
        return super().__lt__(other)


def _scatter_chart(title: str, x_title: str) -> tuple[QChart, QChartView]:
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(220)
    chart.setProperty("x_title", x_title)
    return chart, view


class ComparePage(QWidget):
    run_requested = Signal()
    cancel_requested = Signal()
    load_level_requested = Signal(Path)
    questions_file_requested = Signal()
    open_report_requested = Signal()
    budget_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.results: list[LevelResult] = []
        self.recommended: Path | None = None
        self._families: dict[str, list[ModelFile]] = {}

        setup = QGroupBox("What to compare")
        form = QFormLayout(setup)
        self.family = QComboBox()
        self.family.currentTextChanged.connect(self.show_levels)
        form.addRow("Model", self.family)
        self.levels = QListWidget()
        self.levels.setMaximumHeight(150)
        self.levels.setToolTip("The highest precision ticked is the reference")
        form.addRow("Levels", self.levels)
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.source.activated.connect(self._source_chosen)
        form.addRow("Questions", self.source)
        self.typed = QPlainTextEdit()
        self.typed.setPlaceholderText("One question per line")
        self.typed.setMaximumHeight(90)
        form.addRow("", self.typed)
        self.limit = QSpinBox()
        self.limit.setRange(0, 10000)
        self.limit.setSpecialValueText("all")
        form.addRow("Use the first", self.limit)

        budget = QGroupBox("Recommend the smallest level with")
        bf = QFormLayout(budget)
        self.min_same_top = QDoubleSpinBox()
        self.min_same_top.setRange(0, 100)
        self.min_same_top.setValue(90)
        self.min_same_top.setSuffix(" % same top token")
        bf.addRow("Quality at least", self.min_same_top)
        self.max_kld = QDoubleSpinBox()
        self.max_kld.setDecimals(3)
        self.max_kld.setRange(0, 10)
        self.max_kld.setSingleStep(0.01)
        self.max_kld.setSpecialValueText("no limit")
        bf.addRow("KLD at most", self.max_kld)
        self.min_tps = QDoubleSpinBox()
        self.min_tps.setRange(0, 10000)
        self.min_tps.setSpecialValueText("no target")
        self.min_tps.setSuffix(" tokens/s")
        bf.addRow("Speed at least", self.min_tps)
        self.max_ttft = QSpinBox()
        self.max_ttft.setRange(0, 600000)
        self.max_ttft.setSingleStep(100)
        self.max_ttft.setSpecialValueText("no target")
        self.max_ttft.setSuffix(" ms")
        bf.addRow("First token within", self.max_ttft)
        for w in (self.min_same_top, self.max_kld, self.min_tps, self.max_ttft):
            w.valueChanged.connect(lambda *_: self.budget_changed.emit())

        self.run_button = QPushButton("Run comparison")
        self.run_button.setShortcut("Ctrl+R")
        self.run_button.setToolTip("Run comparison (Ctrl+R)")
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(setup)
        ll.addWidget(budget)
        ll.addLayout(buttons)
        ll.addWidget(self.progress)
        ll.addWidget(self.progress_label)
        ll.addStretch(1)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c[1] for c in COLUMNS])
        for col, (key, _) in enumerate(COLUMNS):
            head_item = self.table.horizontalHeaderItem(col)
            if key in TIPS and head_item is not None:
                head_item.setToolTip(TIPS[key])
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        # Every column shares the width (the level's own fits its text): all of them are in
        # sight at 1366x768, no sideways scrolling.
        head = self.table.horizontalHeader()
        head.setMinimumSectionSize(44)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self._hide_empty_columns()
        self.advice = QLabel("Run a comparison to see what each level costs.")
        self.advice.setWordWrap(True)
        self.advice.setTextFormat(Qt.TextFormat.RichText)
        self.load_button = QPushButton("Load the recommended level")
        self.load_button.setEnabled(False)
        self.load_button.clicked.connect(self._load_recommended)
        self.report_button = QPushButton("Open report")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.open_report_requested)
        adv = QHBoxLayout()
        adv.addWidget(self.advice, 1)
        adv.addWidget(self.load_button)
        adv.addWidget(self.report_button)
        self.mem_chart, mem_view = _scatter_chart("Memory against quality",
                                                  "model file = weights in memory (MiB)")
        self.speed_chart, speed_view = _scatter_chart("Speed against quality",
                                                      "generation (tokens/s)")
        charts = QHBoxLayout()
        charts.addWidget(mem_view)
        charts.addWidget(speed_view)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.table, 2)
        rl.addLayout(adv)
        rl.addLayout(charts, 3)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([380, 900])
        outer = QVBoxLayout(self)
        outer.addWidget(split)

    # ---- inputs ---------------------------------------------------------------------------
    def set_models(self, families: dict[str, list[ModelFile]], current: str | None) -> None:
        self._families = families
        self.family.blockSignals(True)
        self.family.clear()
        self.family.addItems(sorted(families))
        if current in families:
            self.family.setCurrentText(current)
        self.family.blockSignals(False)
        self.show_levels(self.family.currentText())

    def show_levels(self, family: str) -> None:
        self.levels.clear()
        for m in self._families.get(family, []):
            item = QListWidgetItem(f"{m.quant}  ({m.size_bytes / 2**20:.0f} MiB)")
            item.setData(Qt.ItemDataRole.UserRole, str(m.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.levels.addItem(item)

    def chosen_levels(self) -> list[Path]:
        out = []
        for i in range(self.levels.count()):
            item = self.levels.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(Path(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def _source_chosen(self, index: int) -> None:
        if SOURCES[index] == SOURCES[2]:
            self.questions_file_requested.emit()

    def typed_questions(self) -> list[str]:
        return [q.strip() for q in self.typed.toPlainText().splitlines() if q.strip()]

    def budget(self) -> Budget:
        return Budget(min_same_top_pct=self.min_same_top.value() or None,
                      max_kld=self.max_kld.value() or None,
                      min_tokens_per_s=self.min_tps.value() or None,
                      max_ttft_ms=float(self.max_ttft.value()) or None)

    # ---- progress and results -------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.results = []
            self.table.setRowCount(0)
            self._hide_empty_columns()
            self.mem_chart.removeAllSeries()
            self.speed_chart.removeAllSeries()
            self.load_button.setEnabled(False)
            self.report_button.setEnabled(False)
            self.advice.setText("Measuring…")

    def set_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress_label.setText(text)

    def add_level(self, r: LevelResult) -> None:
        self.results.append(r)
        self.table.setSortingEnabled(False)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, (key, _) in enumerate(COLUMNS):
            v = getattr(r, key)
            if isinstance(v, float) or v is None:
                item: QTableWidgetItem = _NumberItem(v, BY_KEY[key].text(v))
            else:
                item = QTableWidgetItem(str(v) + (" (ref.)" if r.reference else ""))
                if r.reference:
                    item.setToolTip("The reference: the highest precision compared")
            self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self._hide_empty_columns()
        self._plot()

    def _hide_empty_columns(self) -> None:
        """The answer scores' columns only when some level has them (labelled questions)."""
        for col, (key, _) in enumerate(COLUMNS):
            if key in LABELLED:
                self.table.setColumnHidden(
                    col, all(getattr(r, key) is None for r in self.results))

    def _plot(self) -> None:
        for chart, key in ((self.mem_chart, "file_mb"), (self.speed_chart, "tokens_per_s")):
            chart.removeAllSeries()
            for ax in chart.axes():
                chart.removeAxis(ax)
            pts = [(getattr(r, key), r.same_top_pct, r.quant) for r in self.results
                   if getattr(r, key) is not None and r.same_top_pct is not None]
            if not pts:
                continue
            ax_x, ax_y = QValueAxis(), QValueAxis()
            ax_x.setTitleText(str(chart.property("x_title")))
            ax_y.setTitleText("same top token %")
            xs = [p[0] for p in pts]
            pad = max(1.0, (max(xs) - min(xs)) * 0.15)
            ax_x.setRange(min(xs) - pad, max(xs) + pad)
            ax_y.setRange(max(0.0, min(p[1] for p in pts) - 10), 106.0)  # room for labels
            chart.addAxis(ax_x, Qt.AlignmentFlag.AlignBottom)
            chart.addAxis(ax_y, Qt.AlignmentFlag.AlignLeft)
            for x, y, quant in pts:
                s = QScatterSeries()
                s.setName(quant)
                s.setMarkerSize(11)
                s.append(x, y)
                s.setPointLabelsVisible(True)
                s.setPointLabelsFormat(quant)
                chart.addSeries(s)
                s.attachAxis(ax_x)
                s.attachAxis(ax_y)

    def set_recommendation(self, quant: str | None, path: Path | None, reason: str) -> None:
        self.recommended = path
        self.load_button.setEnabled(path is not None)
        self.report_button.setEnabled(True)
        head = f"<b>Recommended: {quant}</b>" if quant else "<b>No level meets the budget</b>"
        self.advice.setText(f"{head}<br>{reason}")

    def _load_recommended(self) -> None:
        if self.recommended is not None:
            self.load_level_requested.emit(self.recommended)
