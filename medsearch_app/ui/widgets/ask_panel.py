"""Ask pane: question box, streaming answer with [n] citation links, sources, history, export.

What the physician reads is shown without Markdown markup (widgets/markup.py): the quoted
evidence, the passages and the answer, also while it streams."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core.answer.verify import CITE
from ...core.text.query_words import query_terms
from ...core.types import AnswerDone, CitationMode, Evidence, Hit, Retrieved, Token, page_ref
from .markup import markup_spans, plain, quote

EVIDENCE_STYLE = "background:#eef6ee;border-left:4px solid #3a7d44;padding:6px"
FLAG_STYLE = "background-color:#fde2e2;color:#8a1c1c"


@dataclass
class QA:
    """One question and its answer in the session history."""

    question: str
    answer: str = ""
    done: AnswerDone | None = None
    sources: list[Hit] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


def source_title(h: Hit) -> str:
    """'file.pdf, page 3 (printed iii)'; a note: its file name."""
    return Path(h.path).name + page_ref(h.page, h.page_label)


def evidence_hit(e: Evidence) -> Hit:
    """The viewer opens a quoted sentence like a passage: its page, the sentence highlighted."""
    return Hit(rank=e.n, chunk_id=e.chunk_id, path=e.path, page=e.page, page_label=e.page_label,
               score=e.score, text=e.text, start=e.start, end=e.end)


def evidence_html(evidence: list[Evidence]) -> str:
    """The "From your documents" block: each quoted sentence a link to its page."""
    if not evidence:
        return ""
    items = "".join(
        f"<p style='margin:4px 0'>“{html.escape(quote(e.text))}” "
        f"<a href='evid:{i}'>{html.escape(source_title(evidence_hit(e)))}</a></p>"
        for i, e in enumerate(evidence))
    return (f"<div style='{EVIDENCE_STYLE}'><b>From your documents</b>{items}</div>"
            "<p><b>Answer</b> <span style='color:gray'>(written by the model; sentences not "
            "found in their source are marked)</span></p>")


def highlight(text: str, words: list[str]) -> str:
    """HTML of a passage (its markup out) with the question's words marked."""
    out = html.escape(" ".join(plain(text).split()))
    for w in sorted(set(words), key=len, reverse=True):
        if len(w) < 3:
            continue
        out = re.sub(rf"(?i)\b({re.escape(w)}\w*)", r"<b style='background:#fff2a8'>\1</b>", out)
    return out


