"""A level switch loads the model without holding the lock the library path takes."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from medsearch_app.core.engine import Engine
from medsearch_app.core.llm.models import default_model_path
from medsearch_app.core.llm.runtime import LlmRuntime
from medsearch_app.core.settings import Settings


def test_library_answers_while_a_model_loads(home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_load(self: LlmRuntime) -> None:
        started.set()
        release.wait(300)  # a model load that lasts until the test lets it end

    monkeypatch.setattr(LlmRuntime, "load", slow_load)
    target = tmp_path / "other.gguf"
    shutil.copy(default_model_path(), target)
    eng = Engine(Settings())
    sentinel = object()
    eng._library = sentinel  # type: ignore[assignment]  # the library path, without an embedder
    errors: list[BaseException] = []

    def switch() -> None:
        try:
            eng.switch_model(target)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    th = threading.Thread(target=switch)
    th.start()
    try:
        assert started.wait(300), "the load never started"
        # The library path is taken while the load is held: if it waited for the load's lock
        # it could not return before `release` is set (the join only bounds a hang).
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(eng.library))
        reader.start()
        reader.join(120)
        assert not reader.is_alive(), "engine.library waited for the model load"
        assert got == [sentinel]
        assert not release.is_set() and th.is_alive()  # the load really was still running
    finally:
        release.set()
        th.join(300)
    assert not errors, errors
    assert eng._llm is not None and eng._llm.path == target
    assert eng.settings.model_path == str(target)
    eng._library = None
    eng.close()
