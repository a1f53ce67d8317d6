"""The window shows evidence first and marks answer sentences their sources do not support."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from ui_support import ANSWER_TIMEOUT_S, UiSession

from medsearch_app.core.answer.verify import check_answer, summary_warning
from medsearch_app.core.types import (
    AnswerDone,
    Evidence,
    Hit,
    Retrieved,
    SentenceCheck,
    Timings,
    Token,
    Verdict,
)
from medsearch_app.ui.widgets.ask_panel import AskPanel

CURB = "What CURB-65 score means a patient with pneumonia should be admitted?"


def test_evidence_is_shown_before_the_first_token_and_opens_its_page(ready_ui: UiSession,
                                                                    qtbot: Any) -> None:
    win, panel = ready_ui.win, ready_ui.win.ask_panel
    seen_at_first_token: list[str] = []

    def on_event(_job: int, ev: object) -> None:
        if isinstance(ev, Token) and not seen_at_first_token:
            seen_at_first_token.append(panel.answer.toPlainText())

    win.jobs.yielded.connect(on_event)
    try:
        win.ask(CURB)
        qtbot.waitUntil(lambda: win.answer_job is None, timeout=int(ANSWER_TIMEOUT_S * 1000))
    finally:
        win.jobs.yielded.disconnect(on_event)
    qa = panel.current
    assert qa is not None and qa.evidence, "no evidence quoted"
    assert seen_at_first_token and "From your documents" in seen_at_first_token[0]
    assert "CURB-65 score 3 to 5" in seen_at_first_token[0]
    i = next(i for i, e in enumerate(qa.evidence) if "CURB-65 score 3 to 5" in e.text)
    ev = qa.evidence[i]
    assert ev.page == 2 and ev.path.endswith(".pdf")
    html = panel.answer.toHtml()
    assert f"evid:{i}" in html and html.index("From your documents") < html.index("Answer")

    clicked: list[Any] = []
    panel.citation_clicked.connect(clicked.append)
    try:
        panel._anchor(QUrl(f"evid:{i}"))
    finally:
        panel.citation_clicked.disconnect(clicked.append)
    assert len(clicked) == 1 and clicked[0].text == ev.text and clicked[0].page == 2
    assert win.viewer.current_path == ev.path and win.viewer.current_page == 2


def _done(answer: str, hits: list[Hit], evidence: list[Evidence]) -> AnswerDone:
    checks = check_answer(answer, hits)
    return AnswerDone(answer=answer, citations=[], supported=True,
                      timings=Timings(1.0, 2.0, 10, 100.0, 5, 50.0, 10.0), model_file="m.gguf",
                      quant="Q4_1", embedder="mini", precision="fp32", sources=hits,
                      evidence=evidence, sentences=checks, warning=summary_warning(checks))


def test_a_sentence_with_a_changed_dose_is_marked(qtbot: Any, tmp_path: Path) -> None:
    panel = AskPanel()
    qtbot.addWidget(panel)
    text = "Dexamethasone 0.15 mg/kg orally as a single dose for moderate croup."
    hits = [Hit(1, 7, str(tmp_path / "croup.txt"), None, None, 0.9, text)]
    evidence = [Evidence(1, text, hits[0].path, None, None, 7, 0, len(text), 0.8)]
    answer = ("The child was given dexamethasone 10 mg [1]. Dexamethasone 0.15 mg/kg was "
              "given orally as a single dose [1].")
    done = _done(answer, hits, evidence)
    assert [c.verdict for c in done.sentences] == [Verdict.NOT_FOUND, Verdict.SUPPORTED]
    panel.begin("How much dexamethasone did the infant get?")
    panel.on_event(Retrieved(hits, 1.0, True, "", evidence))
    panel.on_event(done)
    html = panel.answer.toHtml()
    plain = panel.answer.toPlainText()
    assert "From your documents" in plain
    assert "not found in the cited source" in plain and "“10 mg”" in plain
    flagged = html[html.index("10 mg") - 200:html.index("10 mg")]
    assert "#fde2e2" in flagged, "the failing sentence is not styled as flagged"
    assert plain.count("not found in the cited source") == 1  # the supported one is not marked
    assert done.warning == ""  # one of two fails: no "mostly fail" banner


def test_an_answer_that_mostly_fails_says_so_at_the_top(qtbot: Any, tmp_path: Path) -> None:
    panel = AskPanel()
    qtbot.addWidget(panel)
    text = "Hold two doses of warfarin, recheck INR in three days."
    hits = [Hit(1, 3, str(tmp_path / "inr.md"), None, None, 0.9, text)]
    done = _done("Give vitamin K 10 mg [1]. Review on April 20, 2024 [1].", hits, [])
    assert done.warning and all(c.supported is False for c in done.sentences)
    assert isinstance(done.sentences[0], SentenceCheck)
    panel.begin("What should be done about the high INR?")
    panel.on_event(done)
    plain = panel.answer.toPlainText()
    assert plain.lstrip().startswith("⚠ 2 of 2 sentences")
