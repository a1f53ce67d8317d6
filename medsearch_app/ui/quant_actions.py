"""Quantization actions of the window: the model's quant levels and the embedder precision.

Building a quant ladder (child processes), switching the loaded level (on the model's owner
thread), and building another embedder precision's index while the current one keeps answering,
then swapping it in when nothing uses the library. Each is a job of the window's JobCoordinator,
which queues or refuses what conflicts.
"""

from __future__ import annotations

import html
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from ..core.embedding.embed import load_embedder
from ..core.engine import Engine, SwitchReport
from ..core.library.indexing import Library
from ..core.llm.models import default_model_path, discover, model_folders, models_dir
from ..core.quant.quantize import (
    LADDER,
    QuantDone,
    QuantProgress,
    base_name,
    build_ladder,
    ladder_estimate,
    ladder_folder,
)
from ..core.settings import Settings, data_home, effective_threads
from ..core.types import Progress
from .jobs import JobCoordinator, JobKind, Where
from .widgets.gauges import Gauges
from .widgets.settings_panel import SettingsPanel

Status = Callable[..., None]


# A ladder larger than this is built only after asking (the 135M model's is about 0.8 GB).
ASK_ABOVE_BYTES = 2_000_000_000

@dataclass(frozen=True)
class LibrarySwap:
    """A library opened with another embedder precision is ready to take over."""

    library: Library


