"""The window fits a 1366x768 laptop screen and shows what a physician can read: evidence and
answers without Markdown markup, document names with their extension in the library pane."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTreeWidget, QTreeWidgetItem

from medsearch_app.core.answer.verify import check_answer
from medsearch_app.core.library.store import DocRow
from medsearch_app.core.types import (
    AnswerDone,
    DocStatus,
    Evidence,
    Hit,
    Retrieved,
    Timings,
    Token,
)
from medsearch_app.ui.main_window import PREFERRED_SIZE, fit_size
from medsearch_app.ui.widgets.ask_panel import AskPanel
from medsearch_app.ui.widgets.library_panel import LibraryPanel
from medsearch_app.ui.widgets.markup import plain

pytestmark = pytest.mark.gui

LAPTOP = QSize(1366, 768)
LONG_NAME = "guideline_community_acquired_pneumonia_and_sepsis_in_adults_2024.pdf"
NOTE = ("## Decision\n\nOral anticoagulation recommended (CHA2DS2-VASc 4).\n\n"
        "Therefore the reduced dose applies: **apixaban 2.5 mg twice daily**.\n\n"
        "- Stop **aspirin** 75 mg.\n")

# Opens the window on a screen the size of a 1366x768 laptop (the offscreen platform's screen
# is set by its config file) and prints what the window looks like there.
_CHILD = """
import json, sys
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
from medsearch_app.ui.main_window import MainWindow
win = MainWindow(install_demo=False)
win.show()
QTest.qWaitForWindowExposed(win, 60000)  # shown and laid out (no fixed wait)
app.processEvents()
avail = win.screen().availableGeometry()
fr, lib = win.frameGeometry(), win.library_panel
out = {"avail": [avail.x(), avail.y(), avail.width(), avail.height()],
       "frame": [fr.x(), fr.y(), fr.width(), fr.height()],
       "min": [win.minimumSizeHint().width(), win.minimumSizeHint().height()],
       "library": lib.width(), "name_column": lib.tree.columnWidth(0)}
