"""One rule for "will this model fit in memory" (llm.memory_fit), and one page-label format."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from medsearch_app.core.llm.gguf import estimate_memory_bytes, read_gguf
from medsearch_app.core.llm.models import default_model_path
from medsearch_app.core.llm.runtime import LlmRuntime, NotEnoughMemory, memory_fit
from medsearch_app.core.types import page_ref, printed_label


@pytest.fixture
def free(monkeypatch: pytest.MonkeyPatch):
    """Set the RAM psutil reports as available: free(n_bytes)."""
    real = psutil.virtual_memory()

    def set_free(n: int) -> None:
        class Vm:
            available = n
            total = real.total

        monkeypatch.setattr(psutil, "virtual_memory", lambda: Vm())

    return set_free


def test_fits_when_need_is_below_free_memory(free) -> None:
    info = read_gguf(default_model_path())
    need = estimate_memory_bytes(info, 2048)
    free(need + 1)
    fit = memory_fit(info, 2048, 0)
    assert fit.fits and fit.message == ""
    assert fit.need == need and fit.available == need + 1 and fit.n_ctx == 2048


def test_refused_with_a_message_when_it_will_not_fit(free) -> None:
    info = read_gguf(default_model_path())
    free(10 * 2**20)
    fit = memory_fit(info, 2048, 0)
    assert not fit.fits
    assert "needs about" in fit.message and "is free" in fit.message
    assert info.path.name in fit.message and "2048 tokens" in fit.message


def test_memory_held_by_the_loaded_model_counts_as_free(free) -> None:
    info = read_gguf(default_model_path())
    need = estimate_memory_bytes(info, 2048)
    free(need // 2)
    assert not memory_fit(info, 2048, 0).fits
    fit = memory_fit(info, 2048, 0, held_bytes=need)
    assert fit.fits and fit.held == need and fit.available == need // 2 + need
    too_little = memory_fit(info, 2048, 0, held_bytes=1)
    assert "would be free" in too_little.message


def test_gpu_offload_is_not_refused_on_ram(free) -> None:
    info = read_gguf(default_model_path())
    free(1)
    assert memory_fit(info, 2048, gpu_layers=10).fits


def test_context_is_capped_at_the_trained_length(free) -> None:
    info = read_gguf(default_model_path())
    free(2**40)
    assert info.context_length
    fit = memory_fit(info, info.context_length * 4, 0)
    assert fit.n_ctx == info.context_length
    assert fit.need == estimate_memory_bytes(info, info.context_length)


def test_runtime_uses_the_same_rule(free) -> None:
    llm = LlmRuntime(default_model_path(), n_ctx=1024)
    free(10 * 2**20)
    expected = memory_fit(read_gguf(default_model_path()), 1024, 0)
    with pytest.raises(NotEnoughMemory) as err:
        llm.check_fits()
    assert str(err.value) == expected.message
    assert llm.check_fits(held_bytes=2**40).fits


def test_engine_holds_nothing_before_a_model_is_loaded(home: Path) -> None:
    from medsearch_app.core.engine import Engine

    eng = Engine()
    try:
        assert eng.held_model_bytes() == 0
        eng.llm  # created, not loaded  # noqa: B018
        assert eng.held_model_bytes() == 0
    finally:
        eng.close()


@pytest.mark.parametrize(("page", "label", "ref"), [
    (None, None, ""),
    (None, "x", ""),
    (3, None, ", page 3"),
    (3, "3", ", page 3"),
    (3, "iii", ", page 3 (printed iii)"),
    (12, "S4", ", page 12 (printed S4)"),
])
def test_page_ref(page: int | None, label: str | None, ref: str) -> None:
    assert page_ref(page, label) == ref
    assert printed_label(page, label) == (f" (printed {label})" if ref.endswith(")") else "")
