"""Main window: lays out the panes and wires them to the actions that do the work.

Every long task is a job of one JobCoordinator (`self.jobs`), which runs it off the GUI thread,
queues or refuses what conflicts, and cancels and joins everything at shutdown. The library's
actions live in LibraryActions, the quantization actions in QuantActions; asking, citations and
export are here. The GUI thread only updates widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)

from ..core.engine import Engine, SwitchReport
from ..core.settings import Settings, data_home
from ..core.system.forget import Removed, delete_user_data, forget_onnxruntime_telemetry
from ..core.types import AnswerDone, Hit, IndexDone
from .compare_actions import CompareActions
from .export import export_answer
from .jobs import Job, JobCoordinator, JobKind, Where
from .library_actions import LibraryActions, Ready
from .quant_actions import QuantActions
from .widgets.ask_panel import QA, AskPanel, source_title
from .widgets.compare_page import ComparePage
from .widgets.gauges import Gauges
from .widgets.library_panel import LibraryPanel
from .widgets.pdf_viewer import SourceViewer
from .widgets.settings_panel import SettingsPanel
from .workers import ModelOwner

ASK_PAGE, MODELS_PAGE, COMPARE_PAGE = 0, 1, 2
PREFERRED_SIZE = QSize(1400, 860)
SCREEN_SHARE = 0.92  # of the screen's free area at most: a 1366x768 laptop shows it all
PANE_SHARES = (0.30, 0.35, 0.35)  # library, answer, source


def fit_size(preferred: QSize, available: QRect, share: float = SCREEN_SHARE) -> QSize:
    """The preferred size, shrunk to `share` of the screen's available area where larger."""
    return QSize(min(preferred.width(), int(available.width() * share)),
                 min(preferred.height(), int(available.height() * share)))


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, *, install_demo: bool = True) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.engine = Engine(self.settings)
        self.closed = False
        self.model_title = ""
        self.model_why = ""  # why this answer model: shown in the status bar's tooltip
        self.answer_job: Job | None = None
        self.setWindowTitle("MedSearch")
        self.library_panel = LibraryPanel()
        self.ask_panel = AskPanel()
        self.viewer = SourceViewer()
        self.settings_panel = SettingsPanel(self.settings)
        self.gauges = Gauges()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.library_panel)
        split.addWidget(self.ask_panel)
        split.addWidget(self.viewer)
        self.ask_split = split
        self.compare_page = ComparePage()
        # Three pages with the whole window each: asking (library, answer, source), the models
        # (levels, embedder, gauges) and the comparison workbench.
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(split, "Ask your documents")
        self.pages.addTab(self._models_page(), "Models && quantization")
        self.pages.addTab(self.compare_page, "Compare quant levels")
        self.pages.currentChanged.connect(self._page_changed)
        self.setCentralWidget(self.pages)
        self.model_label = QLabel("")
        # The gauges' one-line summary stays in sight on every page.
        self.statusBar().addPermanentWidget(self.gauges.summary)
        bar = QFrame()
        bar.setFrameShape(QFrame.Shape.VLine)
        bar.setFrameShadow(QFrame.Shadow.Sunken)
        self.statusBar().addPermanentWidget(bar)
        self.statusBar().addPermanentWidget(self.model_label)

        self.jobs = JobCoordinator(self)
        self.jobs.refused.connect(self.status)
        self.library = LibraryActions(self.engine, self.settings, self.jobs,
                                      self.library_panel, self.status,
                                      install_demo=install_demo, parent=self)
        self.library.ready_changed.connect(self._on_ready)
        self.library.checked.connect(self._show_check)
        self.quant = QuantActions(self.engine, self.settings, self.jobs, self.settings_panel,
                                  self.gauges, self.status, parent=self)
        self.quant.model_changed.connect(self._on_model_switched)
        self.quant.embedder_changed.connect(self._on_embedder_changed)
        self.compare = CompareActions(self.engine, self.settings, self.jobs, self.compare_page,
                                      self.status, self.quant.switch_level, parent=self)

        lp, ap = self.library_panel, self.ask_panel
        lp.add_folder_requested.connect(self.add_folder_dialog)
        lp.add_files_requested.connect(self.add_files_dialog)
        lp.paths_dropped.connect(lambda ps: self.library.add_paths([Path(p) for p in ps]))
        lp.remove_requested.connect(self.library.remove_paths)
        lp.cancel_requested.connect(self.library.cancel)
        ap.ask_requested.connect(self.ask)
        ap.stop_requested.connect(self.stop)
        ap.citation_clicked.connect(self.open_citation)
        ap.export_requested.connect(self.export_dialog)
        ap.set_busy(False)
        ap.ask_button.setEnabled(False)
        self.settings_panel.settings_changed.connect(self.settings.save)
        self._build_menu()
        self.fit_to_screen()
        self.library.start()
        if self.settings.load_warning:
            self._warn_settings(self.settings.load_warning)

    def _models_page(self) -> QWidget:
        page = QWidget()
        ql = QHBoxLayout(page)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.settings_panel)
        ql.addWidget(scroll, 1)
        ql.addWidget(self.gauges, 1)
        return page

    def fit_to_screen(self) -> None:
        """Size the window for its screen (at most SCREEN_SHARE of the free area, so the frame
        fits too) and centre it there; share the Ask page between library, answer, source."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        size = fit_size(PREFERRED_SIZE, avail) if avail is not None else PREFERRED_SIZE
        self.resize(size)
        if avail is not None:
            self.move(avail.center() - self.rect().center())
        self.ask_split.setSizes([int(size.width() * s) for s in PANE_SHARES])

    def _warn_settings(self, warning: str) -> None:
        """A settings file that could not be read was kept aside: say so, once."""
        self.status(warning)
        box = QMessageBox(QMessageBox.Icon.Warning, "Settings reset", warning,
                          QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.show()

    # ---- the parts other code and the tests look at -----------------------------------------
    @property
    def owner(self) -> ModelOwner:
        return self.jobs.owner

    @property
    def ready(self) -> bool:
        return self.library.ready

    @property
    def last_index(self) -> IndexDone | None:
        return self.library.last_index

    @property
    def watcher(self) -> Any:
        return self.library.watcher

    @property
    def switches(self) -> list[SwitchReport]:
        return self.quant.switches

    def status(self, message: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    # ---- menu and shortcuts -----------------------------------------------------------------
    def _build_menu(self) -> None:
        def act(menu: Any, text: str, slot: Any, shortcut: Any = None) -> None:
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            menu.addAction(a)

        m = self.menuBar().addMenu("&File")
        act(m, "&Add folder…", self.add_folder_dialog, "Ctrl+O")
        act(m, "Add &files…", self.add_files_dialog, "Ctrl+Shift+O")
        act(m, "&Export answer as Markdown…", lambda: self.export_dialog("md"), "Ctrl+E")
        act(m, "&Check library", self.library.check, "Ctrl+Shift+K")
        m.addSeparator()
        act(m, "&Delete all my data…", self.delete_data_dialog)
        m.addSeparator()
        act(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        v = self.menuBar().addMenu("&View")
        act(v, "&Ask your documents", lambda: self.pages.setCurrentIndex(ASK_PAGE), "Ctrl+1")
        act(v, "&Models and quantization", lambda: self.pages.setCurrentIndex(MODELS_PAGE),
            "Ctrl+2")
        act(v, "&Compare quant levels", lambda: self.pages.setCurrentIndex(COMPARE_PAGE),
            "Ctrl+3")
        q = self.menuBar().addMenu("&Ask")
        act(q, "&Focus question", self.ask_panel.question.setFocus, "Ctrl+L")
        act(q, "&Stop answer", self.stop)

    # ---- startup and model changes ------------------------------------------------------------
    def _on_ready(self, ev: Ready) -> None:
        self.ask_panel.ask_button.setEnabled(True)
        self.model_why = ev.why
        self._on_model_changed(ev.title)
        self.quant.refresh_models()
        self.gauges.set_level(ev.title)

    def _on_model_switched(self, title: str) -> None:
        self.model_why = "chosen in the settings"
        self._on_model_changed(title)

    def _on_model_changed(self, title: str) -> None:
        self.model_title = title
        self.setWindowTitle(f"MedSearch — {title}")
        self._on_embedder_changed()

    def _on_embedder_changed(self) -> None:
        emb = self.engine.embedder
        fallback = " (small fallback)" if "fallback" in self.model_why else ""
        self.model_label.setText(f"Model: {self.model_title}{fallback} · Embedder: {emb.name} "
                                 f"({emb.precision.value})")
        self.model_label.setToolTip(f"Answer model: {self.model_title}\n{self.model_why}"
                                    if self.model_why else f"Answer model: {self.model_title}")

    def _page_changed(self, index: int) -> None:
        if not self.ready:
            return
        if index == COMPARE_PAGE:
            self.compare.refresh_models()
        elif index == MODELS_PAGE:
            self.quant.offer_ladder()  # the first opening builds the default model's levels

    # ---- library ----------------------------------------------------------------------------
    def add_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a folder of PDFs and notes")
        if d:
            self.library.add_paths([Path(d)])

    def add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add documents", "", "Documents (*.pdf *.txt *.md);;All files (*)")
        if files:
            self.library.add_paths([Path(f) for f in files])

    def add_paths(self, paths: list[Path]) -> None:
        self.library.add_paths(paths)

    def remove_paths(self, paths: list[str]) -> None:
        self.library.remove_paths(paths)

    # ---- asking -----------------------------------------------------------------------------
    def ask(self, question: str) -> Job | None:
        if not self.ready or self.answer_job is not None:
            return None
        eng = self.engine

        def job(cancel: threading.Event) -> Iterator[Any]:
            yield from eng.ask(question, cancel=cancel)

        self.ask_panel.begin(question)
        self.answer_job = self.jobs.submit(
            JobKind.ANSWER, job, where=Where.MODEL, on_event=self._on_answer_event,
            on_failed=self._on_answer_failed, on_finished=self._on_answer_finished)
        if self.answer_job is None:
            self.ask_panel.fail("Another answer is being written")
            self.ask_panel.set_busy(False)
        elif self.jobs.jobs(JobKind.ANSWER, queued=False) == []:
            self.status("The question will be answered when the current step finishes…")
        return self.answer_job

    def stop(self) -> None:
        if self.answer_job is not None:
            self.jobs.cancel(job=self.answer_job)
            self.status("Stopping…")

    def _on_answer_event(self, ev: object) -> None:
        if isinstance(ev, AnswerDone):
            self.gauges.on_answer(ev)
        self.ask_panel.on_event(ev)
        if isinstance(ev, AnswerDone):
            self.status("Answer stopped" if ev.stopped else "Answer complete", 5000)

    def _on_answer_failed(self, msg: str) -> None:
        self.ask_panel.fail(msg)
        self.status(f"Could not answer: {msg}")

    def _on_answer_finished(self) -> None:
        self.answer_job = None
        self.ask_panel.set_busy(False)

    def open_citation(self, hit: Hit) -> None:
        err = self.viewer.show_hit(hit)
        if err:
            self.status(err)
        else:
            self.status(f"Opened {source_title(hit)}", 4000)

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
        try:
            export_answer(qa, path, kind)
        except OSError as exc:
            self.status(f"Could not export to {path}: {exc.strerror or exc}")
            return
        self.status(f"Exported to {path}", 5000)

    def _show_check(self, chk: Any) -> None:
        """The library check's verdict, in a dialog that does not block the window."""
        lines = [f"{len(chk.documents)} documents, {chk.chunks} passages; {chk.pending} "
                 "passages still to embed."]
        lines.append("The database and the search index agree." if chk.consistent else
                     "Problems found:\n• " + "\n• ".join(chk.problems) +
                     "\n\nIndexing the folder again (it resumes) re-embeds missing passages and "
                     "drops stale vectors.")
        box = QMessageBox(QMessageBox.Icon.Information if chk.consistent
                          else QMessageBox.Icon.Warning, "Library check", "\n".join(lines),
                          QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.show()
        self.check_box = box

    # ---- delete all my data -----------------------------------------------------------------
    def delete_data_dialog(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Delete all my data",
            "Delete your library (every passage MedSearch keeps from your documents), its "
            "indexes, comparison reports and settings?\n\nYour own files on disk are not "
            "touched, nor the models folder. MedSearch closes afterwards.",
            QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not delete:
            return
        removed = self.delete_all_data()
        lines = "\n".join(f"• {r.name} ({r.files} files, {r.bytes / 2**20:.1f} MiB)"
                          for r in removed) or "• nothing was stored"
        QMessageBox.information(None, "Your data was deleted",
                                f"Removed (your data folder is {data_home()}):\n{lines}")

    def delete_all_data(self) -> list[Removed]:
        """Stop and join every job, close the library and the model, delete the user's data,
        then close the window (nothing is written after the deletion)."""
        self.shutdown()
        telemetry, _note = forget_onnxruntime_telemetry(data_home())
        removed = delete_user_data(data_home()) + ([telemetry] if telemetry else [])
        self.close()
        return removed

    # ---- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel and join every job (the model is freed on its own thread), then close."""
        if self.closed:
            return
        self.closed = True
        self.gauges.timer.stop()
        self.library.stop()
        self.jobs.shutdown(final_model_step=self.engine.close_llm)
        self.viewer.close_document()
        self.engine.close()