win.shutdown()
win.close()
print("RESULT " + json.dumps(out))
"""


def _screen_config(path: Path, size: QSize) -> Path:
    path.write_text(json.dumps({"screens": [{
        "name": "laptop", "x": 0, "y": 0, "width": size.width(), "height": size.height(),
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}), encoding="utf-8")
    return path


def test_fit_size_shrinks_the_preferred_size_to_the_screen() -> None:
    small = fit_size(PREFERRED_SIZE, QRect(0, 0, LAPTOP.width(), LAPTOP.height()))
    assert small.width() <= LAPTOP.width() and small.height() <= LAPTOP.height()
    assert small.height() <= LAPTOP.height() - 40  # room left for a title bar
    assert fit_size(PREFERRED_SIZE, QRect(0, 0, 2560, 1440)) == PREFERRED_SIZE


def test_window_opens_inside_a_1366x768_screen(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, MEDSEARCH_HOME=str(home), OMP_NUM_THREADS="2",
               QT_QPA_PLATFORM="offscreen:configfile="
               + str(_screen_config(tmp_path / "screen.json", LAPTOP)))
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                          text=True, timeout=300)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, proc.stdout[-2000:] + proc.stderr[-3000:]
    got = json.loads(line[len("RESULT "):])
    ax, ay, aw, ah = got["avail"]
    x, y, w, h = got["frame"]
    assert (aw, ah) == (LAPTOP.width(), LAPTOP.height())
    assert w <= aw and h <= ah, f"a {w}x{h} window on a {aw}x{ah} screen"
    assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, got
    assert got["min"][0] <= aw and got["min"][1] <= ah
    assert got["name_column"] >= 150, got  # a readable share for document names


def test_window_fits_its_screen_and_can_be_made_laptop_sized(qtbot: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             ) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MEDSEARCH_HOME", str(home))
    from medsearch_app.ui.main_window import MainWindow

    win = MainWindow(install_demo=False)
    try:
        win.show()
        qtbot.waitExposed(win)
        avail = win.screen().availableGeometry()
        assert win.width() <= avail.width() and win.height() <= avail.height()
        assert win.frameGeometry().width() <= avail.width()
        assert win.frameGeometry().height() <= avail.height()
        # Every page, the panes and the status bar allow a window inside 1366x768 (less a frame).
        target = fit_size(PREFERRED_SIZE, QRect(0, 0, LAPTOP.width(), LAPTOP.height()))
        hint = win.minimumSizeHint()
        assert hint.width() <= target.width() and hint.height() <= target.height(), hint
        win.resize(target)
        qtbot.waitUntil(lambda: win.size() == target)
        assert win.width() <= LAPTOP.width() and win.height() <= LAPTOP.height()
        for i in range(win.pages.count()):
            widget = win.pages.widget(i)
            assert widget is not None
            page = widget.minimumSizeHint()
            assert page.width() <= target.width() and page.height() <= target.height(), i
    finally:
        win.shutdown()
        win.close()


def _shown_text(tree: QTreeWidget, item: QTreeWidgetItem, column: int) -> str:
    """The text the view paints in a cell: elided as the style elides it in the text rect."""
    rect = tree.visualItemRect(item)
    rect.setLeft(tree.header().sectionViewportPosition(column))
    rect.setWidth(tree.columnWidth(column))
    opt = QStyleOptionViewItem()
    opt.initFrom(tree)
    opt.rect = rect
    opt.text = item.text(column)
    opt.features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
    opt.textElideMode = tree.textElideMode()
    style = tree.style()
    text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, tree)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    return tree.fontMetrics().elidedText(opt.text, opt.textElideMode,
                                         text_rect.width() - 2 * margin)


def test_library_shows_long_names_with_their_extension(qtbot: Any, tmp_path: Path) -> None:
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    # The width the window gives the library on a 1366x768 screen (30% of 92% of 1366).
    panel.resize(int(LAPTOP.width() * 0.92 * 0.30), 500)
    panel.show()
    qtbot.waitExposed(panel)
    long_path = str(tmp_path / "guidelines" / LONG_NAME)
    short_path = str(tmp_path / "af_anticoagulation.md")
    panel.set_documents([
        DocRow(1, long_path, "pdf", None, None, None, DocStatus.INDEXED, "", 42, 180),
        DocRow(2, short_path, "note", None, None, None, DocStatus.INDEXED, "", 1, 4)])
    tree = panel.tree
    item, short = tree.topLevelItem(0), tree.topLevelItem(1)
    assert item is not None and short is not None
    assert item.text(0) == LONG_NAME and item.toolTip(0) == long_path
    shown = _shown_text(tree, item, 0)
    assert shown != LONG_NAME and "…" in shown, "the long name should be elided"
    assert shown.endswith(".pdf") and shown.startswith("guideline"), shown
    assert len(shown) >= 16, shown  # a readable part of the name, not "guideline…"
    assert _shown_text(tree, short, 0) == "af_anticoagulation.md"


def _done(answer: str, hits: list[Hit], evidence: list[Evidence]) -> AnswerDone:
    return AnswerDone(answer=answer, citations=[], supported=True,
                      timings=Timings(1.0, 2.0, 10, 100.0, 5, 50.0, 10.0), model_file="m.gguf",
                      quant="Q4_K_M", embedder="mini", precision="fp32", sources=hits,
                      evidence=evidence, sentences=check_answer(answer, hits))


def test_evidence_sources_and_answer_show_no_markdown(qtbot: Any, tmp_path: Path) -> None:
    panel = AskPanel()
    qtbot.addWidget(panel)
    path = str(tmp_path / "af_anticoagulation.md")
    hits = [Hit(1, 7, path, None, None, 0.9, NOTE)]
    quoted = "Therefore the reduced dose applies: **apixaban 2.5 mg twice daily**."
    start = NOTE.index(quoted)
    evidence = [Evidence(1, quoted, path, None, None, 7, start, start + len(quoted), 0.8),
                Evidence(1, "- Stop **aspirin** 75 mg.", path, None, None, 7, 0, 0, 0.7)]
    panel.begin("What apixaban dose does she need?")
    panel.on_event(Retrieved(hits, 1.0, True, "", evidence))
    shown = panel.answer.toPlainText()
    assert "“Therefore the reduced dose applies: apixaban 2.5 mg twice daily.”" in shown
    assert "“Stop aspirin 75 mg.”" in shown
    assert "**" not in shown and "##" not in panel.sources.toPlainText()
    assert "**" not in panel.sources.toPlainText()
    # Streamed in pieces that split the markers: never shown with them, also mid-stream.
    answer = "**Apixaban 2.5 mg twice daily** [1]. *Stop* the aspirin [1]."
    seen: list[str] = []
    for piece in ("*", "*Apix", "aban 2.5 mg twice daily*", "* [1]. *", "Stop* the aspirin [1]."):
        panel.on_event(Token(piece))
        seen.append(panel.answer.toPlainText())
    assert all("**" not in s for s in seen), seen
    assert seen[-1].endswith("Apixaban 2.5 mg twice daily [1]. Stop the aspirin [1].")
    done = _done(answer, hits, evidence)
    panel.on_event(done)
    final = panel.answer.toPlainText()
    assert "**" not in final and "*Stop*" not in final
    assert "Apixaban 2.5 mg twice daily [1]. Stop the aspirin [1]." in final
    assert "cite:1" in panel.answer.toHtml()  # the [n] links survive


@pytest.mark.parametrize(("text", "expected"), [
    ("**Patient:** Dorothea", "Patient: Dorothea"),
    ("## History\nPersistent AF", "History\nPersistent AF"),
    ("- Bisoprolol 2.5 mg", "• Bisoprolol 2.5 mg"),
    ("See [the guideline](http://example.org) and [1].", "See the guideline and [1]."),
    ("p < 0.05* in file_name_here, 2 * 3 * 4", "p < 0.05* in file_name_here, 2 * 3 * 4"),
    ("*italic*, __bold__ and `code`", "italic, bold and code"),
])
def test_markup_is_taken_out_and_plain_text_kept(text: str, expected: str) -> None:
    assert plain(text) == expected
