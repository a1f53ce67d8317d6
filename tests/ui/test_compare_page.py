"""The Compare quant levels page with real levels of the default model over the demo library:
run, table and charts, report files, answers refused meanwhile, the recommendation following the
budget, and one click loading the recommended level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_support import UiSession

from medsearch_app.core.llm.gguf import read_gguf
from medsearch_app.core.llm.models import default_model_path, models_dir
from medsearch_app.core.quant.quantize import QuantDone, build_ladder
from medsearch_app.ui.jobs import JobKind
from medsearch_app.ui.main_window import COMPARE_PAGE
from medsearch_app.ui.widgets.compare_page import COLUMNS, LABELLED, SOURCES

pytestmark = [pytest.mark.gui, pytest.mark.slow]

QUESTIONS = ("What CURB-65 score means a patient with pneumonia should be admitted?\n"
             "What apixaban dose was chosen for the AF patient, and why?\n")
WANTED = {"Q8_0", "Q4_1", "Q2_K"}


def _wait(qtbot: Any, cond: Any, s: float = 600) -> None:
    qtbot.waitUntil(cond, timeout=int(s * 1000))


def _tick_only(page: Any, wanted: set[str]) -> list[str]:
    ticked = []
    for i in range(page.levels.count()):
        item = page.levels.item(i)
        quant = item.text().split()[0]
        on = quant in wanted
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        if on:
            ticked.append(quant)
    return ticked


def test_compare_page_runs_recommends_and_loads(ready_ui: UiSession, qtbot: Any) -> None:
    win = ready_ui.win
    done = list(build_ladder(default_model_path(), ["Q8_0", "Q2_K"], models_dir()))[-1]
    assert isinstance(done, QuantDone) and not done.error
    page = win.compare_page
    win.pages.setCurrentIndex(COMPARE_PAGE)
    _wait(qtbot, lambda: page.levels.count() >= 3, 60)
    assert sorted(_tick_only(page, WANTED)) == sorted(WANTED)
    page.source.setCurrentText(SOURCES[1])
    page.typed.setPlainText(QUESTIONS)

    page.run_button.click()
    assert win.jobs.busy(JobKind.COMPARE)
    assert page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    # The comparison has the model and the machine to itself: an answer is refused, with why.
    assert win.ask("What is CURB-65?") is None
    assert "comparison" in win.statusBar().currentMessage()

    # The report is the job's last event; the job ends just after it.
    _wait(qtbot, lambda: win.compare.last is not None and not win.jobs.busy(JobKind.COMPARE))
    assert page.table.rowCount() == 3
    quants = {page.table.item(r, 0).text().split()[0] for r in range(3)}
    assert quants == WANTED
    ref_row = next(r for r in range(3) if "(ref.)" in page.table.item(r, 0).text())
    assert page.table.item(ref_row, 0).text().startswith("Q8_0")
    # Typed questions carry no labels: the answer scores' columns stay hidden. At the smallest
    # common laptop screen every other column is in sight, without sideways scrolling.
    hidden = {key for col, (key, _) in enumerate(COLUMNS) if page.table.isColumnHidden(col)}
    assert hidden == LABELLED
    win.resize(1366, 768)
    _wait(qtbot, lambda: win.width() <= 1366, 60)
    # The layout settles over a few events after the resize: wait for it, not a fixed time.
    _wait(qtbot, lambda: page.table.horizontalScrollBar().maximum() == 0, 60)
    assert len(page.mem_chart.series()) == 3 and len(page.speed_chart.series()) == 3
    files = [Path(f) for f in win.compare.last.files]
    assert {f.suffix for f in files} == {".csv", ".json", ".html"}
    assert all(f.is_file() and f.stat().st_size > 0 for f in files)
    report = files[-1].read_text(encoding="utf-8")
    assert "data:image/png;base64," in report and "already quantized (Q4_1)" in report

    # The recommendation follows the budget, without measuring again.
    page.min_same_top.setValue(100.0)
    assert "Recommended: Q8_0" in page.advice.text()
    page.min_same_top.setValue(1.0)
    assert "Recommended: Q2_K" in page.advice.text()
    page.min_tps.setValue(100000.0)
    assert "No level meets the budget" in page.advice.text()
    assert not page.load_button.isEnabled()
    page.min_tps.setValue(0.0)

    # One click loads the recommended level into the window.
    assert page.load_button.isEnabled()
    n = len(win.switches)
    page.load_button.click()
    _wait(qtbot, lambda: len(win.switches) > n, 120)
    assert read_gguf(win.engine.model_path()).quant == "Q2_K"
    assert "Q2_K" in win.windowTitle()
