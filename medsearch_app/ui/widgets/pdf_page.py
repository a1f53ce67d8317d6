"""One PDF page drawn at the viewer's width, with passages highlighted over it.

QPdfView has no public way to paint custom highlights, so the page is rendered with
QPdfDocument.render and the highlight polygons (page points, from QPdfSelection.bounds) are
painted over it at the same scale. PgUp/PgDn turn pages; Ctrl+= / Ctrl+- zoom.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPixmap, QPolygonF, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QLabel, QScrollArea, QWidget

HIGHLIGHT = QColor(255, 214, 0, 110)
OUTLINE = QColor(200, 150, 0, 200)


class PdfPage(QScrollArea):
    """Shows page `page` (0-based) of a document with optional highlight polygons."""

    def __init__(self, doc: QPdfDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.page = 0
        self.zoom = 1.0  # relative to fit-to-width
        self.highlights: list[QPolygonF] = []
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for seq, step in (("PgDown", 1), ("PgUp", -1)):
            QShortcut(QKeySequence(seq), self, lambda s=step: self.turn(s),
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for seq, factor in (("Ctrl+=", 1.25), ("Ctrl++", 1.25), ("Ctrl+-", 0.8)):
            QShortcut(QKeySequence(seq), self, lambda f=factor: self.set_zoom(self.zoom * f),
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def show_page(self, page: int, highlights: list[QPolygonF] | None = None) -> None:
        self.page = max(0, min(page, self.doc.pageCount() - 1))
        self.highlights = list(highlights or [])
        self._render()
        self.label.adjustSize()  # the scroll range must know the new page's height now
        top = (min(p.boundingRect().top() for p in self.highlights) * self._scale()
               if self.highlights else 0.0)
        self.verticalScrollBar().setValue(max(0, int(top) - 60))
        # Once more after the layout settles (the first show of the widget resizes it).
        bar = self.verticalScrollBar()
        QTimer.singleShot(0, bar, lambda: bar.setValue(max(0, int(top) - 60)))

    def turn(self, step: int) -> None:
        if 0 <= self.page + step < self.doc.pageCount():
            self.show_page(self.page + step)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = max(0.5, min(zoom, 4.0))
        self._render()

    def clear(self) -> None:
        self.highlights = []
        self.label.clear()

    def _scale(self) -> float:
        pts = self.doc.pagePointSize(self.page)
        width = max(200, self.viewport().width() - 4)
        return width * self.zoom / pts.width() if pts.width() > 0 else 1.0

    def _render(self) -> None:
        if self.doc.status() != QPdfDocument.Status.Ready or self.doc.pageCount() == 0:
            return
        pts = self.doc.pagePointSize(self.page)
        scale = self._scale()
        ratio = self.devicePixelRatioF()
        size = QSize(int(pts.width() * scale * ratio), int(pts.height() * scale * ratio))
        img = self.doc.render(self.page, size)
        if img.isNull():
            return
        img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        if self.highlights:
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.scale(scale * ratio, scale * ratio)
            p.setPen(OUTLINE)
            p.setBrush(HIGHLIGHT)
            for poly in self.highlights:
                p.drawPolygon(poly)
            p.end()
        pix = QPixmap.fromImage(img)
        pix.setDevicePixelRatio(ratio)
        self.label.setPixmap(pix)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._render()
