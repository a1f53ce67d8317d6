"""The source viewer highlights the whole passage on a PDF page and in a rendered note."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fpdf import FPDF

from medsearch_app.core.types import Hit
from medsearch_app.ui.widgets.pdf_viewer import SourceViewer

PASSAGE = ("Patients with a CURB-65 score of three to five have high severity pneumonia and should "
           "be managed in hospital, with assessment for critical care when the score is four or "
           "five; intravenous co-amoxiclav plus clarithromycin is the usual first treatment.")


# The same passage as a typesetter would break it: hyphenated words split over the line ends.
HYPHENATED = ["Patients with a CURB-65 score of three to five have high sever-",
              "ity pneumonia and should be managed in hospital, with assess-",
              "ment for critical care when the score is four or five; intra-",
              "venous co-amoxiclav plus clarithromycin is the usual first treat-",
              "ment."]
LINE_PT = 6 * 72 / 25.4  # a 6 mm line in page points


def _letters(text: str) -> str:
    return re.sub(r"[\W_]", "", text).lower()


def _height(polys: list[Any]) -> float:
    return float(max(p.boundingRect().bottom() for p in polys)
                 - min(p.boundingRect().top() for p in polys))


def _pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Page one is about something else entirely.")
    pdf.add_page()
    pdf.multi_cell(0, 6, "Severity assessment.\n\n" + PASSAGE + "\n\nOther advice follows here.")
    pdf.output(str(path))
    return path


def test_pdf_passage_is_highlighted_over_several_lines(qtbot: Any, tmp_path: Path) -> None:
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(700, 600)
    viewer.show()
    path = _pdf(tmp_path / "guide.pdf")
    assert viewer.show_hit(Hit(1, 1, str(path), 2, "2", 0.9, PASSAGE)) is None
    assert viewer.current_page == 2 and viewer.pdf.page == 1
    polys = viewer.pdf.highlights
    assert polys, "nothing highlighted"
    top = min(p.boundingRect().top() for p in polys)
    bottom = max(p.boundingRect().bottom() for p in polys)
    assert bottom - top > 2 * LINE_PT, "the highlight does not span the passage's lines"
    assert _letters(viewer.highlighted) == _letters(PASSAGE)
    assert viewer.highlighted.split()[0] == "Patients"
    assert viewer.highlighted.rstrip(".").endswith("treatment")
    # A quoted sentence highlights only that sentence.
    assert viewer.show_hit(Hit(1, 1, str(path), 2, "2", 0.9, PASSAGE),
                           highlight="Other advice follows here.") is None
    assert viewer.highlighted.startswith("Other advice")
    assert max(p.boundingRect().bottom() for p in viewer.pdf.highlights) - min(
        p.boundingRect().top() for p in viewer.pdf.highlights) < 15


def test_a_passage_hyphenated_over_line_ends_is_highlighted_whole(qtbot: Any,
                                                                  tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Severity assessment.\n\n" + "\n".join(HYPHENATED) + "\n\nNext.")
    path = tmp_path / "hyphenated.pdf"
    pdf.output(str(path))
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(700, 600)
    viewer.show()
    assert viewer.show_hit(Hit(1, 1, str(path), 1, None, 0.9, PASSAGE)) is None
    page_text = viewer.doc.getAllText(0).text()
    assert "sever" in page_text and "severity" not in page_text  # really broken on the page
    assert viewer.highlighted.startswith("Patients") and viewer.highlighted.endswith("ment")
    assert _letters(viewer.highlighted) == _letters(PASSAGE)
    assert 0.9 * len(PASSAGE) <= len(viewer.highlighted) <= 1.1 * len(PASSAGE)
    polys = viewer.pdf.highlights
    assert len(polys) >= 5 and _height(polys) > 4 * LINE_PT  # all five lines, not the first
    assert _height(polys) < 6 * LINE_PT  # and not the heading or the line after
    assert not viewer.pdf.label.pixmap().isNull()


def test_text_not_on_the_page_opens_it_without_highlight(qtbot: Any, tmp_path: Path) -> None:
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    path = _pdf(tmp_path / "guide.pdf")
    assert viewer.show_hit(Hit(1, 1, str(path), 1, "1", 0.9, PASSAGE)) is None
    assert viewer.current_page == 1 and viewer.pdf.highlights == [] and viewer.highlighted == ""


def test_markdown_note_is_rendered_with_the_passage_marked(qtbot: Any, tmp_path: Path) -> None:
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    note = tmp_path / "inr.md"
    note.write_text("# Warfarin clinic\n\nINR today **4.6**, above the target range.\n\n"
                    "## Plan\n\n- Hold **two doses**, recheck INR in three days.\n",
                    encoding="utf-8")
    assert viewer.show_hit(Hit(1, 1, str(note), None, None, 0.9,
                               "- Hold **two doses**, recheck INR in three days.")) is None
    shown = viewer.note.toPlainText()
    assert "**" not in shown and "#" not in shown
    sels = viewer.note.extraSelections()
    assert len(sels) == 1
    assert sels[0].cursor.selectedText() == "Hold two doses, recheck INR in three days"


def test_a_passage_deep_in_a_long_note_is_scrolled_into_view(qtbot: Any, tmp_path: Path) -> None:
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 400)
    viewer.show()
    note = tmp_path / "long.md"
    filler = "".join(f"## Visit {i}\n\nRoutine review number {i}, nothing new.\n\n"
                     for i in range(60))
    note.write_text(filler + "## Plan\n\nStart **apixaban 2.5 mg** twice daily today.\n",
                    encoding="utf-8")
    assert viewer.show_hit(Hit(1, 1, str(note), None, None, 0.9, "x"),
                           highlight="Start apixaban 2.5 mg twice daily today.") is None
    # The note scrolls to the passage once laid out (a zero-delay timer): wait for it.
    qtbot.waitUntil(lambda: viewer.note.verticalScrollBar().value() > 0, timeout=60_000)
    assert viewer.highlighted == "Start apixaban 2.5 mg twice daily today"
    sels = viewer.note.extraSelections()  # kept: the cursors die with the list
    rect = viewer.note.cursorRect(sels[0].cursor)
    assert 0 <= rect.top() < viewer.note.viewport().height()
