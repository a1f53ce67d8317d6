"""Test doubles that subclass what they stand in for (so a change to the real interface breaks
them at once, and mypy checks them like the real thing). Imported by conftest.py and the tests
that need one (tests/ is on sys.path)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from medsearch_app.core.embedding.base import Embedder, Precision


class HashEmbedder(Embedder):
    """A cheap stand-in embedder: deterministic bag-of-words vectors (crc32 of each word).

    With `real`, token offsets come from the real embedder's tokenizer (chunks then have the
    real sizes); without, from whitespace (Embedder's default). For tests about bookkeeping and
    answer logic, where the cost of real embeddings buys nothing.
    """

    name = "hash-test"
    max_tokens = 256
    precision = Precision.FP32

    def __init__(self, real: Embedder | None = None, *, dim: int = 32) -> None:
        self._real = real
        self.dim = dim

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        if self._real is None:
            return super().token_offsets(text)
        return self._real.token_offsets(text)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
            out[i, 0] += 1e-3  # never the zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)
