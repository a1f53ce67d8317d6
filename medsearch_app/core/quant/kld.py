"""The quality measure of a quant level against a reference, as llama.cpp's
`llama-perplexity --kl-divergence` computes it: per position, the KL divergence of the level's
next-token distribution from the reference's, and whether their most likely tokens agree.

The reference distribution is kept as its top REF_TOP tokens plus one bucket for the rest of the
vocabulary (RefDist, saved as .npz), so the KLD is that of the coarsened distributions: never
more than the full KLD, and equal to it up to the mass outside the top (`tail_mass_sum`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

REF_TOP = 256


@dataclass(frozen=True)
class Agreement:
    """A level's next-token distributions against the reference's, over some positions."""

    kld_sum: float
    same_top: int
    positions: int
    tail_mass_sum: float

    @property
    def kld_mean(self) -> float | None:
        return self.kld_sum / self.positions if self.positions else None

    @property
    def same_top_pct(self) -> float | None:
        return 100.0 * self.same_top / self.positions if self.positions else None

    def __add__(self, other: Agreement) -> Agreement:
        return Agreement(self.kld_sum + other.kld_sum, self.same_top + other.same_top,
                         self.positions + other.positions,
                         self.tail_mass_sum + other.tail_mass_sum)


NO_AGREEMENT = Agreement(0.0, 0, 0, 0.0)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class RefDist:
    """The reference's continuation tokens and, per position, its top REF_TOP log-probs."""

    tokens: list[int]
    top_ids: np.ndarray  # positions x K, most likely first
    top_logp: np.ndarray  # positions x K, float64

    @classmethod
    def from_logits(cls, tokens: list[int], logits: np.ndarray, k: int = REF_TOP) -> RefDist:
        lp = log_softmax(logits)
        k = min(k, lp.shape[1]) if lp.size else k
        idx = np.argsort(-lp, axis=1, kind="stable")[:, :k]
        return cls(list(tokens), idx.astype(np.int32), np.take_along_axis(lp, idx, axis=1))

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, tokens=np.asarray(self.tokens, dtype=np.int64), top_ids=self.top_ids,
                 top_logp=self.top_logp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RefDist:
        with np.load(path) as z:
            return cls([int(t) for t in z["tokens"]], z["top_ids"], z["top_logp"])


def agreement(ref: RefDist, logits: np.ndarray) -> Agreement:
    """KLD(reference || level) over the coarsened distributions and same-top count."""
    n = min(len(ref.tokens), len(logits))
    if n == 0:
        return NO_AGREEMENT
    lq = log_softmax(logits[:n])
    lp = ref.top_logp[:n]
    ids = ref.top_ids[:n]
    lq_top = np.take_along_axis(lq, ids, axis=1)
    p_top = np.exp(lp)
    p_rest = np.clip(1.0 - p_top.sum(axis=1), 0.0, 1.0)
    q_rest = np.clip(1.0 - np.exp(lq_top).sum(axis=1), 1e-300, 1.0)
    kl = (p_top * (lp - lq_top)).sum(axis=1)
    tail = p_rest > 0
    kl[tail] += p_rest[tail] * (np.log(p_rest[tail]) - np.log(q_rest[tail]))
    same = int((lq.argmax(axis=1) == ids[:, 0]).sum())
    return Agreement(float(np.maximum(kl, 0.0).sum()), same, n, float(p_rest.sum()))
