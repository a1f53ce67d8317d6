"""Exporting an answer with its evidence and citations, as Markdown or as PDF."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from ..core.types import page_ref
from .widgets.ask_panel import QA


def export_answer(qa: QA, path: Path, kind: str) -> None:
    """Write `qa` to `path` as Markdown ("md") or as an A4 PDF ("pdf")."""
    md = answer_markdown(qa)
    if kind == "md":
        path.write_text(md, encoding="utf-8")
        return
    doc = QTextDocument()
    doc.setMarkdown(md)
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    doc.print_(writer)


def answer_markdown(qa: QA) -> str:
    """An answer with its citations as Markdown (also the source of the PDF export)."""
    done = qa.done
    lines = [f"# {qa.question}", ""]
    if qa.evidence:
        lines += ["## From your documents", ""]
        for e in qa.evidence:
            page = page_ref(e.page, e.page_label)
            lines.append(f"> “{' '.join(e.text.split())}” — {Path(e.path).name}{page}")
            lines.append("")
        lines += ["## Answer (written by the model)", ""]
    if done is not None and done.warning:
        lines += [f"**Warning:** {done.warning}", ""]
    lines += [qa.answer.strip(), ""]
    flagged = [c for c in done.sentences if c.supported is False] if done else []
    if flagged:
        lines += ["Sentences not found in their cited source:", ""]
        lines += [f"- “{c.text}” ({c.reason})" for c in flagged]
        lines.append("")
    if done is not None:
        lines += ["## Sources", ""]
        for c in done.citations:
            page = page_ref(c.page, c.page_label)
            lines.append(f"{c.n}. {Path(c.path).name}{page} — `{c.path}`  ")
            lines.append(f"   > {html.escape(c.snippet[:300])}")
        if not done.citations:
            lines.append("_No citations: the documents did not support an answer._")
        t = done.timings
        lines += ["", f"_Model {done.model_file} ({done.quant}), embedder {done.embedder} "
                  f"({done.precision}); retrieval {t.retrieval_ms:.0f} ms, total "
                  f"{t.total_ms:.0f} ms._"]
    return "\n".join(lines) + "\n"
