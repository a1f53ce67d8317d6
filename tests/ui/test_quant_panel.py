"""The Models & quantization page with the real ladder of the default model: build, switch
Q8_0 -> Q4_K_M -> Q2_K in the panel, answers report the level; precision switch to int8; gauges.

The tests share the module's window and run in any order: the page's first opening (which builds
the ladder) happens once, in the `first_opening` fixture, which records what it showed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ui_support import UiSession, wait_until

from medsearch_app.core.llm.gguf import read_gguf
from medsearch_app.core.system import metrics
from medsearch_app.core.types import AnswerDone
from medsearch_app.ui.jobs import JobKind
from medsearch_app.ui.main_window import MODELS_PAGE
from medsearch_app.ui.widgets.gauges import SAMPLE_MS, Gauges

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _wait(qtbot: Any, cond: Any, s: float = 240) -> None:
    qtbot.waitUntil(cond, timeout=int(s * 1000))


LEVELS = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_1", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"]


def _levels(win: Any) -> list[str]:
    return [win.settings_panel.levels.item(i).text().split()[0]
            for i in range(win.settings_panel.levels.count())]


def _idle(win: Any) -> bool:
    """No ladder build and no listing of the model files running or queued."""
    return not win.jobs.busy(JobKind.LADDER) and not win.jobs.busy(JobKind.MODELS)


@dataclass(frozen=True)
class FirstOpening:
    """What the page showed when it was opened the first time, and after the build ended."""

    offered_before: bool
    levels_before: list[str]
    building: bool
    progress_visible: bool
    ladder_jobs_after_second_request: int
    message_after_second_request: str
    levels_after: list[str]
    build_label_after: str


@pytest.fixture(scope="module")
def first_opening(ui: UiSession) -> FirstOpening:
    """Open the Models page for the first time (it builds the default model's levels), once
    per window, before any test of the page; record what it showed."""
    win = ui.win
    offered_before, levels_before = win.quant.ladder_offered, _levels(win)
    win.pages.setCurrentIndex(MODELS_PAGE)  # first opening builds the default's levels
    building = win.jobs.busy(JobKind.LADDER)
    progress_visible = win.settings_panel.build_progress.isVisibleTo(win.settings_panel)
    # A second request while it builds is refused with a message, not started twice.
    win.quant.build_ladder()
    jobs_after = len(win.jobs.jobs(JobKind.LADDER))
    message = win.statusBar().currentMessage()
    wait_until(lambda: _idle(win), 540, "the ladder build")
    return FirstOpening(offered_before, levels_before, building, progress_visible, jobs_after,
                        message, _levels(win), win.settings_panel.build_label.text())


def test_first_opening_builds_the_ladder(first_opening: FirstOpening) -> None:
    f = first_opening
    assert not f.offered_before
    assert f.levels_before == ["Q4_1"]  # only the shipped level
    assert f.building and f.progress_visible
    assert f.ladder_jobs_after_second_request == 1
    assert "Already building" in f.message_after_second_request
    assert f.levels_after == LEVELS
    assert "requantization" in f.build_label_after


@pytest.mark.parametrize("quant", ["Q8_0", "Q4_K_M", "Q2_K"])
def test_switch_level_in_the_panel(ready_ui: UiSession, first_opening: FirstOpening, qtbot: Any,
                                   monkeypatch: pytest.MonkeyPatch, quant: str) -> None:
    win, panel = ready_ui.win, ready_ui.win.settings_panel
    assert _levels(win) == LEVELS  # built by the page's first opening
    assert panel.select_quant(quant)
    path: Path = panel.selected_path()
    assert "Needs about" in panel.estimate.text() and "free" in panel.estimate.text()
    n, marks = len(win.switches), win.gauges.marks.count()
    panel.apply_level.click()
    _wait(qtbot, lambda: len(win.switches) == n + 1 and _idle(win))
    rep = win.switches[-1]
    assert rep.quant == quant and rep.file == path.name
    assert f"({quant})" in win.windowTitle()
    # The loaded model, as llama.cpp reports it, is the chosen file's level.
    llm = win.engine._llm
    assert int(llm._llm.metadata["general.file_type"]) == read_gguf(path).metadata[
        "general.file_type"]
    # The gauges show the level and the file size.
    mib = f"{path.stat().st_size / 2**20:.0f} MiB"
    assert quant in win.gauges.level.text() and mib in win.gauges.level.text()
    assert win.gauges.marks.count() == marks + 1  # the change is marked on the memory chart
    assert "● loaded" in panel.levels.currentItem().text()
    # Every later answer reports the new level.
    monkeypatch.setattr(win.engine.settings, "max_tokens", 8)
    job = win.ask("What does a CURB-65 score of 3 mean?").id
    _wait(qtbot, lambda: win.answer_job is None)
    done = next(e for e in ready_ui.events.of(job) if isinstance(e, AnswerDone))
    assert done.quant == quant and done.model_file == path.name
    assert quant in win.gauges.last.text()


def test_gauges_read_real_memory(ready_ui: UiSession, qtbot: Any) -> None:
    g = ready_ui.win.gauges
    assert g.timer.isActive() and g.timer.interval() == SAMPLE_MS <= 500  # twice a second
    n = g.samples
    _wait(qtbot, lambda: g.samples >= n + 2)
    assert g.last_sample is not None and g.last_sample.rss_mb > 100
    assert "MiB" in g.rss.text() and "GiB used" in g.ram.text()
    assert g.mem_series.count() >= 2  # (level changes are marked: test_switch_level_...)


@pytest.fixture
def gauges(qtbot: Any) -> Any:
    g = Gauges()
    qtbot.addWidget(g)
    g.timer.stop()  # the test calls tick() itself
    return g


def test_gauges_without_a_gpu_say_so(gauges: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_nvml", lambda: None)  # no NVIDIA GPU, no NVML
    gauges.tick()
    assert gauges.last_sample.vram is None
    # A labelled state, never a fake zero.
    assert "no NVIDIA GPU" in gauges.vram.text() and "MiB" not in gauges.vram.text()
    assert "VRAM" not in gauges.summary.text()


def test_gauges_show_each_gpus_memory(gauges: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "vram", lambda: [("Test GPU", 1024.0, 8192.0)])
    gauges.tick()
    assert "Test GPU: 1,024 of 8,192 MiB" in gauges.vram.text()
    assert "VRAM 1,024 MiB" in gauges.summary.text()


def test_switch_embedder_precision_to_int8(ready_ui: UiSession, qtbot: Any) -> None:
    win = ready_ui.win  # the only test of this module that changes the precision
    assert win.engine.precision.value == "onnx-int8"  # the default (README: why)
    assert win.settings_panel.precision.currentText() == "onnx-int8"
    win.settings_panel.precision.setCurrentText("int8")
    win.quant.switch_precision("int8")
    _wait(qtbot, lambda: win.engine.precision.value == "int8")
    lib = win.engine.library
    assert lib.embedder.precision.value == "int8"
    assert "int8" in str(lib.index.folder)
    assert len(lib.index) == lib.store.chunk_count() > 0
    hits = win.engine.retriever.search("CURB-65 score", k=3).hits
    assert hits and any("guideline" in Path(h.path).name for h in hits)
    assert win.settings.precision == "int8"
