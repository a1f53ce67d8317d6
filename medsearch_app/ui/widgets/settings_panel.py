"""Settings panel: quant level of the language model, embedder precision, and other settings.

The panel edits the Settings model and emits requests; the main window runs the work (ladder
builds, switches) on background threads. Before a level is loaded the panel shows the memory it
needs next to what is free.
"""

from __future__ import annotations

from pathlib import Path

import psutil
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.answer.rag import AUTO, FIRST_WORD_S
from ...core.embedding.base import Precision
from ...core.embedding.embed import unavailable
from ...core.llm.gguf import GgufError, read_gguf
from ...core.llm.models import ModelFile
from ...core.llm.runtime import gpu_offload_supported, memory_fit
from ...core.quant.quantize import LADDER
from ...core.settings import Settings


def fmt_bytes(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


PRECISION_HELP = {
    Precision.FP32: "The reference: full precision on torch.",
    Precision.INT8: "int8 weights on torch: faster, vectors a little further from fp32.",
    Precision.ONNX_FP32: "Full precision on ONNX Runtime: the same vectors as fp32, "
                         "starts faster. Prepared once per data folder.",
    Precision.ONNX_INT8: "Default. int8 on ONNX Runtime: as fast as int8 and much closer "
                         "to fp32; starts in under a second. Prepared once per data folder.",
}



class SourceTextBox(QSpinBox):
    """"Source text for the model": automatic (rag.AUTO), whole passages (0) or about N
    characters per source, stepping -1, 0, 200, 300, ... ."""

    def __init__(self, value: int) -> None:
        super().__init__(minimum=AUTO, maximum=4000, singleStep=100)
        self.setValue(value)
        # Chosen with the arrows, the wheel or the Up/Down keys: three kinds of value in one
        # box would not survive free typing.
        self.lineEdit().setReadOnly(True)

    def textFromValue(self, value: int) -> str:
        if value == AUTO:
            return "automatic"
        return "whole passages" if value == 0 else f"{value} characters"

    def valueFromText(self, text: str) -> int:
        t = text.strip().lower()
        if t.startswith("auto"):
            return AUTO
        digits = "".join(c for c in t if c.isdigit())
        return int(digits) if digits else 0

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            if steps > 0:
                value = 0 if value == AUTO else (200 if value == 0 else value + 100)
            else:
                value = AUTO if value <= 0 else (0 if value <= 200 else value - 100)
        self.setValue(max(AUTO, min(value, self.maximum())))

class SettingsPanel(QWidget):
    switch_level_requested = Signal(object)  # Path
    build_ladder_requested = Signal()
    cancel_build_requested = Signal()
    precision_requested = Signal(str)
    settings_changed = Signal()
    models_folder_added = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        # ---- language model level
        self.levels = QListWidget()
        self.levels.setMinimumHeight(150)
        self.levels.setStyleSheet("font-family: monospace;")
        self.levels.currentItemChanged.connect(self._level_selected)
        self.levels.itemDoubleClicked.connect(lambda _i: self._apply_level())
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.apply_level = QPushButton("Load this level")
        self.apply_level.clicked.connect(self._apply_level)
        self.build = QPushButton("Build levels…")
        self.build.setToolTip(f"Build {', '.join(LADDER[:-1])} and {LADDER[-1]} of the current "
                              "model with llama.cpp's quantizer")
        self.build.clicked.connect(self.build_ladder_requested)
        self.build_progress = QProgressBar()
        self.build_cancel = QPushButton("Cancel")
        self.build_cancel.clicked.connect(self.cancel_build_requested)
        self.build_label = QLabel("")
        self.build_label.setWordWrap(True)
        add_folder = QPushButton("Models folder…")
        add_folder.setToolTip("Add a folder of GGUF models (for example 7-8B models from IT)")
        add_folder.clicked.connect(self._add_folder)
        lm = QGroupBox("Language model (GGUF quant level)")
        lv = QVBoxLayout(lm)
        lv.addWidget(self.levels)
        lv.addWidget(self.estimate)
        row = QHBoxLayout()
        row.addWidget(self.apply_level)
        row.addWidget(self.build)
        lv.addLayout(row)
        lv.addWidget(add_folder)
        prow = QHBoxLayout()
        prow.addWidget(self.build_progress, 1)
        prow.addWidget(self.build_cancel)
        lv.addLayout(prow)
        lv.addWidget(self.build_label)
        self.set_building(False)
        # ---- embedder precision
        self.precision = QComboBox()
        missing = []
        for i, p in enumerate(Precision):
            why = unavailable(settings.embedder_path or None, p)
            self.precision.addItem(p.value)
            self.precision.setItemData(i, PRECISION_HELP[p] if why is None
                                       else f"Not in this install: {why}.",
                                       Qt.ItemDataRole.ToolTipRole)
            if why is not None:  # listed, greyed out, the reason in its tooltip and below
                self.precision.model().item(i).setEnabled(False)  # type: ignore[attr-defined]
                missing.append(p.value)
        self.precision_missing = QLabel(
            f"{' and '.join(missing)}: not in this install (they run on torch, which only the "
            "developer install has)." if missing else "")
        self.precision_missing.setWordWrap(True)
        self.precision_missing.setVisible(bool(missing))
        self.precision.setCurrentText(settings.precision)
        self.precision.activated.connect(
            lambda _i: self.precision_requested.emit(self.precision.currentText()))
        self.precision_progress = QProgressBar()
        self.precision_progress.setVisible(False)
        emb = QGroupBox("Embedder precision")
        ef = QFormLayout(emb)
        ef.addRow("Precision:", self.precision)
        ef.addRow(self.precision_missing)
        ef.addRow(self.precision_progress)
        # ---- other settings
        other = QGroupBox("Generation and retrieval")
        of = QFormLayout(other)
        self.threads = QSpinBox(minimum=0, maximum=max(1, psutil.cpu_count() or 1),
                                value=settings.threads)
        self.threads.setSpecialValueText("auto")
        self.ctx = QSpinBox(minimum=512, maximum=131072, singleStep=512,
                            value=settings.context_size)
        self.top_k = QSpinBox(minimum=1, maximum=20, value=settings.top_k)
        self.temp = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.05,
                                   value=settings.temperature)
        self.max_tokens = QSpinBox(minimum=16, maximum=4096, singleStep=16,
                                   value=settings.max_tokens)
        self.source_chars = SourceTextBox(settings.source_chars)
        self.source_chars.setToolTip(
            "How much of each source the model reads. Automatic: whole passages when this "
            f"model reads them within about {FIRST_WORD_S:.0f} seconds on this computer, else "
            "excerpts short enough to. Whole passages: everything retrieved. A number: each "
            "source cut to its best sentences and their neighbours, about that long; fewer "
            "tokens to read, so the answer starts sooner (README, 'Time to first token'). The "
            "quoted evidence is the same either way.")
        self.mode = QComboBox()
        self.mode.addItems(["hybrid", "dense", "keyword"])
        self.mode.setCurrentText(settings.retrieval_mode)
        of.addRow("Threads:", self.threads)
        self.gpu_layers = QSpinBox(minimum=0, maximum=999, value=settings.gpu_layers)
        if gpu_offload_supported():
            of.addRow("GPU layers:", self.gpu_layers)
        else:
            self.gpu_layers.setVisible(False)
        of.addRow("Context (tokens):", self.ctx)
        of.addRow("Sources per answer:", self.top_k)
        of.addRow("Temperature:", self.temp)
        of.addRow("Max answer tokens:", self.max_tokens)
        of.addRow("Source text for the model:", self.source_chars)
        of.addRow("Retrieval:", self.mode)
        for w in (self.threads, self.ctx, self.top_k, self.max_tokens, self.gpu_layers,
                  self.source_chars):
            w.valueChanged.connect(self._changed)
        self.temp.valueChanged.connect(self._changed)
        self.mode.currentTextChanged.connect(self._changed)
        self.note = QLabel("Threads, context and GPU layers apply when a model is next loaded.")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        of.addRow(self.note)
        lay = QVBoxLayout(self)
        lay.addWidget(lm)
        lay.addWidget(emb)
        lay.addWidget(other)
        lay.addStretch(1)
        self.current_path: Path | None = None
        self.held_bytes = 0

    # ---- levels ------------------------------------------------------------------------------
    def set_models(self, models: list[ModelFile], current: Path | None,
                   held_bytes: int = 0) -> None:
        """Show the levels of the current model's family. `held_bytes`: memory the loaded model
        gives back when a switch closes it (Engine.held_model_bytes(); 0 when none is loaded),
        counted as free in the estimate as the switch itself counts it."""
        self.current_path = current
        self.held_bytes = held_bytes
        self.levels.blockSignals(True)
        self.levels.clear()
        fam = next((m.family for m in models if current and m.path == current), None)
        shown = [m for m in models if fam is None or m.family == fam]
        for m in shown:
            mark = "  ● loaded" if current and m.path == current else ""
            item = QListWidgetItem(f"{m.quant:<7} {m.size_bytes / 2**20:6.1f} MiB{mark}")
            item.setToolTip(str(m.path))
            item.setData(Qt.ItemDataRole.UserRole, str(m.path))
            self.levels.addItem(item)
            if current and m.path == current:
                self.levels.setCurrentItem(item)
        self.levels.blockSignals(False)
        self._level_selected(self.levels.currentItem(), None)

    def selected_path(self) -> Path | None:
        it = self.levels.currentItem()
        return Path(it.data(Qt.ItemDataRole.UserRole)) if it else None

    def select_quant(self, quant: str) -> bool:
        for i in range(self.levels.count()):
            it = self.levels.item(i)
            if it.text().split()[0] == quant:
                self.levels.setCurrentItem(it)
                return True
        return False

    def _level_selected(self, item: QListWidgetItem | None, _prev: object) -> None:
        if item is None:
            self.estimate.setText("No model files found. Build levels or add a models folder.")
            return
        path = Path(item.data(Qt.ItemDataRole.UserRole))
        try:
            info = read_gguf(path)
        except GgufError as exc:
            self.estimate.setText(f"<span style='color:#a00'>{exc}</span>")
            self.apply_level.setEnabled(False)
            return
        fit = memory_fit(info, self.settings.context_size, self.settings.gpu_layers,
                         held_bytes=self._held_bytes(path))
        color = "#070" if fit.fits else "#a00"
        free = f"{fmt_bytes(fit.available)} free" + (
            " once the loaded level is closed" if fit.held else "")
        self.estimate.setText(
            f"<b>{info.quant}</b> · {info.n_params / 1e6:,.0f}M parameters · "
            f"{info.arch}<br>Needs about <b>{fmt_bytes(fit.need)}</b> (weights + context of "
            f"{fit.n_ctx} tokens); <span style='color:{color}'>{free}</span>"
            + ("" if fit.fits else " — <b>will not fit</b>"))
        self.apply_level.setEnabled(fit.fits and path != self.current_path)

    def _held_bytes(self, path: Path) -> int:
        """Memory the loaded level gives back before `path` loads (a switch closes it first)."""
        return 0 if path == self.current_path else self.held_bytes

    def _apply_level(self) -> None:
        p = self.selected_path()
        if p is not None and self.apply_level.isEnabled():
            self.switch_level_requested.emit(p)

    def set_building(self, building: bool) -> None:
        self.build.setEnabled(not building)
        self.build_progress.setVisible(building)
        self.build_cancel.setVisible(building)

    def _add_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a folder of GGUF models")
        if d:
            self.models_folder_added.emit(d)

    # ---- other settings ----------------------------------------------------------------------
    def _changed(self) -> None:
        s = self.settings
        s.threads = self.threads.value()
        s.context_size = self.ctx.value()
        s.top_k = self.top_k.value()
        s.temperature = round(self.temp.value(), 2)
        s.max_tokens = self.max_tokens.value()
        s.source_chars = self.source_chars.value()
        s.retrieval_mode = self.mode.currentText()
        s.gpu_layers = self.gpu_layers.value()
        self.settings_changed.emit()