class QuantActions(QObject):
    """Quant levels and embedder precision; `model_changed(title)` after a level switch,
    `embedder_changed()` after a precision swap."""

    model_changed = Signal(str)
    embedder_changed = Signal()

    def __init__(self, engine: Engine, settings: Settings, jobs: JobCoordinator,
                 panel: SettingsPanel, gauges: Gauges, status: Status,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.settings, self.jobs = engine, settings, jobs
        self.panel, self.gauges, self.status = panel, gauges, status
        self.switches: list[SwitchReport] = []
        self.ladder_offered = False
        panel.switch_level_requested.connect(self.switch_level)
        panel.build_ladder_requested.connect(self.build_ladder)
        panel.cancel_build_requested.connect(lambda: self.jobs.cancel(JobKind.LADDER))
        panel.precision_requested.connect(self.switch_precision)
        panel.models_folder_added.connect(self.add_models_folder)

    # ---- quantization levels ------------------------------------------------------------------
    def current_model_path(self) -> Path | None:
        try:
            return self.engine.model_path().resolve()
        except Exception:  # noqa: BLE001 - no model configured: the panel says so
            return None

    def refresh_models(self) -> None:
        """List the model files off the GUI thread (each GGUF header is read), then show them."""
        folders = model_folders(self.settings)
        current = self.current_model_path()
        held = self.engine.held_model_bytes()

        def job(_cancel: threading.Event) -> Iterator[Any]:
            yield discover(folders)

        def show(found: Any) -> None:
            files, bad = found
            self.panel.set_models(files, current, held_bytes=held)
            if bad:
                self.status(f"{len(bad)} model file(s) unreadable: {bad[0][0].name}: "
                            f"{bad[0][1]}")

        self.jobs.submit(JobKind.MODELS, job, key="models", on_event=show)

    def offer_ladder(self) -> None:
        """The default model's family gets its levels the first time the panel is opened."""
        if self.ladder_offered:
            return
        self.ladder_offered = True
        try:
            default = default_model_path().resolve()
        except Exception:  # noqa: BLE001 - default model missing: nothing to build
            return
        if self.current_model_path() == default and self.panel.levels.count() <= 1:
            self.build_ladder()

    def build_ladder(self) -> None:
        src = self.current_model_path()
        if src is None:
            self.status("No model is configured to build levels from")
            return
        out = ladder_folder(src, models_dir())
        if not self.confirm_large_build(src, out):
            return
        sp = self.panel
        job = self.jobs.submit(
            JobKind.LADDER, lambda cancel: build_ladder(src, LADDER, out, cancel=cancel),
            on_event=self._on_build_event,
            on_failed=lambda m: sp.build_label.setText(f"Failed: {html.escape(m)}"),
            on_finished=lambda: sp.set_building(False))
        if job is not None:
            sp.set_building(True)
            sp.build_progress.setRange(0, len(LADDER) + 1)
            sp.build_progress.setValue(0)

    def confirm_large_build(self, src: Path, out: Path) -> bool:
        """A ladder over ASK_ABOVE_BYTES (the 1.5B model's is about 9 GB) is built only when the
        user says so, after being shown the disk space and the time it will take."""
        try:
            size, seconds = ladder_estimate(src, LADDER)
        except Exception:  # noqa: BLE001 - unreadable header: build_ladder reports it
            return True
        if size <= ASK_ABOVE_BYTES:
            return True
        free = shutil.disk_usage(out if out.exists() else out.parent).free
        text = (f"Building the {len(LADDER)} levels of {src.name} writes about "
                f"{size / 1e9:.1f} GB into {out} ({free / 1e9:.1f} GB free there) and takes "
                f"about {max(1, round(seconds / 60))} minute(s). Build them now?")
        if size > free:
            QMessageBox.warning(self.panel, "Not enough disk space", text.replace(
                " Build them now?", " There is not enough free space."))
            return False
        answer = QMessageBox.question(self.panel, "Build quantization levels?", text)
        return answer == QMessageBox.StandardButton.Yes

    def _on_build_event(self, ev: object) -> None:
        sp = self.panel
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
        """Stop any answer, then close the loaded model and load `path` on the model thread."""
        eng = self.engine

        def job(_cancel: threading.Event) -> Iterator[Any]:
            yield eng.switch_model(path)

        def failed(msg: str) -> None:
            self.status(f"Could not switch level: {msg}")
            self.refresh_models()

        self.jobs.cancel(JobKind.ANSWER)
        submitted = self.jobs.submit(JobKind.LEVEL, job, where=Where.MODEL,
                                     on_event=self._on_switched, on_failed=failed)
        if submitted is not None:
            self.status(f"Loading {path.name}…")
            self.panel.apply_level.setEnabled(False)

    def _on_switched(self, rep: object) -> None:
        if not isinstance(rep, SwitchReport):
            return
        self.switches.append(rep)
        self.settings.save()
        self.model_changed.emit(f"{base_name(Path(rep.file))} ({rep.quant})")
        self.gauges.mark_level_change(f"{rep.quant} · {rep.size_bytes / 2**20:.0f} MiB file")
        self.status(f"Switched {rep.old_quant or 'none'} → {rep.quant}: released "
                    f"{rep.released_mb:.0f} MiB, took {rep.taken_mb:.0f} MiB (RSS now "
                    f"{rep.rss_mb:.0f} MiB)")
        self.refresh_models()

    def add_models_folder(self, folder: str) -> None:
        if folder not in self.settings.models_folders:
            self.settings.models_folders.append(folder)
            self.settings.save()
        self.refresh_models()

    # ---- embedder precision ----------------------------------------------------------------
    def switch_precision(self, precision: str) -> None:
        if precision == self.engine.precision.value:
            return
        home = data_home()
        threads = effective_threads(self.settings)
        path = self.settings.embedder_path or None
        bar = self.panel.precision_progress

        def job(cancel: threading.Event) -> Iterator[Any]:
            emb = load_embedder(path, precision, threads=threads)
            lib = Library(home, emb)
            yield from lib.reconcile(cancel)  # builds this precision's index if it has none
            if cancel.is_set():
                lib.close()
                emb.close()
                return
            yield LibrarySwap(lib)

        def finished() -> None:
            bar.setVisible(False)
            if not self.jobs.busy(JobKind.PRECISION) and not self.jobs.busy(JobKind.SWAP):
                self.panel.precision.setCurrentText(self.engine.precision.value)

        submitted = self.jobs.submit(
            JobKind.PRECISION, job, on_event=self._on_precision_event,
            on_failed=lambda m: self.status(f"Precision switch failed: {m}"),
            on_finished=finished)
        if submitted is None:
            self.panel.precision.setCurrentText(self.engine.precision.value)
            return
        bar.setVisible(True)
        bar.setRange(0, 0)
        self.status(f"Preparing the {precision} index (the current one keeps answering)…")

    def _on_precision_event(self, ev: object) -> None:
        bar = self.panel.precision_progress
        if isinstance(ev, Progress) and ev.chunks_total:
            bar.setRange(0, ev.chunks_total)
            bar.setValue(ev.chunks_done)
        elif isinstance(ev, LibrarySwap):
            self._swap_in(ev.library)

    def _swap_in(self, lib: Library) -> None:
        """Queue the swap: it runs on the GUI thread once no answer, indexing or removal uses
        the current library (the coordinator's conflict table)."""
        eng = self.engine

        def job(_cancel: threading.Event) -> Iterator[Any]:
            eng.replace_library(lib.embedder, lib)
            yield lib.embedder.precision.value

        def done(value: object) -> None:
            self.settings.save()
            self.panel.precision.setCurrentText(str(value))
            self.status(f"Embedder precision is now {value}")
            self.embedder_changed.emit()

        self.jobs.submit(JobKind.SWAP, job, where=Where.GUI, on_event=done,
                         on_failed=lambda m: self.status(f"Precision switch failed: {m}"))
