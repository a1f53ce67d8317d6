"""A level switch loads the model without holding the lock the library path takes."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from medsearch_app.core.engine import Engine
from medsearch_app.core.llm import LlmRuntime
from medsearch_app.core.models import default_model_path
from medsearch_app.core.settings import Settings


def test_library_answers_while_a_model_loads(home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_load(self: LlmRuntime) -> None:
        started.set()
        release.wait(10)  # a model load that takes as long as the test needs

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
        assert started.wait(10), "the load never started"
        t0 = time.perf_counter()
        lib = eng.library
        waited = time.perf_counter() - t0
        assert lib is sentinel
        assert waited < 0.1, f"engine.library waited {waited:.3f} s for the model load"
        assert th.is_alive()  # the load really was still running
    finally:
        release.set()
        th.join(10)
    assert not errors, errors
    assert eng._llm is not None and eng._llm.path == target
    assert eng.settings.model_path == str(target)
    eng._library = None
    eng.close()
