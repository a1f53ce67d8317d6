"""Hostile and odd inputs beyond the generated corpus of test_ingest.py: each gets its expected
outcome, never a hang (pytest-timeout ends one), and the rest of the library indexes."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from medsearch_app.core.library.indexing import Library
from medsearch_app.core.types import FileIndexed, IndexDone

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"


def _nested_pdf(path: Path, depth: int) -> Path:
    """A valid PDF whose page tree is nested `depth` levels deep (each /Pages node has one
    kid), written by hand with its cross-reference table."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>"]
    for i in range(depth):
        n = 2 + i
        parent = f" /Parent {n - 1} 0 R" if i else ""
        objs.append(f"<< /Type /Pages /Kids [{n + 1} 0 R] /Count 1{parent} >>")
    objs.append(f"<< /Type /Page /Parent {depth + 1} 0 R /MediaBox [0 0 612 792] >>")
    out = "%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += f"{i + 1} 0 obj\n{o}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{off:010d} 00000 n \n" for off in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    path.write_text(out, encoding="latin-1")
    return path


def _many_pages(path: Path, n: int) -> Path:
    from fpdf import FPDF

    one = path.with_suffix(".one.pdf")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Ward round protocol: check observations, fluids and medicines chart.")
    pdf.output(str(one))
    page = PdfReader(one).pages[0]
    w = PdfWriter()
    for _ in range(n):
        w.add_page(page)
    w.write(path)
    one.unlink()
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "Klinik Notizen é"  # spaces and non-ASCII in every path
    d.mkdir()
    (d / "Ärztebrief 1.txt").write_text("Ärztebrief: Metoprolol 47,5 mg täglich, Kontrolle "
                                        "in vier Wochen.\n", encoding="utf-8")
    rnd = random.Random(3)
    (d / "scan0001.pdf").write_bytes(bytes(rnd.randrange(256) for _ in range(20_000)))
    (d / "long line.txt").write_text(" ".join(f"word{i}" for i in range(400_000)),
                                     encoding="utf-8")  # one 3.3 MB line
    (d / "loop").symlink_to(d, target_is_directory=True)  # a folder that contains itself
    (d / "gone.pdf").symlink_to(d / "deleted long ago.pdf")  # dangling
    _nested_pdf(d / "nested.pdf", 3000)
    _many_pages(d / "2000 pages.pdf", 2000)
    return d


@pytest.mark.slow
def test_hostile_inputs_each_get_their_outcome(folder: Path, home: Path,
                                               hash_embedder: Any) -> None:
    lib = Library(home, hash_embedder)
    try:
        events = list(lib.index_paths([folder, NOTES / "ckd_review.txt"]))
    finally:
        lib.close()
    by_name = {Path(e.path).name: e for e in events if isinstance(e, FileIndexed)}
    done = events[-1]
    assert isinstance(done, IndexDone)
    # the ordinary files index, whatever else is in the folder
    assert by_name["ckd_review.txt"].status == "indexed"
    assert by_name["Ärztebrief 1.txt"].status == "indexed"
    assert by_name["long line.txt"].status == "indexed" and by_name["long line.txt"].chunks > 100
    # 2,000 pages: read whole, one passage per page at least
    big = by_name["2000 pages.pdf"]
    assert big.status == "indexed" and big.pages == 2000 and big.chunks >= 2000
    # random bytes named .pdf: refused with a reason
    assert by_name["scan0001.pdf"].status == "failed" and by_name["scan0001.pdf"].reason
    # the nested page tree: read, or refused with a reason; never a hang or a crash
    nested = by_name["nested.pdf"]  # pypdf's own limit: "page list unreadable" today
    assert nested.status in ("failed", "partial", "indexed") and (
        nested.status != "failed" or "corrupt" in nested.reason)
    failed = {Path(f.path).name: f.reason for f in done.failed}
    assert "scan0001.pdf" in failed
    # the dangling link is reported, not fatal; the loop is walked once
    assert "gone.pdf" not in by_name or by_name["gone.pdf"].status == "failed"
    assert not any("loop" in Path(e.path).parts for e in events if isinstance(e, FileIndexed))
