"""Quant ladder from the default model, level switching through the Engine, memory on switch."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from medsearch_app.core.llm.gguf import read_gguf
from medsearch_app.core.llm.models import default_model_path, discover, families
from medsearch_app.core.quant.quantize import QuantDone, QuantProgress, base_name, build_ladder

pytestmark = pytest.mark.slow

LEVELS = ["Q8_0", "Q4_K_M", "Q2_K"]


@pytest.fixture(scope="module")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ladder")
    events = list(build_ladder(default_model_path(), LEVELS, out))
    done = events[-1]
    assert isinstance(done, QuantDone), events
    assert not done.error and not done.cancelled
    assert any(isinstance(e, QuantProgress) for e in events)
    # The shipped file is Q4_1: F16 is made first and the requantization warning is given.
    assert done.warnings and "already quantized" in done.warnings[0]
    return {read_gguf(p).quant: p for p in done.built}


def test_ladder_levels_are_what_llama_cpp_reports(ladder: dict[str, Path]) -> None:
    assert set(ladder) == {"F16", *LEVELS}
    sizes = {q: p.stat().st_size for q, p in ladder.items()}
    assert sizes["F16"] > sizes["Q8_0"] > sizes["Q4_K_M"] > sizes["Q2_K"]
    assert base_name(ladder["Q8_0"]) == "SmolLM2-135M-Instruct"


def test_family_groups_levels_ordered_by_bits(ladder: dict[str, Path]) -> None:
    files, bad = discover([next(iter(ladder.values())).parent, default_model_path().parent])
    assert not bad
    fams = families(files)
    assert len(fams) == 1
    order = [m.quant for m in next(iter(fams.values()))]
    assert order == ["F16", "Q8_0", "Q4_1", "Q4_K_M", "Q2_K"]


def test_cancel_leaves_no_partial_file(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    events = list(build_ladder(default_model_path(), ["Q8_0"], tmp_path, cancel=cancel))
    assert isinstance(events[-1], QuantDone) and events[-1].cancelled
    assert list(tmp_path.glob("*.gguf")) == [] and list(tmp_path.glob("*.part")) == []


def test_unknown_level_is_refused(tmp_path: Path) -> None:
    done = list(build_ladder(default_model_path(), ["Q9_Z"], tmp_path))[-1]
    assert isinstance(done, QuantDone) and "unknown quant level" in done.error


def test_switching_changes_loaded_level_and_answer(ladder: dict[str, Path], home: Path,
                                                   embedder: object) -> None:
    from medsearch_app.core.engine import Engine
    from medsearch_app.core.types import AnswerDone

    (home / "notes").mkdir()
    (home / "notes" / "inr.txt").write_text(
        "Warfarin: the INR target for atrial fibrillation is 2.0 to 3.0. Check INR weekly "
        "until stable.", encoding="utf-8")
    eng = Engine()
    eng._embedder = embedder  # type: ignore[assignment]  # share the session's model
    try:
        list(eng.library.index_paths([home / "notes"]))
        seen = []
        for q in ("Q8_0", "Q4_K_M", "Q2_K"):
            rep = eng.switch_model(ladder[q])
            assert rep.quant == q
            # llama.cpp's own view of the loaded file agrees with the header reader.
            assert int(eng.llm._llm.metadata["general.file_type"]) == read_gguf(ladder[q]).metadata[
                "general.file_type"]
            done = next(e for e in eng.ask("What is the INR target for warfarin?",
                                       options=eng.ask_options(max_tokens=16))
                    if isinstance(e, AnswerDone))
            assert done.quant == q and done.model_file == ladder[q].name
            seen.append(rep)
        assert [r.old_quant for r in seen] == [None, "Q8_0", "Q4_K_M"]
    finally:
        eng._embedder = None
        eng.close()


def test_rss_falls_from_f16_to_4bit(ladder: dict[str, Path], home: Path) -> None:
    from medsearch_app.core.engine import Engine

    eng = Engine()
    try:
        big = eng.switch_model(ladder["F16"])
        small = eng.switch_model(ladder["Q4_K_M"])
        # Closing F16 releases memory; the 4-bit level takes less than F16 did.
        assert small.taken_mb < big.taken_mb, (big, small)
        assert small.released_mb > 0, small
    finally:
        eng.close()


def test_level_too_large_for_memory_is_refused(ladder: dict[str, Path], home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    from medsearch_app.core.engine import Engine
    from medsearch_app.core.llm.runtime import NotEnoughMemory

    eng = Engine()
    try:
        eng.switch_model(ladder["Q2_K"])
        real = psutil.virtual_memory()

        class Tiny:
            available = 10 * 2**20
            total = real.total

        monkeypatch.setattr(psutil, "virtual_memory", lambda: Tiny())
        with pytest.raises(NotEnoughMemory, match="needs about"):
            eng.switch_model(ladder["F16"])
        assert eng.llm.quant == "Q2_K"  # the loaded level keeps answering
    finally:
        eng.close()


def test_levels_of_an_installed_model_go_to_the_models_folder(tmp_path: Path) -> None:
    """The shipped model lives in an installed package: its ladder is never written there, while
    a model in the user's own writable folder gets its levels beside it."""
    from medsearch_app.core.quant.quantize import ladder_folder

    models = tmp_path / "models"
    assert ladder_folder(default_model_path(), models) == models
    own = tmp_path / "mine" / "x.gguf"
    own.parent.mkdir()
    own.write_bytes(b"GGUF")
    assert ladder_folder(own, models) == own.parent.resolve()


def test_cli_quantize_default_writes_nothing_into_the_package(tmp_path: Path) -> None:
    """`medsearch quantize` on the default model: the levels land in the data folder's models
    folder and the package folder holds only what it shipped with."""
    import os
    import subprocess
    import sys

    pkg = default_model_path().parent
    before = sorted(p.name for p in pkg.iterdir())
    env = {**os.environ, "MEDSEARCH_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "medsearch_app", "quantize", "default",
                        "--levels", "Q8_0"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in pkg.iterdir()) == before
    built = sorted(p.name for p in (tmp_path / "home" / "models").glob("*.gguf"))
    assert any(".Q8_0." in n for n in built), built
