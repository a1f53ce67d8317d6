"""The GGUF header reader on the shipped model and on damaged files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medsearch_app.core.llm.gguf import GgufError, estimate_memory_bytes, read_gguf
from medsearch_app.core.llm.models import default_model_path


@pytest.fixture(scope="module")
def model() -> Path:
    return default_model_path()


def test_default_model_header(model: Path) -> None:
    info = read_gguf(model)
    assert info.arch == "llama"
    assert info.quant == "Q4_1"
    assert 100e6 <= info.n_params <= 200e6
    assert info.context_length == 8192
    assert info.version in (2, 3) and info.n_tensors > 0
    assert info.chat_template and "im_start" in info.chat_template
    # Vocabularies are skipped, not kept in memory.
    assert "tokenizer.ggml.tokens" not in info.metadata


def test_memory_estimate_exceeds_the_file(model: Path) -> None:
    info = read_gguf(model)
    small = estimate_memory_bytes(info, 512)
    big = estimate_memory_bytes(info, 8192)
    assert small > model.stat().st_size
    assert big > small  # the KV cache grows with the context


def test_truncated_copy_raises(model: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with model.open("rb") as f:
        cut.write_bytes(f.read(1000))
    with pytest.raises(GgufError, match="truncated"):
        read_gguf(cut)


def test_a_copy_cut_inside_its_tensor_data_is_refused_before_loading(model: Path,
                                                                     tmp_path: Path) -> None:
    """The header is whole but the weights are not (an interrupted copy): refused by the header
    reader, so llama.cpp is never asked to load it."""
    cut = tmp_path / "half.gguf"
    with model.open("rb") as f:
        cut.write_bytes(f.read(model.stat().st_size // 2))
    with pytest.raises(GgufError, match=r"truncated: the file \(.* MiB\) ends before"):
        read_gguf(cut)


def test_random_bytes_raise(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(GgufError):
        read_gguf(junk)


def test_magic_but_garbage_raises(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + os.urandom(4096))
    with pytest.raises(GgufError):
        read_gguf(junk)


def test_empty_and_missing_files_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(GgufError):
        read_gguf(empty)
    with pytest.raises(GgufError):
        read_gguf(tmp_path / "missing.gguf")
