"""Building a quant ladder with llama.cpp's own quantizer, one level per child process.

llama_model_quantize has no progress callback and cannot be interrupted, so each level runs in
a spawned child: Cancel kills it, and a level is written to a temporary name and renamed only
when complete, so a cancelled or crashed build never leaves a half-written model behind.
A quantized source (the shipped Q4_1) is first dequantized to F16, and every level is built from
that F16, never from another quantized level; requantizing loses quality, and the events say so.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MedSearchError
from ..llm.gguf import FTYPE_BY_NAME, GgufError, read_gguf

LADDER = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"]
UNQUANTIZED = {"F32", "F16", "BF16"}
# Bits per weight of each level, as llama.cpp's quantize tool lists them (for 7B-class models;
# close enough for an estimate of the files a ladder writes).
BITS_PER_WEIGHT = {"F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56,
                   "Q5_K_M": 5.69, "Q5_0": 5.5, "Q5_1": 6.0, "Q4_K_M": 4.89, "Q4_K_S": 4.58,
                   "Q4_0": 4.55, "Q4_1": 5.0, "Q3_K_M": 3.91, "Q3_K_S": 3.5, "Q2_K": 3.35}
# Seconds per GB written, measured building the 135M model's ladder on a 2-core VM (10 s for
# about 0.8 GB) and rounded up: an estimate for the question asked before a large build.
SECONDS_PER_GB = 15.0


def ladder_estimate(source: Path, levels: list[str]) -> tuple[int, float]:
    """Bytes the ladder's files will take and the seconds it will take to build them, estimated
    from the source file's size and level (a level the folder already has is counted too)."""
    info = read_gguf(source)
    src_bits = BITS_PER_WEIGHT.get(info.quant, 16.0)
    size = source.stat().st_size
    total = sum(int(size * BITS_PER_WEIGHT.get(lv.upper(), 16.0) / src_bits) for lv in levels
                if lv.upper() != info.quant)
    return total, total / 1e9 * SECONDS_PER_GB


@dataclass(frozen=True)
class QuantProgress:
    done: int
    total: int
    level: str
    message: str


@dataclass(frozen=True)
class QuantDone:
    built: list[Path]
    skipped: list[Path]
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False
    error: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"built": [str(p) for p in self.built], "skipped": [str(p) for p in self.skipped],
                "warnings": self.warnings, "error": self.error, "seconds": self.seconds}


class QuantizeError(MedSearchError):
    """A level could not be built; the message says why."""


def _child(src: str, dst: str, ftype: int, allow_requantize: bool, nthread: int) -> None:
    import logging

    import llama_cpp

    from ..llm.runtime import route_llama_logs

    logging.basicConfig(level=logging.ERROR)
    route_llama_logs()  # the per-tensor report goes to logging, not the terminal

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = nthread
    params.allow_requantize = allow_requantize
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
    raise SystemExit(0 if rc == 0 else 3)


def base_name(path: Path) -> str:
    """File stem without a trailing quant level ('Model.Q4_1.gguf' -> 'Model')."""
    stem = path.stem
    return re.sub(r"[.\-_](F32|F16|BF16|Q\d(_[0-9A-Z]+)*|IQ\d_[A-Z0-9_]+)$", "", stem,
                  flags=re.IGNORECASE)


def quantize_level(src: Path, dst: Path, level: str, *, allow_requantize: bool,
                   cancel: threading.Event | None = None, nthread: int = 0) -> bool:
    """Build one level in a child process; returns False if cancelled. Raises QuantizeError."""
    if level not in FTYPE_BY_NAME:
        raise QuantizeError(f"unknown quant level {level!r}")
    tmp = dst.with_name(dst.name + ".part")
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_child, daemon=True,
                       args=(str(src), str(tmp), FTYPE_BY_NAME[level], allow_requantize,
                             nthread or (os.cpu_count() or 1)))
    proc.start()
    try:
        while proc.is_alive():
            if cancel is not None and cancel.is_set():
                proc.kill()
                proc.join(5)
                return False
            proc.join(0.1)
        if proc.exitcode != 0 or not tmp.exists():
            raise QuantizeError(f"llama.cpp could not build {level} from {src.name} "
                                f"(exit code {proc.exitcode})")
        read_gguf(tmp)  # refuse to publish a file llama.cpp could not finish
        os.replace(tmp, dst)
        return True
    except GgufError as exc:
        raise QuantizeError(f"the {level} file came out unreadable: {exc}") from exc
    finally:
        if proc.is_alive():
            proc.kill()
        tmp.unlink(missing_ok=True)


