"""Source viewer: a PDF at the cited page, or a note (Markdown rendered), with the whole cited
passage or quoted sentence highlighted (located with core/text/textspan.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPolygonF, QTextCharFormat, QTextCursor
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QLabel, QStackedWidget, QTextEdit, QVBoxLayout, QWidget

from ...core.library.notes import read_note
from ...core.text.textspan import locate
from ...core.types import Hit, printed_label
from .pdf_page import PdfPage


class SourceViewer(QWidget):
    """Shows the document a citation points at."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<b>Source</b> — click a citation to open its page")
        self.title.setWordWrap(True)
        self.doc = QPdfDocument(self)
        self.pdf = PdfPage(self.doc, self)
        self.note = QTextEdit(self)
        self.note.setReadOnly(True)
        self.note.document().setDocumentMargin(10)
        self.note.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.pdf)
        self.stack.addWidget(self.note)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.stack, 1)
        self.current_path: str | None = None
        self.current_page: int | None = None
        self.highlighted = ""  # the text the last show_hit highlighted ("" if not found)

    def show_hit(self, hit: Hit, *, highlight: str | None = None) -> str | None:
        """Open the hit's document at its page with `highlight` (default: the passage) marked;
        returns an error message or None."""
        path = Path(hit.path)
        if not path.exists():
            return f"{path.name} is no longer on disk"
        text = hit.text if highlight is None else highlight
        if path.suffix.lower() == ".pdf":
            return self._show_pdf(path, hit, text)
        return self._show_note(path, text)

    def page_highlights(self, page: int, text: str) -> list[QPolygonF]:
        """Polygons (page points) covering `text` on 0-based `page`, [] if it is not found."""
        page_text = self.doc.getAllText(page).text()
        span = locate(text, page_text) if text.strip() else None
        if span is None:
            self.highlighted = ""
            return []
        self.highlighted = page_text[span[0]:span[1]]
        sel = self.doc.getSelectionAtIndex(page, span[0], span[1] - span[0])
        return list(sel.bounds()) if sel.isValid() else []

    def _show_pdf(self, path: Path, hit: Hit, text: str) -> str | None:
        if self.current_path != str(path):
            self.doc.close()
            self.current_path = None  # nothing is loaded if the load below fails
            err = self.doc.load(str(path))
            if err != QPdfDocument.Error.None_:
                return f"{path.name} cannot be shown ({err.name})"
            self.current_path = str(path)
        page = max(0, min((hit.page or 1) - 1, self.doc.pageCount() - 1))
        self.stack.setCurrentWidget(self.pdf)
        self.pdf.show_page(page, self.page_highlights(page, text))
        self.current_page = page + 1
        label = printed_label(hit.page, hit.page_label)
        self.title.setText(f"<b>{path.name}</b> — page {page + 1}{label} of "
                           f"{self.doc.pageCount()}")
        return None

    def _show_note(self, path: Path, text: str) -> str | None:
        try:
            note = read_note(path).text
        except Exception as exc:  # noqa: BLE001 - shown as a message
            return f"{path.name} cannot be shown ({exc})"
        self.current_path, self.current_page = str(path), None
        if path.suffix.lower() in (".md", ".markdown"):
            self.note.setMarkdown(note)
        else:
            self.note.setPlainText(note)
        self.stack.setCurrentWidget(self.note)  # laid out before scrolling to the span
        self.title.setText(f"<b>{path.name}</b> — note")
        shown = self.note.toPlainText()
        span = locate(text, shown) if text.strip() else None
        self.highlighted = shown[span[0]:span[1]] if span else ""
        self.note.verticalScrollBar().setValue(0)
        if span is None:
            self.note.setExtraSelections([])
            return None
        cur = QTextCursor(self.note.document())
        cur.setPosition(span[0])
        cur.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#fff2a8"))
        sel = QTextEdit.ExtraSelection()
        sel.cursor, sel.format = cur, fmt
        self.note.setExtraSelections([sel])
        start = QTextCursor(self.note.document())
        start.setPosition(span[0])
        self.note.setTextCursor(start)
        self._scroll_note_to(start)
        # Once more after the layout settles (the first show of the widget resizes it).
        bar = self.note.verticalScrollBar()
        QTimer.singleShot(0, bar, lambda: self._scroll_note_to(start))
        return None

    def _scroll_note_to(self, cursor: QTextCursor) -> None:
        """Put the line of `cursor` a quarter down the note view (the top stays if it fits)."""
        bar = self.note.verticalScrollBar()
        top = self.note.cursorRect(cursor).top() - self.note.viewport().height() // 4
        bar.setValue(max(0, bar.value() + top))

    def close_document(self) -> None:
        self.pdf.clear()
        self.doc.close()
        self.current_path = None
