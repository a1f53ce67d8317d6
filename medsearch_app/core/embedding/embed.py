"""Sentence embedders at selectable precisions; one abstract method, embed_batch().

Precisions: fp32 (reference) and int8 (dynamic int8 quantization of every nn.Linear, torch's
`quantize_dynamic`) run the sentence-transformers model on torch; onnx-fp32 and onnx-int8 run
the same model exported to ONNX on ONNX Runtime (embed_onnx.py: exported once, cached in the
data folder, no torch at run time). Each (embedder, precision) pair gets its own vector index, so
vectors of different precisions never mix.

torch's thread count is process-wide (one intra-op pool), so it is never set by building an
embedder: configure_torch_threads() is the one, explicit place, called where a session decides
its thread count (Engine when it creates its embedder, the CLI's evaluation command).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInput
from ..system import offline  # noqa: F401  (sets HF_HUB_OFFLINE before model libraries load)
from .base import Embedder, Precision, default_embedder_path, model_name

log = logging.getLogger(__name__)


def configure_torch_threads(n: int) -> None:
    """Make torch use `n` threads for embedding in this whole process (n <= 0: leave it).

    Process-wide: it affects every embedder in the process, so call it once where the thread
    count is decided (normally with settings.effective_threads), before embedding starts.
    Calling it again with the same number does nothing."""
    if n <= 0:
        return
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
        log.info("torch uses %d threads", n)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model folder loaded offline, optionally int8-quantized."""

    def __init__(self, path: Path | None = None, *, precision: Precision = Precision.FP32,
                 batch_size: int = 32) -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        self.path = Path(path) if path else default_embedder_path()
        if not (self.path / "config.json").exists() and not (self.path / "modules.json").exists():
            raise FileNotFoundError(f"{self.path} is not a sentence-transformers model folder")
        self.precision = precision
        self.batch_size = batch_size
        model: Any = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        model.eval()
        if precision is Precision.INT8:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from torch.ao.quantization import quantize_dynamic

                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self._model = model
        self._tokenizer = model.tokenizer
        self.dim = int(model.get_embedding_dimension()
                       if hasattr(model, "get_embedding_dimension")
                       else model.get_sentence_embedding_dimension())
        self.max_tokens = int(model.max_seq_length or 256)
        self.name = model_name(self.path)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            vecs = self._model.encode(
                list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        enc = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                              truncation=False, verbose=False)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"] if b > a]

    def close(self) -> None:
        self._model = None
        self._tokenizer = None


def onnx_cache_root() -> Path:
    """Where ONNX exports are kept: $MEDSEARCH_EMBEDDER_CACHE, else the data folder's
    `embedders/`."""
    from ..settings import data_home

    return Path(os.environ.get("MEDSEARCH_EMBEDDER_CACHE") or data_home() / "embedders")


def needs_preparing(path: str | Path | None, precision: str | Precision) -> bool:
    """True when loading this embedder first exports it with torch (an ONNX precision not made
    yet and not shipped with the app: about 15 s). A shipped export is only quantized (seconds)."""
    prec = precision if isinstance(precision, Precision) else Precision.parse(precision)
    if not prec.onnx:
        return False
    from . import embed_onnx

    model_path = Path(path) if path else default_embedder_path()
    return embed_onnx.needs_export(model_path, onnx_cache_root())


DEVELOPER_INSTALL = "needs the developer install (pip install -e .), which has torch"


def unavailable(path: str | Path | None, precision: str | Precision) -> str | None:
    """Why this precision cannot run in this install, or None when it can. The torch precisions
    need torch, sentence-transformers and the model's weights; the installed app leaves torch
    out and runs the ONNX precisions from the export it ships."""
    import importlib.util

    prec = precision if isinstance(precision, Precision) else Precision.parse(precision)
    model_path = Path(path) if path else default_embedder_path()
    if prec.onnx:
        from . import embed_onnx

        if (embed_onnx.is_prepared(model_path, onnx_cache_root())
                or embed_onnx.shipped_export(model_path) or embed_onnx.torch_available()):
            return None
        return f"{prec.value} of {model_path.name} {DEVELOPER_INSTALL} to export it"
    if any(importlib.util.find_spec(m) is None for m in ("torch", "sentence_transformers")):
        return f"{prec.value} {DEVELOPER_INSTALL}"
    return None


def load_embedder(path: str | Path | None, precision: str | Precision,
                  *, threads: int | None = None, cache_root: Path | None = None) -> Embedder:
    """Load the configured embedder (empty path: the shipped default).

    `threads`, when given: for torch precisions it is applied with configure_torch_threads()
    first, a process-wide setting (pass settings.effective_threads(settings), as every caller
    in the app does); for ONNX precisions it is the session's own thread count.
    ONNX precisions are exported on first use into `cache_root` (default: $MEDSEARCH_EMBEDDER_CACHE
    or else the data folder's `embedders/`); needs_preparing() tells callers beforehand."""
    prec = precision if isinstance(precision, Precision) else Precision.parse(precision)
    model_path = Path(path) if path else default_embedder_path()
    if prec.onnx:
        from . import embed_onnx

        folder = embed_onnx.prepare(model_path, cache_root or onnx_cache_root())
        return embed_onnx.OnnxEmbedder(model_path, folder, prec, threads=threads or 0)
    why = unavailable(model_path, prec)
    if why:
        raise BadInput(f"embedder precision {why}")
    if threads:
        configure_torch_threads(threads)
    return SentenceTransformerEmbedder(model_path, precision=prec)
