"""The Models & quantization page with the real ladder of the default model: build, switch
Q8_0 -> Q4_K_M -> Q2_K in the panel, answers report the level; precision switch to int8; gauges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ui_support import UiSession

from medsearch_app.core.gguf import read_gguf
from medsearch_app.core.types import AnswerDone
from medsearch_app.ui.jobs import JobKind
from medsearch_app.ui.main_window import MODELS_PAGE

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


def _ensure_ladder(win: Any, qtbot: Any) -> None:
    """Build the default model's levels unless an earlier test already did (order-free)."""
    if _levels(win) != LEVELS:
        if not win.jobs.busy(JobKind.LADDER):
            win.quant.build_ladder()
        _wait(qtbot, lambda: _idle(win))
    assert _levels(win) == LEVELS


def test_first_opening_builds_the_ladder(ready_ui: UiSession, qtbot: Any) -> None:
    win = ready_ui.win
    if win.quant.ladder_offered:
        pytest.skip("the panel was opened by an earlier test")
    assert _levels(win) == ["Q4_1"]  # only the shipped level
    win.pages.setCurrentIndex(MODELS_PAGE)  # first opening builds the default's levels
    assert win.jobs.busy(JobKind.LADDER)
    assert win.settings_panel.build_progress.isVisibleTo(win.settings_panel)
    # A second request while it builds is refused with a message, not started twice.
    win.quant.build_ladder()
    assert len(win.jobs.jobs(JobKind.LADDER)) == 1
    assert "Already building" in win.statusBar().currentMessage()
    _wait(qtbot, lambda: _idle(win))
    assert _levels(win) == LEVELS
    assert "requantization" in win.settings_panel.build_label.text()


@pytest.mark.parametrize("quant", ["Q8_0", "Q4_K_M", "Q2_K"])
def test_switch_level_in_the_panel(ready_ui: UiSession, qtbot: Any, quant: str) -> None:
    win, panel = ready_ui.win, ready_ui.win.settings_panel
    _ensure_ladder(win, qtbot)
    assert panel.select_quant(quant)
    path: Path = panel.selected_path()
    assert "Needs about" in panel.estimate.text() and "free" in panel.estimate.text()
    n = len(win.switches)
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
    assert "● loaded" in panel.levels.currentItem().text()
    # Every later answer reports the new level.
    win.engine.settings.max_tokens = 8
    job = win.ask("What does a CURB-65 score of 3 mean?").id
    _wait(qtbot, lambda: win.answer_job is None)
    done = next(e for e in ready_ui.events.of(job) if isinstance(e, AnswerDone))
    assert done.quant == quant and done.model_file == path.name
    assert quant in win.gauges.last.text()


def test_gauges_read_real_memory(ready_ui: UiSession, qtbot: Any) -> None:
    g = ready_ui.win.gauges
    n = g.samples
    _wait(qtbot, lambda: g.samples >= n + 2, 5)  # at least twice a second
    assert g.last_sample is not None and g.last_sample.rss_mb > 100
    assert "MiB" in g.rss.text() and "GiB used" in g.ram.text()
    # No NVIDIA GPU here: a labelled state, never a fake zero.
    if g.last_sample.vram is None:
        assert "no NVIDIA GPU" in g.vram.text()
    assert g.mem_series.count() >= 2 and g.marks.count() >= 1


def test_switch_embedder_precision_to_int8(ready_ui: UiSession, qtbot: Any) -> None:
    win = ready_ui.win
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