class AskPanel(QWidget):
    """Emits ask/stop requests and citation clicks; shows what the controller feeds it."""

    ask_requested = Signal(str)
    stop_requested = Signal()
    citation_clicked = Signal(object)  # Hit
    export_requested = Signal(str)  # "md" or "pdf"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask a question about your documents, e.g. "
                                         "“What CURB-65 score needs hospital admission?”")
        self.question.setClearButtonEnabled(True)
        self.question.returnPressed.connect(self._ask)
        self.ask_button = QPushButton("Ask")
        self.ask_button.setDefault(True)
        self.ask_button.setToolTip("Ask (Enter or Ctrl+Enter)")
        self.ask_button.clicked.connect(self._ask)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_requested)
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(seq), self).activated.connect(self._ask)
        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.setContext(Qt.ShortcutContext.WindowShortcut)
        esc.activated.connect(self.stop_requested)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)

        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.answer = QTextBrowser()
        self.answer.setOpenLinks(False)
        self.answer.anchorClicked.connect(self._anchor)
        self.answer.setPlaceholderText("The answer appears here, with [n] links to its sources.")
        self.sources = QTextBrowser()
        self.sources.setOpenLinks(False)
        self.sources.anchorClicked.connect(self._anchor)
        self.history = QListWidget()
        self.history.itemActivated.connect(self._show_history)
        self.history.itemClicked.connect(self._show_history)
        self.export_md = QPushButton("Export Markdown…")
        self.export_pdf = QPushButton("Export PDF…")
        self.export_md.clicked.connect(lambda: self.export_requested.emit("md"))
        self.export_pdf.clicked.connect(lambda: self.export_requested.emit("pdf"))
        for b in (self.export_md, self.export_pdf):
            b.setEnabled(False)
        exp = QHBoxLayout()
        exp.addWidget(QLabel("<b>History</b>"))
        exp.addStretch(1)
        exp.addWidget(self.export_md)
        exp.addWidget(self.export_pdf)
        hist = QWidget()
        hl = QVBoxLayout(hist)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addLayout(exp)
        hl.addWidget(self.history)
        ans = QWidget()
        al = QVBoxLayout(ans)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(QLabel("<b>Answer</b>"))
        al.addWidget(self.answer)
        src = QWidget()
        sl = QVBoxLayout(src)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("<b>Sources</b>"))
        sl.addWidget(self.sources)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(ans)
        split.addWidget(src)
        split.addWidget(hist)
        split.setSizes([300, 260, 120])
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.state)
        lay.addWidget(split, 1)
        self.current: QA | None = None
        self.qas: list[QA] = []
        self._stream_at = 0  # where the streamed answer starts in the answer document
        self._streamed = ""  # the streamed answer as shown (its markup out)

    # ---- requests ---------------------------------------------------------------------------
    def _ask(self) -> None:
        q = self.question.text().strip()
        if q and self.ask_button.isEnabled():
            self.ask_requested.emit(q)

    def _anchor(self, url: QUrl) -> None:
        if self.current is None:
            return
        if url.scheme() == "evid":
            i = int(url.path()) if url.path().isdigit() else -1
            if 0 <= i < len(self.current.evidence):
                self.citation_clicked.emit(evidence_hit(self.current.evidence[i]))
            return
        if url.scheme() != "cite":
            return
        n = int(url.path() or url.host() or 0) if (url.path() or url.host()).isdigit() else 0
        srcs = self.current.sources
        if 1 <= n <= len(srcs):
            self.citation_clicked.emit(srcs[n - 1])

    def _show_history(self, item: QListWidgetItem) -> None:
        idx = int(item.data(Qt.ItemDataRole.UserRole))
        if 0 <= idx < len(self.qas) and self.qas[idx] is not self.current:
            self.current = self.qas[idx]
            self.question.setText(self.current.question)
            self._render_final()

    # ---- feeding ----------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.ask_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    def begin(self, question: str) -> None:
        self.current = QA(question)
        self.qas.append(self.current)
        item = QListWidgetItem(question)
        item.setData(Qt.ItemDataRole.UserRole, len(self.qas) - 1)
        self.history.insertItem(0, item)
        self.answer.clear()
        self.sources.clear()
        self.state.setText("Searching your documents…")
        self.set_busy(True)

    def on_event(self, ev: object) -> None:
        qa = self.current
        if qa is None:
            return
        if isinstance(ev, Retrieved):
            qa.sources = ev.hits
            qa.evidence = ev.evidence
            self.answer.setHtml(evidence_html(ev.evidence))
            cur = self.answer.textCursor()
            cur.movePosition(QTextCursor.MoveOperation.End)
            if ev.evidence:  # the streamed answer starts on a plain line of its own
                cur.insertBlock(QTextBlockFormat(), QTextCharFormat())
            self._stream_at, self._streamed = cur.position(), ""
            self._render_sources(qa)
            self.state.setText("Writing the answer…" if ev.supported else "")
        elif isinstance(ev, Token):
            qa.answer += ev.text
            self._stream(plain(qa.answer))
        elif isinstance(ev, AnswerDone):
            qa.done = ev
            qa.answer = ev.answer
            qa.sources = ev.sources or qa.sources
            qa.evidence = ev.evidence or qa.evidence
            self._render_final()
            self.set_busy(False)

    def _stream(self, shown: str) -> None:
        """Show the answer so far: append what is new, or rewrite the streamed part when a
        token changed what came before (a "*" that turned out to be half of "**")."""
        cur = self.answer.textCursor()
        cur.movePosition(QTextCursor.MoveOperation.End)
        if shown.startswith(self._streamed):
            cur.insertText(shown[len(self._streamed):], QTextCharFormat())
        else:
            cur.setPosition(min(self._stream_at, cur.position()),
                            QTextCursor.MoveMode.KeepAnchor)
            cur.insertText(shown, QTextCharFormat())
        self._streamed = shown
        self.answer.setTextCursor(cur)
        self.answer.ensureCursorVisible()

    def fail(self, message: str) -> None:
        self.state.setText(f"<span style='color:#a00'>Could not answer: "
                           f"{html.escape(message)}</span>")
        self.set_busy(False)

    # ---- rendering --------------------------------------------------------------------------
    def answer_html(self, qa: QA) -> str:
        """Evidence first, then the answer (its markup out) with every sentence its sources lack
        marked."""
        checks = qa.done.sentences if qa.done else []
        spans = markup_spans(qa.answer)  # the checks' offsets are in the answer with its markup

        def shown(start: int, end: int | None = None) -> str:
            return html.escape(plain(qa.answer, spans, start, end))

        parts: list[str] = []
        last = 0
        for c in checks:
            parts.append(shown(last, c.start))
            body = shown(c.start, c.end)
            if c.supported is False:
                body = (f"<span style='{FLAG_STYLE}' title='{html.escape(c.reason)}'>{body}</span>"
                        f" <span style='color:#a33'>⚠ {html.escape(c.verdict.value)}"
                        f"{': ' + html.escape(c.reason) if c.reason != c.verdict.value else ''}"
                        "</span>")
            parts.append(body)
            last = c.end
        parts.append(shown(last))
        text = CITE.sub(lambda m: f"<a href='cite:{m.group(1)}'>[{m.group(1)}]</a>",
                        "".join(parts)).replace("\n", "<br>")
        warning = qa.done.warning if qa.done else ""
        top = (f"<p style='{FLAG_STYLE};padding:4px'><b>⚠ {html.escape(warning)}</b></p>"
               if warning else "")
        return evidence_html(qa.evidence) + top + text

    def _render_final(self) -> None:
        qa = self.current
        if qa is None:
            return
        done = qa.done
        if done is not None and not done.supported and not done.citations:
            self.answer.setHtml(
                "<div style='background:#fdecea;padding:8px;border-radius:4px'>"
                "<b>Not supported by your documents.</b><br>"
                f"{html.escape(done.answer)}</div>")
        else:
            self.answer.setHtml(self.answer_html(qa))
        self._render_sources(qa)
        if done is not None:
            t = done.timings
            extra = " · stopped" if done.stopped else ""
            overlap = done.citation_mode in (CitationMode.ATTRIBUTED, CitationMode.MIXED)
            note = " · citations added by word overlap" if overlap else ""
            if done.supported and not done.citations and not done.stopped \
                    and done.citation_mode != CitationMode.NONE:
                note += (" · <b style='color:#a60'>no sentence of this answer matches a source: "
                         "check the sources below</b>")
            tok = f" · {t.tokens_per_s:.0f} tokens/s" if t.tokens_per_s else ""
            ttft = f" · first token {t.ttft_ms:.0f} ms" if t.ttft_ms else ""
            self.state.setText(f"{done.quant} · retrieval {t.retrieval_ms:.0f} ms{ttft}{tok} · "
                               f"total {t.total_ms / 1000:.1f} s{extra}{note}")
        for b in (self.export_md, self.export_pdf):
            b.setEnabled(done is not None)

    def _render_sources(self, qa: QA) -> None:
        words = query_terms(qa.question)
        cited = {c.n for c in qa.done.citations} if qa.done else set()
        parts = []
        for i, h in enumerate(qa.sources, 1):
            mark = " ✓ cited" if i in cited else ""
            parts.append(
                f"<p><a href='cite:{i}'><b>[{i}] {html.escape(source_title(h))}</b></a>"
                f" <span style='color:gray'>score {h.score:.3f}{mark}</span><br>"
                f"{highlight(h.text[:600], words)}</p>")
        self.sources.setHtml("".join(parts) or "<i>No passages found.</i>")
