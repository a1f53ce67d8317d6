"""Which quant level to use: the smallest that meets a quality budget, a speed target and the
memory free, from the levels a comparison (core/quant/compare/) measured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..llm.gguf import read_gguf
from ..llm.runtime import memory_fit
from .compare.results import LevelResult


@dataclass(frozen=True)
class Budget:
    """What a level must meet: quality (same-top % and/or KLD) and speed (tokens/s and/or time
    to first token). None: no requirement."""

    min_same_top_pct: float | None = 90.0
    max_kld: float | None = None
    min_tokens_per_s: float | None = None
    max_ttft_ms: float | None = None


@dataclass(frozen=True)
class Recommendation:
    quant: str | None  # None: no level meets the budget
    file: str | None
    reason: str

    def to_json(self) -> dict[str, Any] | None:
        return {"quant": self.quant, "file": self.file, "reason": self.reason} \
            if self.quant else None


def _misses(r: LevelResult, b: Budget, fits: bool) -> list[str]:
    out = []
    if r.same_top_pct is None and r.kld_mean is None:
        return ["no question was measured (every one skipped: see the report)"]
    if b.min_same_top_pct is not None and (r.same_top_pct or 0.0) < b.min_same_top_pct:
        out.append(f"same-top {r.same_top_pct}% < {b.min_same_top_pct:g}%")
    if b.max_kld is not None and (r.kld_mean is None or r.kld_mean > b.max_kld):
        out.append(f"KLD {r.kld_mean} > {b.max_kld:g}")
    if b.min_tokens_per_s is not None and (r.tokens_per_s or 0.0) < b.min_tokens_per_s:
        out.append(f"{r.tokens_per_s} tokens/s < {b.min_tokens_per_s:g}")
    if b.max_ttft_ms is not None and (r.ttft_ms is None or r.ttft_ms > b.max_ttft_ms):
        out.append(f"first token {r.ttft_ms} ms > {b.max_ttft_ms:g} ms")
    if not fits:
        out.append("does not fit in the memory free now")
    return out


def level_fits(levels: list[LevelResult], *, n_ctx: int = 2048,
               held_bytes: int = 0) -> dict[str, bool]:
    """Whether each level's file fits in the memory free now (memory_fit, the app's one rule),
    by file name; a level whose file is gone counts as fitting (nothing to check)."""
    out = {}
    for r in levels:
        path = Path(r.path)
        out[r.file] = (memory_fit(read_gguf(path), n_ctx, 0, held_bytes).fits
                       if path.is_file() else True)
    return out


def recommend(levels: list[LevelResult], budget: Budget,
              fits: dict[str, bool] | None = None) -> Recommendation:
    """The smallest level (by file size) that meets the quality budget, the speed target and
    the memory free (`fits`, from level_fits; computed now when not given), with the measured
    reason, or why none does."""
    fits = fits if fits is not None else level_fits(levels)
    why_not: list[str] = []
    for r in sorted(levels, key=lambda r: r.file_mb):
        misses = _misses(r, budget, fits.get(r.file, True))
        if not misses:
            parts = [f"the smallest level ({r.file_mb:g} MiB) that meets the budget"]
            if r.same_top_pct is not None:
                parts.append(f"same-top {r.same_top_pct}%")
            if r.kld_mean is not None:
                parts.append(f"KLD {r.kld_mean:.4f}")
            if r.tokens_per_s is not None:
                parts.append(f"{r.tokens_per_s} tokens/s")
            if r.ttft_ms is not None:
                parts.append(f"first token {r.ttft_ms:.0f} ms")
            return Recommendation(r.quant, r.file, f"{r.quant}: " + ", ".join(parts))
        why_not.append(f"{r.quant}: {'; '.join(misses)}")
    return Recommendation(None, None, "no level meets the budget — " + " | ".join(why_not))
