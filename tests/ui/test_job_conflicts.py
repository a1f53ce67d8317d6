"""Jobs that meet in the real window (real default models): each pair that used to race.

- a precision swap asked for during indexing waits for it, and its index has every passage;
- a precision swap that lands during an answer waits for the answer to finish;
- a removal during a (slowed) level switch is not held up by the model load;
- a folder-watch sync during an answer indexes the new note and the answer completes.

This module opens its own window (its own MEDSEARCH_HOME); every test sets up what it needs
and puts back the settings it changes, so the tests run in any order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_support import ANSWER_TIMEOUT_S, INDEX_TIMEOUT_S, UiSession, write_notes

from medsearch_app.core.engine import SwitchReport
from medsearch_app.core.llm.runtime import LlmRuntime
from medsearch_app.core.types import AnswerDone
from medsearch_app.ui.jobs import JobKind

pytestmark = [pytest.mark.gui, pytest.mark.slow]

LONG_QUESTION = ("Explain in detail, step by step, the whole guideline for community-acquired "
                 "pneumonia: severity scoring, antibiotics for each severity and follow-up.")


_HANG_S = 300.0  # bounds a hang only: each wait ends as soon as its condition holds


def _ms(s: float) -> int:
    return int(s * 1000)


def _answer(ui: UiSession, job_id: int) -> AnswerDone:
    return next(e for e in ui.events.of(job_id) if isinstance(e, AnswerDone))


def _hold_answers(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Answers stop after their first token until the test sets `go_on`: whatever runs
    meanwhile runs during an answer by construction, whatever the speed of either.
    Returns (first_token, go_on)."""
    real_stream = LlmRuntime.stream
    first_token, go_on = threading.Event(), threading.Event()

    def held_stream(self: LlmRuntime, prompt: str, **kw: Any) -> Iterator[str]:
        for i, piece in enumerate(real_stream(self, prompt, **kw)):
            yield piece
            if i == 0:
                first_token.set()
                go_on.wait(_HANG_S)

    monkeypatch.setattr(LlmRuntime, "stream", held_stream)
    return first_token, go_on


def test_precision_swap_during_indexing_waits_and_covers_every_passage(
        ready_ui: UiSession, qtbot: Any, tmp_path: Path) -> None:
    win = ready_ui.win
    target = "int8" if win.engine.precision.value == "fp32" else "fp32"
    before = win.last_index
    write_notes(tmp_path / "notes", 12, tag="P")
    win.add_paths([tmp_path / "notes"])
    assert win.jobs.jobs(JobKind.INDEX, queued=False)
    win.quant.switch_precision(target)
    # Queued behind indexing, not refused, not running beside it.
    assert win.jobs.jobs(JobKind.PRECISION) and not win.jobs.jobs(JobKind.PRECISION,
                                                                  queued=False)
    qtbot.waitUntil(lambda: win.engine.precision.value == target and not win.jobs.busy(),
                    timeout=_ms(INDEX_TIMEOUT_S * 2))
    assert win.last_index is not before and win.last_index.added == 12
    lib = win.engine.library
    assert lib.embedder.precision.value == target
    # The new precision's index holds every passage, the notes indexed meanwhile included.
    assert len(lib.index) == lib.store.chunk_count() > 0
    assert lib.pending_ids() == ([], [])
    assert win.settings_panel.precision.currentText() == target


