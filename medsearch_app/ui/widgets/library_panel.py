"""Library pane: folders and files, each document's status, progress with rate, ETA and Cancel.

Document names are elided in the middle ("guideline_comm…_pneumonia.pdf"), so the start and
the extension stay readable in a narrow pane; the full path is the row's tooltip."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.library.store import DocRow
from ...core.types import DocStatus, FileIndexed, IndexDone, Progress, Stage

STATUS_TEXT = {DocStatus.INDEXED: "Indexed", DocStatus.PARTIAL: "Indexed (some pages failed)",
               DocStatus.FAILED: "Failed", DocStatus.PENDING: "Pending",
               DocStatus.UNCHANGED: "Indexed"}


class _ElideRight(QStyledItemDelegate):
    """A column whose start matters most ("Failed: why"), in a view that elides in the middle."""

    def initStyleOption(self, option: QStyleOptionViewItem,
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight


class LibraryPanel(QWidget):
    """Shows the library; emits requests, never indexes by itself."""

    add_folder_requested = Signal()
    add_files_requested = Signal()
    remove_requested = Signal(list)
    paths_dropped = Signal(list)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        title = QLabel("<b>Library</b>")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Document", "Status", "Pages", "Passages"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setUniformRowHeights(True)
        hdr = self.tree.header()
        hdr.setStretchLastSection(False)
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # The name gets the room: the status column is as wide as "Indexed" (a longer status,
        # "Failed: why", is elided and whole in the tooltip); the counts fit their headers.
        hdr.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.setItemDelegateForColumn(1, _ElideRight(self.tree))
        fm = self.tree.fontMetrics()
        self.tree.setColumnWidth(1, fm.horizontalAdvance("Indexed") + 3 * fm.averageCharWidth())
        for c in (2, 3):
            hdr.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        # At its narrowest, room for about 16 characters of a name next to the other columns.
        self.tree.setMinimumWidth(fm.horizontalAdvance("x" * 16) + fm.horizontalAdvance(
            "Indexed Pages Passages") + 8 * fm.averageCharWidth())
        self.add_folder = QPushButton("Add folder…")
        self.add_files = QPushButton("Add files…")
        self.remove = QPushButton("Remove")
        self.add_folder.setToolTip("Add a folder of PDFs and notes (Ctrl+O)")
        self.add_folder.clicked.connect(self.add_folder_requested)
        self.add_files.clicked.connect(self.add_files_requested)
        self.remove.clicked.connect(self._remove_selected)
        buttons = QHBoxLayout()
        for b in (self.add_folder, self.add_files, self.remove):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        prow = QHBoxLayout()
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel)
        self.summary = QLabel("")
        self.summary.setStyleSheet("color: palette(mid);")
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(buttons)
        lay.addWidget(self.tree, 1)
        lay.addLayout(prow)
        lay.addWidget(self.progress_label)
        lay.addWidget(self.summary)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._docs: dict[str, tuple[DocStatus, int]] = {}  # path -> (status, passages)
        self._t0 = 0.0
        self.set_busy(False)

    # ---- documents --------------------------------------------------------------------------
    def set_documents(self, docs: list[DocRow]) -> None:
        self.tree.clear()
        self._items.clear()
        self._docs.clear()
        for d in docs:
            self._upsert(d.path, d.status, d.n_pages, d.n_chunks, d.reason)
        self._update_summary()

    def _upsert(self, path: str, status: DocStatus, pages: int, chunks: int,
                reason: str) -> None:
        self._docs[path] = (status, chunks)
        item = self._items.get(path)
        if item is None:
            item = QTreeWidgetItem([Path(path).name, "", "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, path)
            self.tree.addTopLevelItem(item)
            self._items[path] = item
        item.setText(1, STATUS_TEXT.get(status, status))
        item.setText(2, str(pages) if pages else "")
        item.setText(3, str(chunks) if chunks else "")
        tip = path + (f"\n{reason}" if reason else "")
        for c in range(4):
            item.setToolTip(c, tip)
        if status == DocStatus.FAILED:
            item.setText(1, f"Failed: {reason}")
            item.setForeground(1, Qt.GlobalColor.darkRed)
        elif status == DocStatus.PARTIAL:
            item.setForeground(1, Qt.GlobalColor.darkYellow)
        else:
            item.setForeground(1, self.palette().text())

    def _update_summary(self) -> None:
        # Counted from the documents' data, never from the text shown in the cells.
        n = len(self._docs)
        failed = sum(1 for status, _ in self._docs.values() if status == DocStatus.FAILED)
        chunks = sum(c for _, c in self._docs.values())
        self.summary.setText(f"{n} documents, {chunks} passages" +
                             (f", {failed} could not be indexed" if failed else ""))

    def _remove_selected(self) -> None:
        paths = [it.data(0, Qt.ItemDataRole.UserRole) for it in self.tree.selectedItems()]
        if paths:
            self.remove_requested.emit(paths)

    def selected_paths(self) -> list[str]:
        return [it.data(0, Qt.ItemDataRole.UserRole) for it in self.tree.selectedItems()]

    def document_status(self, path: str) -> str | None:
        item = self._items.get(path)
        return item.text(1) if item else None

    # ---- progress ---------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)
        self.cancel.setEnabled(busy)
        if busy:
            self._t0 = time.monotonic()
            self.progress.setRange(0, 0)
            self.progress_label.setText("Looking for documents…")
        else:
            self.progress_label.setText("")

    def on_event(self, ev: object) -> None:
        if isinstance(ev, Progress) and ev.stage is Stage.WAITING:
            self.progress.setRange(0, 0)  # busy: nothing to count while another process writes
            self.progress_label.setText("Another MedSearch process is indexing this library; "
                                        "waiting for it to finish…")
        elif isinstance(ev, Progress):
            total = max(ev.chunks_total, 1)
            if ev.chunks_total:
                self.progress.setRange(0, total)
                self.progress.setValue(min(ev.chunks_done, total))
            else:
                self.progress.setRange(0, max(ev.total, 1))
                self.progress.setValue(ev.done)
            el = time.monotonic() - self._t0
            rate = ev.chunks_done / el if el > 0 else 0.0
            left = ""
            if ev.total and ev.done:
                eta = el / ev.done * (ev.total - ev.done)
                left = f", about {eta:.0f} s left" if eta >= 1 else ""
            self.progress.setFormat(f"{ev.chunks_done}/{ev.chunks_total} passages")
            self.progress_label.setText(
                f"Files {ev.done}/{ev.total} · {rate:.1f} passages/s{left}\n{ev.message}")
        elif isinstance(ev, FileIndexed):
            if ev.status != DocStatus.UNCHANGED:
                self._upsert(ev.path, ev.status, ev.pages, ev.chunks, ev.reason)
                self._update_summary()
        elif isinstance(ev, IndexDone):
            self.progress.setRange(0, 1)
            self.progress.setValue(1)

    # ---- drag and drop ----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.paths_dropped.emit(paths)
            event.acceptProposedAction()
