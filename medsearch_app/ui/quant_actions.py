"""Main-window actions for quantization: the model's quant levels and the embedder precision.

A mixin of MainWindow (kept apart to keep each module to one job): building a quant ladder in a
background process, switching the loaded level on the model's owner thread, and building and
swapping in another embedder precision's index while the current one keeps answering.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot

from ..core.embed import load_embedder
from ..core.engine import SwitchReport
from ..core.library import Library
from ..core.models import default_model_path, discover, model_folders, models_dir
from ..core.quantize import LADDER, QuantDone, QuantProgress, base_name, build_ladder
from ..core.settings import data_home
from ..core.types import Progress
from .workers import GeneratorWorker

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QStatusBar, QTabWidget

    from ..core.engine import Engine
    from ..core.settings import Settings
    from .widgets.gauges import Gauges
    from .widgets.settings_panel import SettingsPanel
    from .workers import ModelOwner


class LibrarySwap:
    """A library opened with another embedder precision is ready to take over."""

    def __init__(self, library: Library) -> None:
        self.library = library



class QuantActions:
    """Quant-level and precision handling of the main window (mixed into MainWindow)."""

    # Provided by MainWindow:
    settings: Settings
    engine: Engine
    settings_panel: SettingsPanel
    gauges: Gauges
    owner: ModelOwner
    tabs: QTabWidget
    model_label: QLabel
    ready: bool
    model_title: str
    switches: list[SwitchReport]
    _ask_job: int | None
    _switch_job: int | None
    _index_worker: GeneratorWorker | None
    _build_worker: GeneratorWorker | None
    _precision_worker: GeneratorWorker | None
    _pending_swap: Library | None
    _ladder_offered: bool

    if TYPE_CHECKING:
        def statusBar(self) -> QStatusBar: ...
        def setWindowTitle(self, title: str) -> None: ...
        def refresh_documents(self) -> None: ...

    # ---- quantization levels ------------------------------------------------------------------
    def current_model_path(self) -> Path | None:
        try:
            return self.engine.model_path().resolve()
        except Exception:  # noqa: BLE001 - no model configured: the panel says so
            return None

    def refresh_models(self) -> None:
        files, bad = discover(model_folders(self.settings))
        self.settings_panel.set_models(files, self.current_model_path())
        if bad:
            self.statusBar().showMessage(
                f"{len(bad)} model file(s) unreadable: {bad[0][0].name}: {bad[0][1]}")

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        # The default model's family gets its levels the first time the panel is opened.
        if index != 1 or self._ladder_offered or not self.ready:
            return
        self._ladder_offered = True
        try:
            default = default_model_path().resolve()
        except Exception:  # noqa: BLE001 - default model missing: nothing to build
            return
        if self.current_model_path() == default and self.settings_panel.levels.count() <= 1:
            self.build_ladder()

    def build_ladder(self) -> None:
        if self._build_worker is not None and self._build_worker.running:
            return
        src = self.current_model_path()
        if src is None:
            self.statusBar().showMessage("No model is configured to build levels from")
            return
        try:
            out = models_dir() if src == default_model_path().resolve() else src.parent
        except Exception:  # noqa: BLE001 - default model missing: build next to the source
            out = src.parent
        w = GeneratorWorker(lambda cancel: build_ladder(src, LADDER, out, cancel=cancel),
                            self.tabs)
        w.yielded.connect(self._on_build_event)
        w.failed.connect(lambda m: self.settings_panel.build_label.setText(f"Failed: {m}"))
        w.finished.connect(lambda: self.settings_panel.set_building(False))
        self._build_worker = w
        self.settings_panel.set_building(True)
        self.settings_panel.build_progress.setRange(0, len(LADDER) + 1)
        self.settings_panel.build_progress.setValue(0)
        w.start()

    def _cancel_build(self) -> None:
        if self._build_worker is not None:
            self._build_worker.cancel()

    @Slot(object)
    def _on_build_event(self, ev: object) -> None:
        sp = self.settings_panel
        if isinstance(ev, QuantProgress):
            sp.build_progress.setRange(0, ev.total)
            sp.build_progress.setValue(ev.done)
            sp.build_label.setText(f"{ev.done}/{ev.total}: {ev.message}")
        elif isinstance(ev, QuantDone):
            msg = ("Cancelled" if ev.cancelled else ev.error or
                   f"Built {len(ev.built)} level(s) in {ev.seconds:.0f} s")
            if ev.warnings:
                msg += "<br><i>Note: " + html.escape(ev.warnings[0]) + "</i>"
            sp.build_label.setText(msg)
            self.refresh_models()

    def switch_level(self, path: Path) -> None:
        """Stop any answer, close the loaded model, load `path` on the model thread."""
        if self._ask_job is not None:
            self.owner.cancel(self._ask_job)
        self.statusBar().showMessage(f"Loading {path.name}…")
        self.settings_panel.apply_level.setEnabled(False)
        eng = self.engine

        def job(_cancel: threading.Event) -> Iterator[Any]:
            yield eng.switch_model(path)

        self._switch_job = self.owner.submit(job)

    def _on_switched(self, rep: SwitchReport) -> None:
        self.switches.append(rep)
        self.settings.save()
        self.model_title = f"{base_name(Path(rep.file))} ({rep.quant})"
        self.setWindowTitle(f"MedSearch — {self.model_title}")
        emb = self.engine.embedder
        self.model_label.setText(f"Model: {self.model_title} · Embedder: {emb.name} "
                                 f"({emb.precision.value})")
        self.gauges.mark_level_change(f"{rep.quant} · {rep.size_bytes / 2**20:.0f} MiB file")
        self.statusBar().showMessage(
            f"Switched {rep.old_quant or 'none'} → {rep.quant}: released {rep.released_mb:.0f} "
            f"MiB, took {rep.taken_mb:.0f} MiB (RSS now {rep.rss_mb:.0f} MiB)")
        self.refresh_models()

    def _add_models_folder(self, folder: str) -> None:
        if folder not in self.settings.models_folders:
            self.settings.models_folders.append(folder)
            self.settings.save()
        self.refresh_models()

    # ---- embedder precision ----------------------------------------------------------------
    def switch_precision(self, precision: str) -> None:
        if precision == self.engine.precision.value:
            return
        if self._index_worker is not None and self._index_worker.running:
            self.statusBar().showMessage("Wait for indexing to finish before switching precision")
            self.settings_panel.precision.setCurrentText(self.engine.precision.value)
            return
        home = data_home()
        threads = self.engine.settings.threads or None
        path = self.settings.embedder_path or None

        def job(cancel: threading.Event) -> Iterator[Any]:
            emb = load_embedder(path, precision, threads=threads)
            lib = Library(home, emb)
            yield from lib.reconcile(cancel)  # builds this precision's index if it has none
            if cancel.is_set():
                lib.close()
                return
            yield LibrarySwap(lib)

        w = GeneratorWorker(job, self.tabs)
        bar = self.settings_panel.precision_progress
        bar.setVisible(True)
        bar.setRange(0, 0)
        w.yielded.connect(self._on_precision_event)
        w.failed.connect(lambda m: self.statusBar().showMessage(f"Precision switch failed: {m}"))
        w.finished.connect(lambda: bar.setVisible(False))
        self._precision_worker = w
        self.statusBar().showMessage(f"Preparing the {precision} index (the current one keeps "
                                     "answering)…")
        w.start()

    @Slot(object)
    def _on_precision_event(self, ev: object) -> None:
        bar = self.settings_panel.precision_progress
        if isinstance(ev, Progress) and ev.chunks_total:
            bar.setRange(0, ev.chunks_total)
            bar.setValue(ev.chunks_done)
        elif isinstance(ev, LibrarySwap):
            self._pending_swap = ev.library
            self._apply_swap()

    def _apply_swap(self) -> None:
        if self._pending_swap is None or self._ask_job is not None:
            return  # swapped when the answer in flight finishes
        lib, self._pending_swap = self._pending_swap, None
        self.engine.replace_library(lib.embedder, lib)
        self.settings.save()
        emb = lib.embedder
        self.model_label.setText(f"Model: {getattr(self, 'model_title', '')} · Embedder: "
                                 f"{emb.name} ({emb.precision.value})")
        self.statusBar().showMessage(f"Embedder precision is now {emb.precision.value}")
        self.refresh_documents()

