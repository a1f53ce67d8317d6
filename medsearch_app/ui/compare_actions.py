"""The Compare levels page's actions: list the model families, run a comparison as a job,
write its report, recommend a level (again whenever the budget changes) and load it.

A comparison is one COMPARE job of the window's JobCoordinator (answers and level switches wait
or are refused while it runs: it has the machine to itself so its timings mean something). It
runs core/quant/compare/workflow.py's run_comparison, the sequence `medsearch compare` runs too, on
the model thread (where all llama.cpp work happens); the window's own model is closed first, so
that it neither shares the thread nor skews the memory figures, and the next answer loads it
again. Results are saved under the app's data folder as they come; the same levels and
questions run again resume where they stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.engine import Engine
from ..core.errors import BadInput
from ..core.evaluation.answers import LabelledQuestion
from ..core.llm.gguf import read_gguf
from ..core.llm.models import discover, families, family_name, model_folders
from ..core.quant.compare import (
    CompareDone,
    ComparePlan,
    CompareProgress,
    LevelDone,
    LevelResult,
    labelled_questions,
)
from ..core.quant.compare.workflow import ReportReady, run_comparison
from ..core.quant.quantize import QuantProgress
from ..core.quant.recommend import recommend
from ..core.retrieval.search import Mode, read_queries
from ..core.settings import Settings, effective_threads
from ..demo import DEMO_QUESTIONS
from .jobs import JobCoordinator, JobKind, Where
from .widgets.compare_page import SOURCES, ComparePage

Status = Callable[..., None]


class CompareActions(QObject):
    def __init__(self, engine: Engine, settings: Settings, jobs: JobCoordinator,
                 page: ComparePage, status: Status, switch_level: Callable[[Path], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.settings, self.jobs, self.page = engine, settings, jobs, page
        self.status, self.switch_level = status, switch_level
        self.file_questions: list[str] = []
        self.file_labels: list[LabelledQuestion] = []  # labelled lines of the file, if any
        self.last: ReportReady | None = None
        page.run_requested.connect(self.run)
        page.cancel_requested.connect(lambda: self.jobs.cancel(JobKind.COMPARE))
        page.questions_file_requested.connect(self.choose_questions_file)
        page.budget_changed.connect(self.update_recommendation)
        page.load_level_requested.connect(self._load)
        page.open_report_requested.connect(self.open_report)

    def refresh_models(self) -> None:
        """Model families and their levels, read off the GUI thread."""
        folders = model_folders(self.settings)
        engine = self.engine

        def job(_cancel: threading.Event) -> Iterator[Any]:
            try:
                current: str | None = family_name(read_gguf(engine.model_path()))
            except Exception:  # noqa: BLE001 - no readable current model: no preselection
                current = None
            files, _bad = discover(folders)
            yield families(files), current

        self.jobs.submit(JobKind.MODELS, job, key="compare-models",
                         on_event=lambda found: self.page.set_models(*found))

    def choose_questions_file(self) -> None:
        parent = self.page if isinstance(self.page, QWidget) else None
        f, _ = QFileDialog.getOpenFileName(parent, "Questions to compare on", "",
                                           "Questions (*.jsonl *.txt *.csv);;All files (*)")
        if f:
            self.load_questions_file(Path(f))

    def load_questions_file(self, path: Path) -> None:
        try:
            self.file_questions = read_queries(path)
            self.file_labels = labelled_questions(path)
        except BadInput as exc:
            self.status(str(exc))
            return
        self.page.source.setCurrentText(SOURCES[2])
        labelled = (f", {len(self.file_labels)} labelled: their answers are scored too"
                    if self.file_labels else "")
        self.page.progress_label.setText(f"{len(self.file_questions)} questions from "
                                         f"{path.name}{labelled}")

    def questions(self) -> list[str]:
        src = self.page.source.currentText()
        qs = (list(DEMO_QUESTIONS) if src == SOURCES[0] else
              self.page.typed_questions() if src == SOURCES[1] else list(self.file_questions))
        n = self.page.limit.value()
        return qs[:n] if n else qs

    def run(self) -> None:
        levels = self.page.chosen_levels()
        questions = self.questions()
        if len(levels) < 2:
            self.status("Tick at least two levels to compare")
            return
        if not questions:
            self.status("No questions to compare on")
            return
        s = self.settings
        labels = self.file_labels if self.page.source.currentText() == SOURCES[2] else []
        plan = ComparePlan(levels, questions, k=s.top_k, mode=Mode.parse(s.retrieval_mode),
                           n_threads=effective_threads(s), labels=labels)
        engine, retriever = self.engine, self.engine.retriever
        budget = self.page.budget()

        def job(cancel: threading.Event) -> Iterator[Any]:
            # On the model thread: the window's model is closed while the levels take turns
            # (the next answer loads it again), so the figures are each level's own. The run's
            # folder is named by the plan (the same reference, questions and settings resume
            # there); reading the level files for it is disk work, done here off the GUI thread.
            engine.close_llm()
            yield from run_comparison(plan, retriever, budget, cancel=cancel)

        started = self.jobs.submit(JobKind.COMPARE, job, where=Where.MODEL,
                                   on_event=self._on_event, on_failed=self._failed,
                                   on_finished=lambda: self.page.set_running(False))
        if started is not None:
            self.last = None
            self.page.set_running(True)
            self.page.set_progress(0, 1, f"Comparing {len(levels)} levels on "
                                   f"{len(questions)} questions…")

    def _failed(self, message: str) -> None:
        self.page.advice.setText(f"The comparison stopped: {message}")
        self.status(f"Comparison failed: {message}")

    def _on_event(self, ev: object) -> None:
        page = self.page
        if isinstance(ev, QuantProgress):
            page.set_progress(ev.done, ev.total, f"Building levels: {ev.message}")
        elif isinstance(ev, CompareProgress):
            eta = f" — about {_duration(ev.eta_s)} left" if ev.eta_s is not None else ""
            what = {"retrieval": "Retrieving passages", "load": f"Loading {ev.level}",
                    "level": f"Measuring {ev.level}"}.get(ev.step, ev.step)
            page.set_progress(ev.done, ev.total, f"{what}: {ev.done}/{ev.total}{eta}")
        elif isinstance(ev, LevelDone):
            page.add_level(ev.result)
        elif isinstance(ev, CompareDone):
            skipped = f"; {len(ev.skipped)} question(s) skipped" if ev.skipped else ""
            state = "Stopped — run again to resume" if ev.stopped else "Done"
            page.set_progress(1, 1, f"{state}: {len(ev.levels)} level(s){skipped}")
        elif isinstance(ev, ReportReady):
            self.last = ev
            self.update_recommendation()
            self.status(f"Comparison report written to {Path(ev.files[-1]).parent}")

    def update_recommendation(self) -> None:
        if self.last is None:
            return
        levels: list[LevelResult] = self.last.done.levels
        rec = recommend(levels, self.page.budget(), self.last.fits)
        path = next((Path(r.path) for r in levels if r.file == rec.file), None)
        self.page.set_recommendation(rec.quant, path, rec.reason)

    def _load(self, path: Path) -> None:
        self.switch_level(path)
        self.status(f"Loading {path.name}…")

    def open_report(self) -> None:
        if self.last is not None:
            html = next((f for f in self.last.files if f.endswith(".html")), None)
            if html:
                QDesktopServices.openUrl(QUrl.fromLocalFile(html))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