PROVENANCE_SUFFIX = ".provenance.json"


def _write_provenance(dst: Path, source: Path, source_quant: str) -> None:
    """Record next to a built level what it was built from (the comparison report says when
    that source was already quantized)."""
    side = dst.with_name(dst.name + PROVENANCE_SUFFIX)
    side.write_text(json.dumps({"built_from": source.name, "source_quant": source_quant}),
                    encoding="utf-8")


def provenance(level_file: Path) -> dict[str, str] | None:
    """What a level built by build_ladder was built from, or None if unknown."""
    if not level_file.name:
        return None
    side = level_file.with_name(level_file.name + PROVENANCE_SUFFIX)
    try:
        d = json.loads(side.read_text(encoding="utf-8"))
        return {"built_from": str(d["built_from"]), "source_quant": str(d["source_quant"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _installed_roots() -> list[Path]:
    """Folders that belong to the installation (Python's prefixes, site-packages, the frozen
    app's bundle): a ladder is never written there."""
    import site
    import sys
    import sysconfig

    roots = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    if getattr(sys, "frozen", False):
        roots.add(str(Path(sys.executable).parent))
        roots.add(getattr(sys, "_MEIPASS", ""))
    return [Path(r).resolve() for r in roots if r]


def ladder_folder(source: Path, models_dir: Path) -> Path:
    """Where the levels of `source` are built: beside it when that folder is the user's own and
    writable, else the app's models folder (a model inside an installed package, or a read-only
    model pack IT installed, is never written to)."""
    folder = source.resolve().parent
    if any(folder.is_relative_to(r) for r in _installed_roots()):
        return models_dir
    if not os.access(folder, os.W_OK):
        return models_dir
    return folder


def build_ladder(source: Path, levels: list[str], out_dir: Path, *,
                 cancel: threading.Event | None = None,
                 force: bool = False) -> Iterator[QuantProgress | QuantDone]:
    """Build each level next to `out_dir`; yields progress, then QuantDone."""
    t0 = time.monotonic()
    try:
        info = read_gguf(source)
    except GgufError as exc:
        yield QuantDone([], [], error=f"{source.name} is not a usable GGUF: {exc}")
        return
    levels = [lv.upper() for lv in levels]
    bad = [lv for lv in levels if lv not in FTYPE_BY_NAME]
    if bad:
        yield QuantDone([], [], error=f"unknown quant level(s): {', '.join(bad)}; known: "
                        f"{', '.join(LADDER)}")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    base = base_name(source)
    warnings: list[str] = []
    built: list[Path] = []
    skipped: list[Path] = []
    src = source
    steps = list(levels)
    if info.quant not in UNQUANTIZED:
        warnings.append(
            f"{source.name} is already quantized ({info.quant}): levels are built from its "
            "dequantized F16 copy and cannot be better than the source; levels above "
            f"{info.quant} only cost memory (requantization loss)")
        if "F16" not in steps:
            steps.insert(0, "F16")
        else:
            steps.remove("F16")
            steps.insert(0, "F16")
    total = len(steps)
    for i, level in enumerate(steps):
        dst = out_dir / f"{base}.{level}.gguf"
        if dst.exists() and not force:
            skipped.append(dst)
            if level == "F16":
                src = dst
            yield QuantProgress(i + 1, total, level, f"{dst.name} already exists")
            continue
        yield QuantProgress(i, total, level, f"building {dst.name}")
        from_src = src if level != "F16" else source
        try:
            ok = quantize_level(from_src, dst, level,
                                allow_requantize=read_gguf(from_src).quant not in UNQUANTIZED,
                                cancel=cancel)
        except QuantizeError as exc:
            yield QuantDone(built, skipped, warnings, error=str(exc),
                            seconds=round(time.monotonic() - t0, 2))
            return
        if not ok:
            yield QuantDone(built, skipped, warnings, cancelled=True,
                            seconds=round(time.monotonic() - t0, 2))
            return
        built.append(dst)
        _write_provenance(dst, source, info.quant)
        if level == "F16":
            src = dst
        yield QuantProgress(i + 1, total, level, f"built {dst.name}")
    yield QuantDone(built, skipped, warnings, seconds=round(time.monotonic() - t0, 2))
