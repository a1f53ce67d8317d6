"""Jobs that meet in the real window (real default models): each pair that used to race.

- a precision swap asked for during indexing waits for it, and its index has every passage;
- a precision swap that lands during an answer waits for the answer to finish;
- a removal during a (slowed) level switch is not held up by the model load;
- a folder-watch sync during an answer indexes the new note and the answer completes.

This module opens its own window (its own MEDSEARCH_HOME); every test sets up what it needs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from ui_support import ANSWER_TIMEOUT_S, INDEX_TIMEOUT_S, UiSession, write_notes

from medsearch_app.core.engine import SwitchReport
from medsearch_app.core.llm import LlmRuntime
from medsearch_app.core.types import AnswerDone
from medsearch_app.ui.jobs import JobKind

pytestmark = [pytest.mark.gui, pytest.mark.slow]

LONG_QUESTION = ("Explain in detail, step by step, the whole guideline for community-acquired "
                 "pneumonia: severity scoring, antibiotics for each severity and follow-up.")


def _ms(s: float) -> int:
    return int(s * 1000)


def _answer(ui: UiSession, job_id: int) -> AnswerDone:
    return next(e for e in ui.events.of(job_id) if isinstance(e, AnswerDone))


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


def test_precision_swap_waits_for_the_answer_in_flight(ready_ui: UiSession,
                                                       qtbot: Any) -> None:
    win = ready_ui.win
    old = win.engine.precision.value
    target = "int8" if old == "fp32" else "fp32"
    win.engine.settings.max_tokens = 120
    job = win.ask(LONG_QUESTION)
    assert job is not None
    win.quant.switch_precision(target)
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
    # A model load as slow as a large model's: the real load, after a 4 s pause.
    real_load = LlmRuntime.load
    loading = []

    def slow_load(self: LlmRuntime) -> None:
        loading.append(time.monotonic())
        time.sleep(4.0)
        real_load(self)

    monkeypatch.setattr(LlmRuntime, "load", slow_load)
    n = len(win.switches)
    win.quant.switch_level(win.engine.model_path())
    qtbot.waitUntil(lambda: bool(loading), timeout=10_000)
    t0 = time.monotonic()
    win.remove_paths([str((tmp_path / "rm").resolve())])
    qtbot.waitUntil(lambda: not win.jobs.busy(JobKind.REMOVE), timeout=20_000)
    removed_after = time.monotonic() - t0
    assert len(win.switches) == n, "the level switch finished before the removal"
    assert removed_after < 3.5, f"removal waited {removed_after:.1f} s for the model load"
    assert win.library_panel.document_status(str(notes[0].resolve())) is None
    qtbot.waitUntil(lambda: len(win.switches) == n + 1, timeout=60_000)
    assert isinstance(win.switches[-1], SwitchReport)


def test_folder_sync_during_an_answer(ready_ui: UiSession, qtbot: Any, tmp_path: Path) -> None:
    win = ready_ui.win
    folder = tmp_path / "watched"
    write_notes(folder, 1, tag="W")
    before = win.last_index
    win.add_paths([folder])
    qtbot.waitUntil(lambda: win.last_index is not before and ready_ui.index_idle(),
                    timeout=_ms(INDEX_TIMEOUT_S))
    win.library.sync_timer.setInterval(200)
    win.engine.settings.max_tokens = 150
    job = win.ask(LONG_QUESTION)
    assert job is not None
    new = folder / "new_note_hyperkalaemia.txt"
    new.write_text("Hyperkalaemia: potassium above 6.0 mmol/L needs an ECG and calcium "
                   "gluconate 10 mL of 10% intravenously.", encoding="utf-8")
    seen = win.last_index
    # The sync runs beside the answer (indexing and answering do not conflict).
    qtbot.waitUntil(lambda: bool(win.jobs.jobs(JobKind.INDEX, queued=False))
                    or win.last_index is not seen, timeout=20_000)
    assert win.answer_job is not None, "the answer ended before the sync started"
    qtbot.waitUntil(lambda: win.last_index is not seen and ready_ui.index_idle()
                    and win.answer_job is None, timeout=_ms(ANSWER_TIMEOUT_S))
    assert win.last_index.added == 1
    assert win.library_panel.document_status(str(new.resolve())) == "Indexed"
    done = _answer(ready_ui, job.id)
    assert done.supported and not done.stopped and done.answer.strip()
