"""Build the small-library evaluation set into a folder.

``build_library(dest)`` copies every note from ``notes/`` into ``dest`` (flat, keeping
file names) and renders each ``pdf_sources/*.md`` to ``dest/<stem>.pdf`` with the
project's own renderer, so the ``doc`` names in ``questions.jsonl`` match the files in
``dest``. All material is fictional and was written for MedSearch testing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTES_DIR = HERE / "notes"
PDF_SOURCES_DIR = HERE / "pdf_sources"
QUESTIONS = HERE / "questions.jsonl"


def build_library(dest: Path) -> Path:
    """Copy the notes and render the PDF sources into ``dest``; return ``dest``."""
    from medsearch_app.demo import render_guideline_pdf

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for note in sorted(NOTES_DIR.iterdir()):
        if note.is_file() and not note.name.startswith("."):
            shutil.copyfile(note, dest / note.name)
    for source in sorted(PDF_SOURCES_DIR.glob("*.md")):
        render_guideline_pdf(source.read_text(encoding="utf-8"), dest / f"{source.stem}.pdf")
    return dest


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    out = build_library(Path(sys.argv[1] if len(sys.argv) > 1 else "small_library_built"))
    print(out)
