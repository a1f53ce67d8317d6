"""Demo library: install the bundled fictional notes and render the demo guideline to a PDF."""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

DEMO_SUBDIR = "demo"
NOTES_SUBDIR = "notes"
GUIDELINE_MD = "guideline.md"
GUIDELINE_PDF = "guideline.pdf"
# Questions the demo library answers: the first-run examples and the comparison's demo set.
DEMO_QUESTIONS = [
    "What CURB-65 score means a patient with pneumonia should be admitted?",
    "What apixaban dose was chosen for the AF patient, and why?",
    "What is the first-line antibiotic for high-severity pneumonia in penicillin allergy?",
    "When should blood cultures be taken in suspected sepsis?",
    "What should be checked before starting an ACE inhibitor?",
    "How is the response to sepsis treatment monitored?",
]

_FONT = "Helvetica"
_BODY_PT = 10.0
_LINE_H = 5.0
_TABLE_PT = 8.5
# (font size in pt, space before in mm) for "#", "##" and "###" headings.
_HEADING_STYLE = {1: (17.0, 0.0), 2: (14.0, 5.0), 3: (11.5, 3.0)}

# Characters outside latin-1 that the demo text (or a user's edit of it) may contain.
_ASCII_SUBSTITUTES = {
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": " - ",  # em dash
    "\u2015": " - ",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2026": "...",
    "\u2022": "-",  # bullet
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u2192": "->",
    "\u2190": "<-",
    "\u00a0": " ",  # no-break space (latin-1, but a plain space wraps better)
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u200b": "",  # zero-width space
    "\u03bc": "\u00b5",  # Greek mu -> micro sign (latin-1)
}
_SUBSTITUTE_TABLE = str.maketrans(_ASCII_SUBSTITUTES)
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|`([^`]*)`")
_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^[-*+]\s+")


def resources_dir() -> Path:
    """The top-level ``resources/`` folder, also inside a PyInstaller bundle."""
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        base = Path(meipass) / "resources"
    else:
        base = Path(__file__).resolve().parent.parent / "resources"
    if not base.is_dir():
        raise FileNotFoundError(
            f"MedSearch resources folder not found at {base}; the installation is incomplete."
        )
    return base


def sanitize_text(text: str) -> str:
    """Make text printable with the PDF core fonts (latin-1 only)."""
    text = text.translate(_SUBSTITUTE_TABLE)
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _inline(text: str) -> str:
    """Drop inline Markdown emphasis markers and sanitize."""
    text = _EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    return sanitize_text(text.strip())


class _GuidelinePdf(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(_FONT, "", 9)
        self.set_text_color(90, 90, 90)
        self.cell(0, 10, f"Page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@dataclass
class _Block:
    kind: str  # "heading", "para", "bullet" or "table"
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


def _blocks(markdown_text: str) -> Iterator[_Block]:
    """Split Markdown into headings, paragraphs, bullet items and pipe tables."""
    paragraph: list[str] = []
    table: list[list[str]] = []

    def flush() -> Iterator[_Block]:
        if paragraph:
            yield _Block("para", text=" ".join(paragraph))
            paragraph.clear()
        if table:
            rows = [row for row in table if not all(_SEPARATOR_CELL.match(c) for c in row)]
            yield _Block("table", rows=rows)
            table.clear()

    for raw in markdown_text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            if paragraph:
                yield from flush()
            table.append(_split_row(line))
            continue
        if table:
            yield from flush()
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        if not line:
            yield from flush()
        elif heading:
            yield from flush()
            level = min(len(heading.group(1)), 3)
            yield _Block("heading", text=heading.group(2), level=level)
        elif bullet:
            yield from flush()
            yield _Block("bullet", text=line[bullet.end() :])
        else:
            paragraph.append(line)
    yield from flush()


def _heading_height(level: int) -> float:
    size, space = _HEADING_STYLE[level]
    return space + size * 0.5 + 1.5


def _heading(pdf: FPDF, level: int, text: str, reserve: float) -> None:
    size, space = _HEADING_STYLE[level]
    # Keep a heading on the same page as the start of what follows it.
    if pdf.get_y() + _heading_height(level) + reserve > pdf.page_break_trigger:
        pdf.add_page()
    elif pdf.get_y() > pdf.t_margin + 1:
        pdf.ln(space)
    pdf.set_font(_FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, _inline(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    pdf.set_font(_FONT, "", _BODY_PT)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font(_FONT, "", _BODY_PT)
    pdf.multi_cell(0, _LINE_H, _inline(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.6)


def _bullet(pdf: FPDF, text: str) -> None:
    pdf.set_font(_FONT, "", _BODY_PT)
    pdf.set_x(pdf.l_margin + 3)
    pdf.cell(5, _LINE_H, "-")
    pdf.multi_cell(0, _LINE_H, _inline(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.8)


def _table(pdf: FPDF, rows: list[list[str]]) -> None:
    if not rows:
        return
    ncols = max(len(row) for row in rows)
    pdf.ln(1)
    pdf.set_font(_FONT, "", _TABLE_PT)
    widths = (22.0, 38.0, 26.0, 14.0) if ncols == 4 else None
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        v_align="TOP",
        line_height=_TABLE_PT * 0.48,
        padding=1.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 240)),
        repeat_headings=1,
    ) as table:
        for cells in rows:
            row = table.row()
            for i in range(ncols):
                row.cell(_inline(cells[i]) if i < len(cells) else "")
    pdf.ln(3)
    pdf.set_font(_FONT, "", _BODY_PT)


def render_guideline_pdf(markdown_text: str, out: Path) -> None:
    """Render the demo guideline Markdown (headings, paragraphs, bullets, pipe tables) to a PDF."""
    pdf = _GuidelinePdf(orientation="P", unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title("MedSearch demo guideline")
    pdf.set_author("MedSearch (fictional demo material)")
    pdf.set_creator("MedSearch")
    pdf.add_page()
    pdf.set_font(_FONT, "", _BODY_PT)

    blocks = list(_blocks(markdown_text))
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            reserve = 4 * _LINE_H
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            if following is not None and following.kind == "heading":
                reserve += _heading_height(following.level)
            _heading(pdf, block.level, block.text, reserve)
        elif block.kind == "bullet":
            _bullet(pdf, block.text)
        elif block.kind == "table":
            _table(pdf, block.rows)
        else:
            _paragraph(pdf, block.text)

    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


def _write_atomic(dest: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename over ``dest``."""
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")  # umask-respecting mode
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _bytes_writer(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def install_demo(target: Path) -> Path:
    """Copy the demo notes into ``target/notes/`` and render ``target/guideline.pdf``.

    Idempotent: notes already present with identical bytes are left alone (a note whose
    content differs is restored), and the PDF is rendered only when it is missing.
    """
    source = resources_dir() / DEMO_SUBDIR
    notes_src = source / NOTES_SUBDIR
    guideline_src = source / GUIDELINE_MD
    if not notes_src.is_dir() or not guideline_src.is_file():
        raise FileNotFoundError(f"MedSearch demo resources are incomplete in {source}.")

    notes_dst = target / NOTES_SUBDIR
    notes_dst.mkdir(parents=True, exist_ok=True)
    for note in sorted(notes_src.iterdir()):
        if not note.is_file() or note.name.startswith("."):
            continue
        data = note.read_bytes()
        dest = notes_dst / note.name
        if dest.is_file() and dest.read_bytes() == data:
            continue
        _write_atomic(dest, _bytes_writer(data))

    pdf_dst = target / GUIDELINE_PDF
    if not pdf_dst.is_file():
        markdown_text = guideline_src.read_text(encoding="utf-8")
        _write_atomic(pdf_dst, lambda tmp: render_guideline_pdf(markdown_text, tmp))
    return target
