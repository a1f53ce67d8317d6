"""Source viewer: a PDF at the cited page with the passage highlighted, or a note scrolled to it."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtPdf import QPdfDocument, QPdfSearchModel
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QLabel, QStackedWidget, QTextEdit, QVBoxLayout, QWidget

from ...core.ingest.notes import read_note
from ...core.types import Hit


def search_phrase(text: str, words: int = 5) -> str:
    """A short run of words from the passage that the PDF's own text layer will contain."""
    for line in text.splitlines():
        toks = re.findall(r"[A-Za-z0-9][\w\-,.%()/]*", line)
        if len(toks) >= words:
            return " ".join(toks[:words])
    toks = re.findall(r"\S+", text)
    return " ".join(toks[:words])


class SourceViewer(QWidget):
    """Shows the document a citation points at."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<b>Source</b> — click a citation to open its page")
        self.title.setWordWrap(True)
        self.doc = QPdfDocument(self)
        self.search = QPdfSearchModel(self)
        self.search.setDocument(self.doc)
        self.pdf = QPdfView(self)
        self.pdf.setDocument(self.doc)
        self.pdf.setSearchModel(self.search)
        self.pdf.setPageMode(QPdfView.PageMode.MultiPage)
        self.pdf.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.note = QTextEdit(self)
        self.note.setReadOnly(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.pdf)
        self.stack.addWidget(self.note)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.stack, 1)
        self.current_path: str | None = None
        self.current_page: int | None = None

    def show_hit(self, hit: Hit) -> str | None:
        """Open the hit's document at its page; returns an error message or None."""
        path = Path(hit.path)
        if not path.exists():
            return f"{path.name} is no longer on disk"
        if path.suffix.lower() == ".pdf":
            return self._show_pdf(path, hit)
        return self._show_note(path, hit)

    def _show_pdf(self, path: Path, hit: Hit) -> str | None:
        if self.current_path != str(path):
            self.doc.close()
            self.current_path = None  # nothing is loaded if the load below fails
            err = self.doc.load(str(path))
            if err != QPdfDocument.Error.None_:
                return f"{path.name} cannot be shown ({err.name})"
            self.current_path = str(path)
        page = max(0, (hit.page or 1) - 1)
        self.search.setSearchString(search_phrase(hit.text))
        self.stack.setCurrentWidget(self.pdf)
        self.pdf.pageNavigator().jump(page, QPointF(0, 0), 0)
        self.current_page = page + 1
        label = f" (printed {hit.page_label})" if hit.page_label and hit.page_label != str(
            hit.page) else ""
        self.title.setText(f"<b>{path.name}</b> — page {page + 1}{label} of "
                           f"{self.doc.pageCount()}")
        return None

    def _show_note(self, path: Path, hit: Hit) -> str | None:
        try:
            text = read_note(path).text
        except Exception as exc:  # noqa: BLE001 - shown as a message
            return f"{path.name} cannot be shown ({exc})"
        self.current_path, self.current_page = str(path), None
        self.note.setPlainText(text)
        start = text.find(hit.text[:80]) if hit.text else -1
        end = start + len(hit.text) if start >= 0 else -1
        cur = QTextCursor(self.note.document())
        if start >= 0:
            cur.setPosition(start)
            cur.setPosition(min(end, len(text)), QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#fff2a8"))
            sel = QTextEdit.ExtraSelection()
            sel.cursor, sel.format = cur, fmt
            self.note.setExtraSelections([sel])
            c2 = QTextCursor(self.note.document())
            c2.setPosition(start)
            self.note.setTextCursor(c2)
            self.note.ensureCursorVisible()
        self.stack.setCurrentWidget(self.note)
        self.title.setText(f"<b>{path.name}</b> — note")
        self.note.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return None

    def close_document(self) -> None:
        self.doc.close()
        self.current_path = None
