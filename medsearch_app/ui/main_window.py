"""Main window: wires the library, ask and viewer panes to the core through background workers.

The GUI thread only updates widgets. Opening the library (loading the embedder) and indexing run
on GeneratorWorker threads; everything that touches the language model runs on the ModelOwner
thread. Errors arrive as readable messages in the status bar or the pane concerned.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QMarginsF, Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)

from ..core.engine import Engine, SwitchReport
from ..core.gguf import read_gguf
from ..core.library import Library
from ..core.quantize import base_name
from ..core.settings import Settings, data_home
from ..core.types import AnswerDone, IndexDone, Progress
from .quant_actions import QuantActions
from .widgets.ask_panel import QA, AskPanel, source_title
from .widgets.gauges import Gauges
from .widgets.library_panel import LibraryPanel
from .widgets.pdf_viewer import SourceViewer
from .widgets.settings_panel import SettingsPanel
from .workers import GeneratorWorker, ModelOwner

log = logging.getLogger(__name__)


class Ready:
    """Startup finished: the library is open (event from the startup job)."""

    def __init__(self, title: str, problem: str | None) -> None:
        self.title, self.problem = title, problem


class MainWindow(QuantActions, QMainWindow):
    def __init__(self, settings: Settings | None = None, *, install_demo: bool = True) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.engine = Engine(self.settings)
        self.install_demo = install_demo
        self.setWindowTitle("MedSearch")
        self.resize(1400, 860)
        self.library_panel = LibraryPanel()
        self.ask_panel = AskPanel()
        self.viewer = SourceViewer()
        self.settings_panel = SettingsPanel(self.settings)
        self.gauges = Gauges()
        quant = QWidget()
        ql = QHBoxLayout(quant)
        ql.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.settings_panel)
        ql.addWidget(scroll, 5)
        ql.addWidget(self.gauges, 6)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.viewer, "Source")
        self.tabs.addTab(quant, "Quantization && gauges")
        self.tabs.currentChanged.connect(self._tab_changed)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.library_panel)
        split.addWidget(self.ask_panel)
        split.addWidget(self.tabs)
        split.setSizes([270, 500, 730])
        self.setCentralWidget(split)
        self.model_label = QLabel("")
        self.statusBar().addPermanentWidget(self.model_label)

        self.owner = ModelOwner(self)
        self.owner.yielded.connect(self._on_model_event)
        self.owner.failed.connect(self._on_model_failed)
        self.owner.finished.connect(self._on_model_finished)
        self._ask_job: int | None = None
        self._index_worker: GeneratorWorker | None = None
        self._queued: list[list[Path] | None] = []
        self.ready = False
        self.last_index: IndexDone | None = None
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._folder_changed)
        self._sync_timer = QTimer(self, singleShot=True, interval=2000)
        self._sync_timer.timeout.connect(lambda: self._start_index(None))

        lp, ap = self.library_panel, self.ask_panel
        lp.add_folder_requested.connect(self.add_folder_dialog)
        lp.add_files_requested.connect(self.add_files_dialog)
        lp.paths_dropped.connect(lambda ps: self.add_paths([Path(p) for p in ps]))
        lp.remove_requested.connect(self.remove_paths)
        lp.cancel_requested.connect(self.cancel_indexing)
        ap.ask_requested.connect(self.ask)
        ap.stop_requested.connect(self.stop)
        ap.citation_clicked.connect(self.open_citation)
        ap.export_requested.connect(self.export_dialog)
        ap.set_busy(False)
        ap.ask_button.setEnabled(False)
        sp = self.settings_panel
        sp.switch_level_requested.connect(self.switch_level)
        sp.build_ladder_requested.connect(self.build_ladder)
        sp.cancel_build_requested.connect(self._cancel_build)
        sp.precision_requested.connect(self.switch_precision)
        sp.settings_changed.connect(self.settings.save)
        sp.models_folder_added.connect(self._add_models_folder)
        self._build_worker: GeneratorWorker | None = None
        self._precision_worker: GeneratorWorker | None = None
        self._remove_worker: GeneratorWorker | None = None
        self._pending_swap: Library | None = None
        self._switch_job: int | None = None
        self._ladder_offered = False
        self.switches: list[SwitchReport] = []
        self._build_menu()
        self.statusBar().showMessage("Opening your library…")
        self._start_startup()

    # ---- menu and shortcuts -----------------------------------------------------------------
    def _build_menu(self) -> None:
        m = self.menuBar().addMenu("&File")
        a = QAction("&Add folder…", self, shortcut=QKeySequence("Ctrl+O"))
        a.triggered.connect(self.add_folder_dialog)
        m.addAction(a)
        a = QAction("Add &files…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        a.triggered.connect(self.add_files_dialog)
        m.addAction(a)
        a = QAction("&Export answer as Markdown…", self, shortcut=QKeySequence("Ctrl+E"))
        a.triggered.connect(lambda: self.export_dialog("md"))
        m.addAction(a)
        m.addSeparator()
        a = QAction("&Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        a.triggered.connect(self.close)
        m.addAction(a)
        q = self.menuBar().addMenu("&Ask")
        a = QAction("&Focus question", self, shortcut=QKeySequence("Ctrl+L"))
        a.triggered.connect(self.ask_panel.question.setFocus)
        q.addAction(a)
        a = QAction("&Stop answer", self)
        a.triggered.connect(self.stop)
        q.addAction(a)

    # ---- startup ----------------------------------------------------------------------------
    def _start_startup(self) -> None:
        def job(cancel: threading.Event) -> Iterator[Any]:
            eng = self.engine
            lib = eng.library  # loads the embedder (seconds)
            problem = lib.index_problem()
            try:
                path = eng.model_path()
                title = f"{base_name(path)} ({read_gguf(path).quant})"
            except Exception as exc:  # noqa: BLE001 - shown in the status bar
                title = f"no model: {exc}"
            yield Ready(title, problem)

        w = GeneratorWorker(job, self)
        w.yielded.connect(self._on_startup_event)
        w.failed.connect(lambda m: self.statusBar().showMessage(f"Could not open library: {m}"))
        self._startup_worker = w
        w.start()

    @Slot(object)
    def _on_startup_event(self, ev: object) -> None:
        if not isinstance(ev, Ready) or getattr(self, "_closed", False):
            return
        self.ready = True
        self.model_title = ev.title
        self.setWindowTitle(f"MedSearch — {ev.title}")
        emb = self.engine.embedder
        self.model_label.setText(f"Model: {ev.title} · Embedder: {emb.name} "
                                 f"({emb.precision.value})")
        self.ask_panel.ask_button.setEnabled(True)
        self.refresh_documents()
        self.refresh_models()
        self.gauges.set_level(ev.title)
        lib = self.engine.library
        if ev.problem:
            self.statusBar().showMessage(f"Rebuilding the search index: {ev.problem}")
        roots = lib.store.roots()
        if not roots and self.install_demo and not self.settings.demo_installed:
            from ..demo import install_demo

            demo = install_demo(data_home() / "demo")
            self.settings.demo_installed = True
            self.settings.save()
            self.statusBar().showMessage("Indexing the demo library…")
            self.add_paths([demo])
        else:
            self._watch(roots)
            self._start_index(None)  # catch up with changes made while the app was closed

    def refresh_documents(self) -> None:
        if self.ready:
            self.library_panel.set_documents(self.engine.library.store.documents())

    # ---- library ----------------------------------------------------------------------------
    def add_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a folder of PDFs and notes")
        if d:
            self.add_paths([Path(d)])

    def add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add documents", "", "Documents (*.pdf *.txt *.md);;All files (*)")
        if files:
            self.add_paths([Path(f) for f in files])

    def add_paths(self, paths: list[Path]) -> None:
        missing = [p for p in paths if not p.exists()]
        if missing:
            self.statusBar().showMessage(f"Not found: {missing[0]}")
            paths = [p for p in paths if p.exists()]
        if paths:
            self._start_index(paths)

    def remove_paths(self, paths: list[str]) -> None:
        """Remove on a worker: it waits for a running index job and saves the index, both of
        which would freeze the window on the GUI thread."""
        lib = self.engine.library

        def job(_cancel: threading.Event) -> Iterator[Any]:
            yield lib.remove_paths([Path(p) for p in paths])

        w = GeneratorWorker(job, self)
        w.yielded.connect(lambda n: self.statusBar().showMessage(
            f"Removed {n} document(s) from the library"))
        w.failed.connect(lambda m: self.statusBar().showMessage(f"Could not remove: {m}"))
        w.finished.connect(self.refresh_documents)
        self._remove_worker = w
        self.statusBar().showMessage("Removing…")
        w.start()

    def cancel_indexing(self) -> None:
        if self._index_worker is not None:
            self._index_worker.cancel()
            self._queued.clear()
            self.statusBar().showMessage("Cancelling… (finished files are kept)")

    def _start_index(self, paths: list[Path] | None) -> None:
        if not self.ready or getattr(self, "_closed", False):
            return
        if self._index_worker is not None and self._index_worker.running:
            if paths is not None or None not in self._queued:
                self._queued.append(paths)
            return
        lib = self.engine.library

        def job(cancel: threading.Event) -> Iterator[Any]:
            if paths is None:
                yield from lib.sync(cancel=cancel)
            else:
                yield from lib.index_paths(paths, cancel=cancel)

        w = GeneratorWorker(job, self)
        w.yielded.connect(self._on_index_event)
        w.failed.connect(self._on_index_failed)
        w.finished.connect(self._on_index_finished)
        self._index_worker = w
        self.library_panel.set_busy(True)
        w.start()

    @Slot(object)
    def _on_index_event(self, ev: object) -> None:
        self.library_panel.on_event(ev)
        if isinstance(ev, IndexDone):
            self.last_index = ev
            what = "Cancelled" if ev.cancelled else "Library up to date"
            self.statusBar().showMessage(
                f"{what}: {ev.added} added, {ev.updated} updated, {ev.removed} removed, "
                f"{len(ev.failed)} could not be indexed ({ev.seconds:.1f} s)")
        elif isinstance(ev, Progress) and ev.stage == "resuming":
            self.statusBar().showMessage("Finishing passages left from an interrupted run…")

    @Slot(str)
    def _on_index_failed(self, msg: str) -> None:
        self.statusBar().showMessage(f"Indexing stopped: {msg}")

    @Slot()
    def _on_index_finished(self) -> None:
        self.library_panel.set_busy(False)
        self.refresh_documents()
        self._watch(self.engine.library.store.roots())
        if self._queued:
            self._start_index(self._queued.pop(0))

    def _watch(self, roots: list[str]) -> None:
        dirs: set[str] = set()
        for r in roots:
            p = Path(r)
            if p.is_dir():
                dirs.add(str(p))
                dirs.update(str(d) for d in p.rglob("*") if d.is_dir()
                            and not any(x.startswith(".") for x in d.relative_to(p).parts))
        have = set(self.watcher.directories())
        new = sorted(dirs - have)
        if new:
            self.watcher.addPaths(new)

    @Slot(str)
    def _folder_changed(self, _path: str) -> None:
        self._sync_timer.start()  # debounce bursts of changes into one incremental sync

    # ---- asking -----------------------------------------------------------------------------
    def ask(self, question: str) -> None:
        if not self.ready or self._ask_job is not None:
            return
        eng = self.engine
        self.ask_panel.begin(question)

        def job(cancel: threading.Event) -> Iterator[Any]:
            yield from eng.ask(question, cancel=cancel)

        self._ask_job = self.owner.submit(job)

    def stop(self) -> None:
        if self._ask_job is not None:
            self.owner.cancel(self._ask_job)
            self.statusBar().showMessage("Stopping…")

    @Slot(int, object)
    def _on_model_event(self, job: int, ev: object) -> None:
        if isinstance(ev, SwitchReport):
            self._on_switched(ev)
            return
        if isinstance(ev, AnswerDone):
            self.gauges.on_answer(ev)
        if job == self._ask_job:
            self.ask_panel.on_event(ev)
            if isinstance(ev, AnswerDone):
                self.statusBar().showMessage(
                    "Answer stopped" if ev.stopped else "Answer complete", 5000)

    @Slot(int, str)
    def _on_model_failed(self, job: int, msg: str) -> None:
        if job == self._switch_job:
            self.statusBar().showMessage(f"Could not switch level: {msg}")
            self.refresh_models()
            return
        if job == self._ask_job:
            self.ask_panel.fail(msg)
            self.statusBar().showMessage(f"Could not answer: {msg}")

    @Slot(int)
    def _on_model_finished(self, job: int) -> None:
        if job == self._ask_job:
            self._ask_job = None
            self.ask_panel.set_busy(False)
            self._apply_swap()

    def open_citation(self, hit: Any) -> None:
        err = self.viewer.show_hit(hit)
        if err:
            self.statusBar().showMessage(err)
        else:
            self.statusBar().showMessage(f"Opened {source_title(hit)}", 4000)

    # ---- export -----------------------------------------------------------------------------
    def export_dialog(self, kind: str) -> None:
        qa = self.ask_panel.current
        if qa is None or qa.done is None:
            return
        filt = "Markdown (*.md)" if kind == "md" else "PDF (*.pdf)"
        path, _ = QFileDialog.getSaveFileName(self, "Export answer", f"answer.{kind}", filt)
        if path:
            self.export(qa, Path(path), kind)

    def export(self, qa: QA, path: Path, kind: str) -> None:
        md = answer_markdown(qa)
        if kind == "md":
            path.write_text(md, encoding="utf-8")
        else:
            doc = QTextDocument()
            doc.setMarkdown(md)
            writer = QPdfWriter(str(path))
            writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
            writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
            doc.print_(writer)
        self.statusBar().showMessage(f"Exported to {path}", 5000)

    # ---- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.gauges.timer.stop()
        self._sync_timer.stop()
        # The startup worker too: closing while the library is still opening must wait for it
        # (a QThread destroyed while running aborts the process).
        for w in (self._startup_worker, self._index_worker, self._build_worker,
                  self._precision_worker, self._remove_worker):
            if w is not None and w.running:
                w.cancel()
                w.wait(60000)
        self.owner.cancel()
        done = threading.Event()

        def close_job(_c: threading.Event) -> Iterator[Any]:
            self.engine.close_llm()  # the model is freed on its owner thread
            done.set()
            yield from ()

        self.owner.submit(close_job)
        done.wait(30)
        self.owner.shutdown()
        self.viewer.close_document()
        self.engine.close()


def answer_markdown(qa: QA) -> str:
    """An answer with its citations as Markdown (also the source of the PDF export)."""
    done = qa.done
    lines = [f"# {qa.question}", ""]
    if qa.evidence:
        lines += ["## From your documents", ""]
        for e in qa.evidence:
            page = f", page {e.page}" if e.page else ""
            lines.append(f"> “{' '.join(e.text.split())}” — {Path(e.path).name}{page}")
            lines.append("")
        lines += ["## Answer (written by the model)", ""]
    if done is not None and done.warning:
        lines += [f"**Warning:** {done.warning}", ""]
    lines += [qa.answer.strip(), ""]
    flagged = [c for c in done.sentences if c.supported is False] if done else []
    if flagged:
        lines += ["Sentences not found in their cited source:", ""]
        lines += [f"- “{c.text}” ({c.reason})" for c in flagged]
        lines.append("")
    if done is not None:
        lines += ["## Sources", ""]
        for c in done.citations:
            page = f", page {c.page}" if c.page else ""
            lines.append(f"{c.n}. {Path(c.path).name}{page} — `{c.path}`  ")
            lines.append(f"   > {html.escape(c.snippet[:300])}")
        if not done.citations:
            lines.append("_No citations: the documents did not support an answer._")
        t = done.timings
        lines += ["", f"_Model {done.model_file} ({done.quant}), embedder {done.embedder} "
                  f"({done.precision}); retrieval {t.retrieval_ms:.0f} ms, total "
                  f"{t.total_ms:.0f} ms._"]
    return "\n".join(lines) + "\n"
