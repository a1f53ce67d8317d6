"""The main window driven through its real flows with the real default models (offscreen Qt).

One window (module fixture `ui`, its own MEDSEARCH_HOME) serves these tests, in any order: first
run on the demo library (as recorded when it ended), adding a folder with a corrupt PDF, a
streamed cited answer and its citations, Stop, an unsupported question, export, and the GUI
thread kept running under load. Each test adds its own folders, asks its own questions and puts
back the settings it changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from ui_support import (
    ANSWER_TIMEOUT_S,
    INDEX_TIMEOUT_S,
    KAWASAKI,
    GapMeter,
    UiSession,
    write_garbage_pdf,
    write_notes,
    write_topic_pdf,
)

from medsearch_app.core.types import AnswerDone, Retrieved, Token
from medsearch_app.ui.jobs import JobKind

pytestmark = pytest.mark.gui

CURB_QUESTION = "What does a CURB-65 score of 3 mean?"
# The default model answers this one at length (it fills 300 tokens).
LONG_QUESTION = ("Explain in detail, step by step, the whole guideline for community-acquired "
                 "pneumonia: severity scoring, antibiotics for each severity, oxygen targets, "
                 "investigations, duration of treatment and follow-up.")
UNSUPPORTED_QUESTION = "What is the recommended dose of natalizumab for multiple sclerosis?"


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _answer_events(ui: UiSession, job: int) -> tuple[list[Any], AnswerDone]:
    evs = ui.events.of(job)
    done = [e for e in evs if isinstance(e, AnswerDone)]
    assert len(done) == 1, f"expected one AnswerDone, got {[type(e).__name__ for e in evs]}"
    return evs, done[0]


def _squash(text: str) -> str:
    return " ".join(text.replace("\u2029", " ").split())


# ---- 1. first run ------------------------------------------------------------------------------

def test_first_run_indexes_the_demo_library(ui: UiSession) -> None:
    win, first = ui.win, ui.first_run
    assert first is not None
    assert win.ready
    assert "Q4_1" in win.windowTitle()
    assert win.ask_panel.ask_button.isEnabled()

    done = first.done
    assert not done.cancelled
    assert done.failed == []
    assert done.added == 5 and done.chunks > 0

    from medsearch_app.demo import resources_dir

    demo = ui.home / "demo"
    note_names = sorted(p.name for p in (resources_dir() / "demo" / "notes").iterdir()
                        if p.is_file() and not p.name.startswith("."))
    assert len(note_names) == 4
    expected = [demo / "guideline.pdf", *(demo / "notes" / n for n in note_names)]
    listed = sorted(name for name, _ in first.documents.values())
    assert listed == sorted(p.name for p in expected)
    for p in expected:
        assert first.documents[str(p.resolve())][1] == "Indexed", p.name
    assert f"5 documents, {done.chunks} passages" in first.summary

    # The progress bar moved through the passages and ended full, then hid.
    passage_steps = [(v, m) for v, m in first.progress_values if m > 1]
    assert passage_steps, f"no passage progress seen: {first.progress_values}"
    assert passage_steps[-1][0] == passage_steps[-1][1], passage_steps
    value, maximum, hidden = first.bar
    assert value == maximum
    assert hidden and first.cancel_hidden
    assert first.status_message.startswith("Library up to date")


# ---- 2. adding a folder with a corrupt PDF -----------------------------------------------------

def test_add_folder_with_corrupt_pdf(ready_ui: UiSession, qtbot: Any, tmp_path: Path) -> None:
    win = ready_ui.win
    folder = tmp_path / "added"
    good = write_topic_pdf(folder / "kawasaki_disease.pdf", "Kawasaki disease", KAWASAKI)
    bad = write_garbage_pdf(folder / "corrupt.pdf")
    before = win.last_index
    win.add_paths([folder])
    # Indexing runs as a job off the GUI thread: add_paths returns before the work is done
    # (nothing is indexed yet as far as the window knows), the job is still running and the
    # panel offers Cancel.
    assert win.last_index is before
    assert win.library_panel.document_status(str(good.resolve())) != "Indexed"
    assert win.jobs.jobs(JobKind.INDEX, queued=False), "no indexing job is running"
    assert win.library_panel.cancel.isVisibleTo(win.library_panel)
    qtbot.waitUntil(lambda: win.last_index is not before and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))

    done = win.last_index
    assert done.added == 1 and not done.cancelled
    assert [f.path for f in done.failed] == [str(bad.resolve())]

    panel = win.library_panel
    assert panel.document_status(str(good.resolve())) == "Indexed"
    status = panel.document_status(str(bad.resolve()))
    assert status is not None and status.startswith("Failed"), status
    reason = status.removeprefix("Failed").lstrip(": ").strip()
    # A readable reason a physician understands: words, one line, no traceback.
    assert len(reason) >= 10 and "\n" not in reason and "Traceback" not in reason, reason
    assert re.search(r"[A-Za-z]{4,}", reason), reason
    assert "could not be indexed" in panel.summary.text()
    assert "1 could not be indexed" in win.statusBar().currentMessage()


def test_watched_folder_change_is_indexed_without_asking(ready_ui: UiSession, qtbot: Any,
                                                          tmp_path: Path) -> None:
    win = ready_ui.win
    folder = tmp_path / "watched"
    write_notes(folder, 1, tag="first")
    before = win.last_index
    win.add_paths([folder])
    qtbot.waitUntil(lambda: win.last_index is not before and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))
    assert str(folder.resolve()) in win.watcher.directories()
    # A new note dropped into the folder by another program is picked up by the watcher.
    new = folder / "new_note_hyperkalaemia.txt"
    new.write_text("Hyperkalaemia: potassium above 6.0 mmol/L needs an ECG and calcium "
                   "gluconate 10 mL of 10% intravenously.", encoding="utf-8")
    seen = win.last_index
    qtbot.waitUntil(lambda: win.last_index is not seen and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))
    assert win.last_index.added == 1, win.last_index
    assert win.library_panel.document_status(str(new.resolve())) == "Indexed"


def test_remove_runs_off_the_gui_thread_and_drops_the_documents(ready_ui: UiSession,
                                                                 qtbot: Any,
                                                                 tmp_path: Path) -> None:
    win = ready_ui.win
    folder = tmp_path / "to_remove"
    notes = write_notes(folder, 2, tag="rm")
    before = win.last_index
    win.add_paths([folder])
    qtbot.waitUntil(lambda: win.last_index is not before and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))
    assert all(win.library_panel.document_status(str(n.resolve())) == "Indexed" for n in notes)
    win.remove_paths([str(folder.resolve())])
    # The removal is a job: the call returns before it is done and the list is unchanged
    # until it ends.
    assert win.jobs.busy(JobKind.REMOVE)
    assert win.library_panel.document_status(str(notes[0].resolve())) == "Indexed"
    qtbot.waitUntil(lambda: not win.jobs.busy(JobKind.REMOVE)
                    and win.library_panel.document_status(str(notes[0].resolve())) is None,
                    timeout=_ms(60))
    assert "Removed 2 document(s)" in win.statusBar().currentMessage()
    lib = win.engine.library
    assert lib.pending_ids() == ([], [])  # their vectors went with them

    # File > Check library: the same check as `medsearch library`, run as a job, with a
    # dialog that does not block the window.
    win.library.check()
    qtbot.waitUntil(lambda: win.library.last_check is not None, timeout=_ms(60))
    chk = win.library.last_check
    assert chk.consistent and chk.pending == 0
    assert len(chk.documents) == len(lib.store.documents()) and chk.chunks == len(lib.index)
    assert win.check_box.isVisible() and "agree" in win.check_box.text()
    assert "database and index agree" in win.statusBar().currentMessage()
    win.check_box.close()


# ---- 3. a streamed, cited answer -----------------------------------------------------------------

def test_ask_streams_tokens_and_citations_open_the_pdf_page(ready_ui: UiSession,
                                                          qtbot: Any) -> None:
    win, panel = ready_ui.win, ready_ui.win.ask_panel
    job = win.ask(CURB_QUESTION).id
    assert panel.stop_button.isEnabled() and not panel.ask_button.isEnabled()
    qtbot.waitUntil(lambda: win.answer_job is None, timeout=_ms(ANSWER_TIMEOUT_S))

    evs, done = _answer_events(ready_ui, job)
    assert isinstance(evs[0], Retrieved) and evs[-1] is done
    tokens = [e for e in evs if isinstance(e, Token)]
    assert len(tokens) > 1, "the answer did not stream"
    assert done.supported and not done.stopped

    qa = panel.current
    assert qa is not None and qa.question == CURB_QUESTION and qa.done is done
    assert panel.answer.toPlainText().strip()
    assert qa.sources, "no sources shown"
    assert panel.sources.toPlainText().count("[1]") >= 1
    # Every source is a link (the answer's own [n] links: test_answer_citations_are_links).
    assert "cite:1" in panel.sources.toHtml()
    assert panel.ask_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.export_md.isEnabled() and panel.export_pdf.isEnabled()

    # Clicking [n] (the anchor path of the answer and sources panes) opens the PDF at its page.
    n = next((i for i, h in enumerate(qa.sources, 1) if h.path.lower().endswith(".pdf")), None)
    assert n is not None, f"no PDF among the sources: {[h.path for h in qa.sources]}"
    hit = qa.sources[n - 1]
    clicked: list[Any] = []
    panel.citation_clicked.connect(clicked.append)
    try:
        panel._anchor(QUrl(f"cite:{n}"))
    finally:
        panel.citation_clicked.disconnect(clicked.append)
    assert clicked == [hit]
    viewer = win.viewer
    assert viewer.stack.currentWidget() is viewer.pdf
    assert viewer.current_path == hit.path
    assert hit.page is not None and viewer.current_page == hit.page
    assert viewer.doc.pageCount() >= hit.page
    assert viewer.pdf.page == hit.page - 1
    assert f"page {hit.page}" in viewer.title.text()
    assert win.statusBar().currentMessage().startswith("Opened ")

    # A link past the last source does nothing.
    panel._anchor(QUrl(f"cite:{len(qa.sources) + 1}"))
    assert viewer.current_path == hit.path


def test_answer_citations_are_links(qtbot: Any, tmp_path: Path) -> None:
    """Each [n] of a finished answer is a link to source n (a fixed answer: the model's own
    answers do not always cite)."""
    from medsearch_app.core.types import Citation, Hit, Retrieved, Timings
    from medsearch_app.ui.widgets.ask_panel import AskPanel

    panel = AskPanel()
    qtbot.addWidget(panel)
    text = "A CURB-65 score of 3 to 5 means severe pneumonia: admit to hospital."
    hits = [Hit(1, 7, str(tmp_path / "cap.pdf"), 2, "2", 0.9, text),
            Hit(2, 8, str(tmp_path / "note.txt"), None, None, 0.8, "Admitted with CURB-65 3.")]
    answer = "Admit to hospital [1]. The patient was admitted [2]."
    done = AnswerDone(answer=answer, supported=True, sources=hits,
                      citations=[Citation(1, hits[0].path, 2, "2", text[:40], 7),
                                 Citation(2, hits[1].path, None, None, "Admitted", 8)],
                      timings=Timings(1.0, 2.0, 10, 100.0, 5, 50.0, 10.0),
                      model_file="m.gguf", quant="Q4_1", embedder="mini", precision="fp32")
    panel.begin(CURB_QUESTION)
    panel.on_event(Retrieved(hits, 1.0, True, "", []))
    panel.on_event(done)
    html = panel.answer.toHtml()
    assert "cite:1" in html and "cite:2" in html and "cite:3" not in html


def test_note_citation_opens_the_note_with_the_passage_marked(ready_ui: UiSession) -> None:
    win = ready_ui.win
    res = win.engine.retriever.search(
        "pneumonia admission note CURB-65 amoxicillin clarithromycin", k=10)
    note = next((h for h in res.hits if h.page is None), None)
    assert note is not None, "no note passage found"
    win.open_citation(note)
    viewer = win.viewer
    assert viewer.stack.currentWidget() is viewer.note
    assert viewer.current_path == note.path and viewer.current_page is None
    sels = viewer.note.extraSelections()
    assert sels and sels[0].cursor.hasSelection()
    marked = _squash(sels[0].cursor.selectedText())
    assert marked.startswith(_squash(note.text)[:40]), (marked[:80], note.text[:80])
    assert viewer.note.toPlainText().strip()


# ---- 4. Stop -------------------------------------------------------------------------------------

def test_stop_ends_the_answer_between_tokens(ready_ui: UiSession, qtbot: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    win, panel = ready_ui.win, ready_ui.win.ask_panel
    monkeypatch.setattr(win.engine.settings, "max_tokens", 400)
    seen: list[str] = []
    stop_enabled: list[bool] = []

    def on_event(job: int, ev: object) -> None:
        if win.answer_job is not None and job == win.answer_job.id and isinstance(ev, Token):
            seen.append(ev.text)
            if len(seen) == 3:
                stop_enabled.append(panel.stop_button.isEnabled())
                panel.stop_button.click()  # -> stop_requested -> MainWindow.stop()

    win.jobs.yielded.connect(on_event)
    try:
        job = win.ask(LONG_QUESTION).id
        qtbot.waitUntil(lambda: win.answer_job is None, timeout=_ms(ANSWER_TIMEOUT_S))
    finally:
        win.jobs.yielded.disconnect(on_event)

    assert stop_enabled == [True]
    _, done = _answer_events(ready_ui, job)
    assert done.stopped
    assert done.timings.completion_tokens <= 6, done.timings
    assert not panel.stop_button.isEnabled()
    assert panel.ask_button.isEnabled()
    assert "stopped" in panel.state.text()
    assert win.statusBar().currentMessage() == "Answer stopped"


# ---- 5. unsupported question -------------------------------------------------------------------

def test_unsupported_question_is_refused_without_generation(ready_ui: UiSession) -> None:
    panel = ready_ui.win.ask_panel
    job = ready_ui.ask_and_wait(UNSUPPORTED_QUESTION)
    evs, done = _answer_events(ready_ui, job)
    assert not done.supported
    assert done.citations == []
    assert not any(isinstance(e, Token) for e in evs)
    assert "Not supported" in panel.answer.toPlainText()
    assert panel.ask_button.isEnabled() and not panel.stop_button.isEnabled()


# ---- 6. export -----------------------------------------------------------------------------------

def _check_exports(win: Any, qa: Any, folder: Path) -> str:
    from pypdf import PdfReader

    md, pdf = folder / "answer.md", folder / "answer.pdf"
    win.export(qa, md, "md")
    win.export(qa, pdf, "pdf")
    text = md.read_text(encoding="utf-8")
    assert qa.question in text
    assert "Sources" in text
    data = pdf.read_bytes()
    assert data[:4] == b"%PDF"
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 1
    first_words = qa.question.split()[:3]
    pdf_text = _squash(reader.pages[0].extract_text() or "")
    assert " ".join(first_words) in pdf_text, pdf_text[:200]
    return text


def test_export_markdown_and_pdf(ready_ui: UiSession, tmp_path: Path) -> None:
    win, panel = ready_ui.win, ready_ui.win.ask_panel
    ready_ui.ask_and_wait(UNSUPPORTED_QUESTION)
    qa = panel.current
    assert qa is not None and qa.done is not None
    assert panel.export_md.isEnabled() and panel.export_pdf.isEnabled()
    _check_exports(win, qa, tmp_path)
    assert win.statusBar().currentMessage().startswith("Exported to")


def test_export_lists_each_cited_source_with_its_file_and_page(ready_ui: UiSession,
                                                               tmp_path: Path) -> None:
    """A fixed answer citing a PDF page and a note (the model's own do not always cite)."""
    from medsearch_app.core.types import Citation, Timings
    from medsearch_app.ui.widgets.ask_panel import QA

    done = AnswerDone(
        answer="Admit to hospital [1]. The patient was admitted [2].", supported=True,
        citations=[Citation(1, "/lib/cap guideline.pdf", 2, "2", "CURB-65 3 to 5", 7),
                   Citation(2, "/lib/admission note.txt", None, None, "Admitted", 8)],
        timings=Timings(1.0, 2.0, 10, 100.0, 5, 50.0, 10.0), model_file="m.gguf",
        quant="Q4_1", embedder="mini", precision="fp32")
    qa = QA(CURB_QUESTION, done.answer, done)
    text = _check_exports(ready_ui.win, qa, tmp_path)
    assert "cap guideline.pdf" in text and "page 2" in text
    assert "admission note.txt" in text


# ---- 7. responsiveness -------------------------------------------------------------------------

def test_gui_thread_keeps_running_while_indexing_and_generating(
        ready_ui: UiSession, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: Any) -> None:
    """Indexing and an answer run at once, off the GUI thread: the GUI thread keeps serving its
    timer and both jobs' events meanwhile. How long it may stall is a measurement, made by
    bench/gui_stall.py (its target: under 50 ms), not a pass/fail limit here."""
    win = ready_ui.win
    folder = tmp_path / "many_notes"
    write_notes(folder, 30, tag="R")
    monkeypatch.setattr(win.engine.settings, "max_tokens", 200)
    before = win.last_index
    meter = GapMeter(10)
    ticks_with_both_running = 0

    def tick() -> None:
        nonlocal ticks_with_both_running
        if win.answer_job is not None and win.jobs.busy(JobKind.INDEX):
            ticks_with_both_running += 1

    meter.timer.timeout.connect(tick)
    meter.start()
    try:
        win.add_paths([folder])
        job = win.ask(LONG_QUESTION).id
        qtbot.waitUntil(lambda: win.answer_job is None and win.last_index is not before
                        and ready_ui.index_idle(),
                        timeout=_ms(INDEX_TIMEOUT_S + ANSWER_TIMEOUT_S))
    finally:
        meter.stop()

    done = win.last_index
    assert done.added == 30 and not done.failed
    evs, answer = _answer_events(ready_ui, job)
    n_tokens = sum(isinstance(e, Token) for e in evs)
    assert answer.supported and n_tokens > 1
    # The timer fired while both jobs were in flight: neither blocked the GUI thread.
    assert ticks_with_both_running > 0, "the GUI thread did not run while both jobs ran"
    with capsys.disabled():  # a figure for the log, not a limit
        print(f"\n[gui stall] indexing 30 notes + {n_tokens}-token answer: largest gap "
              f"{meter.max_ms:.1f} ms, p99 {meter.percentile(99):.1f} ms, "
              f"{len(meter.gaps_ms)} ticks of 10 ms; {ticks_with_both_running} with both "
              "jobs running")


def test_source_text_setting_shortens_the_prompt(ready_ui: UiSession, qtbot: Any) -> None:
    """Settings panel "Source text for the model": a number cuts each source to excerpts, so
    the same question's prompt is shorter; the quoted evidence does not change."""
    win = ready_ui.win
    spin = win.settings_panel.source_chars
    settings = win.engine.settings
    assert spin.value() == settings.source_chars == -1  # automatic by default
    assert spin.text() == "automatic"
    spin.stepBy(1)
    assert settings.source_chars == 0 and spin.text() == "whole passages"
    spin.stepBy(1)
    assert settings.source_chars == 200 and spin.text() == "200 characters"
    results = {}
    try:
        for chars in (0, 300):
            spin.setValue(chars)
            assert settings.source_chars == chars
            job = win.ask(CURB_QUESTION).id
            qtbot.waitUntil(lambda: win.answer_job is None, timeout=_ms(ANSWER_TIMEOUT_S))
            results[chars] = _answer_events(ready_ui, job)[1]
    finally:
        spin.setValue(-1)
    whole, cut = results[0], results[300]
    assert cut.timings.prompt_tokens < 0.75 * whole.timings.prompt_tokens, (
        cut.timings.prompt_tokens, whole.timings.prompt_tokens)
    assert [e.text for e in cut.evidence] == [e.text for e in whole.evidence]