def test_precision_swap_waits_for_the_answer_in_flight(ready_ui: UiSession, qtbot: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    win = ready_ui.win
    old = win.engine.precision.value
    target = "int8" if old == "fp32" else "fp32"
    monkeypatch.setattr(win.engine.settings, "max_tokens", 120)
    first_token, go_on = _hold_answers(monkeypatch)
    try:
        job = win.ask(LONG_QUESTION)
        assert job is not None
        qtbot.waitUntil(first_token.is_set, timeout=_ms(ANSWER_TIMEOUT_S))
        win.quant.switch_precision(target)
        # The other precision's index is built beside the answer; putting it in place waits.
        qtbot.waitUntil(lambda: bool(win.jobs.jobs(JobKind.SWAP)), timeout=_ms(INDEX_TIMEOUT_S))
        assert win.jobs.jobs(JobKind.SWAP, queued=False) == []
        assert win.engine.precision.value == old and win.answer_job is not None
    finally:
        go_on.set()
    qtbot.waitUntil(lambda: win.answer_job is None, timeout=_ms(ANSWER_TIMEOUT_S))
    done = _answer(ready_ui, job.id)
    assert done.precision == old  # the whole answer used the library it started with
    qtbot.waitUntil(lambda: win.engine.precision.value == target,
                    timeout=_ms(INDEX_TIMEOUT_S))
    after = ready_ui.ask_and_wait("What does a CURB-65 score of 3 mean?")
    assert _answer(ready_ui, after).precision == target


def test_removal_is_not_held_up_by_a_level_switch(ready_ui: UiSession, qtbot: Any,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    win = ready_ui.win
    notes = write_notes(tmp_path / "rm", 2, tag="L")
    before = win.last_index
    win.add_paths([tmp_path / "rm"])
    qtbot.waitUntil(lambda: win.last_index is not before and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))
    # A model load as slow as a large model's: the real load, once the test lets it go on.
    real_load = LlmRuntime.load
    loading, release = threading.Event(), threading.Event()

    def slow_load(self: LlmRuntime) -> None:
        loading.set()
        release.wait(_HANG_S)
        real_load(self)

    monkeypatch.setattr(LlmRuntime, "load", slow_load)
    n = len(win.switches)
    win.quant.switch_level(win.engine.model_path())
    try:
        qtbot.waitUntil(loading.is_set, timeout=_ms(_HANG_S))
        win.remove_paths([str((tmp_path / "rm").resolve())])
        # The removal ends while the load is still held: it did not wait for the model.
        qtbot.waitUntil(lambda: not win.jobs.busy(JobKind.REMOVE),
                        timeout=_ms(INDEX_TIMEOUT_S))  # less than the load is held
        assert not release.is_set()
        assert len(win.switches) == n, "the level switch finished before the removal"
        assert win.library_panel.document_status(str(notes[0].resolve())) is None
    finally:
        release.set()
    qtbot.waitUntil(lambda: len(win.switches) == n + 1, timeout=_ms(_HANG_S))
    assert isinstance(win.switches[-1], SwitchReport)


@pytest.fixture
def quick_sync(ready_ui: UiSession) -> Iterator[None]:
    """The folder-watch sync runs 200 ms after a change; the interval is put back after."""
    timer = ready_ui.win.library.sync_timer
    old = timer.interval()
    timer.setInterval(200)
    yield
    timer.setInterval(old)


def test_folder_sync_during_an_answer(ready_ui: UiSession, qtbot: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, quick_sync: None) -> None:
    win = ready_ui.win
    folder = tmp_path / "watched"
    write_notes(folder, 1, tag="W")
    before = win.last_index
    win.add_paths([folder])
    qtbot.waitUntil(lambda: win.last_index is not before and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))
    monkeypatch.setattr(win.engine.settings, "max_tokens", 150)
    first_token, go_on = _hold_answers(monkeypatch)
    try:
        job = win.ask(LONG_QUESTION)
        assert job is not None
        qtbot.waitUntil(first_token.is_set, timeout=_ms(ANSWER_TIMEOUT_S))
        new = folder / "new_note_hyperkalaemia.txt"
        new.write_text("Hyperkalaemia: potassium above 6.0 mmol/L needs an ECG and calcium "
                       "gluconate 10 mL of 10% intravenously.", encoding="utf-8")
        seen = win.last_index
        # The sync runs beside the answer (indexing and answering do not conflict).
        qtbot.waitUntil(lambda: win.last_index is not seen and ready_ui.index_idle(),
                        timeout=_ms(INDEX_TIMEOUT_S))
        assert win.answer_job is not None and win.answer_job.id == job.id
    finally:
        go_on.set()
    qtbot.waitUntil(lambda: win.answer_job is None, timeout=_ms(ANSWER_TIMEOUT_S))
    assert win.last_index.added == 1
    assert win.library_panel.document_status(str(new.resolve())) == "Indexed"
    done = _answer(ready_ui, job.id)
    assert done.supported and not done.stopped and done.answer.strip()
