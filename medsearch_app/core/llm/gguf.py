"""A small reader of GGUF headers: metadata and tensor shapes, without loading the weights.

Used to list models, group quant levels and estimate memory before llama.cpp loads a file.
Only the header is read (it ends before the tensor data), so it is fast even for 8B models.
"""

from __future__ import annotations

import functools
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import MedSearchError

# llama.cpp's LLAMA_FTYPE_* numbering -> names as llama.cpp spells them.
FTYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}
FTYPE_BY_NAME = {v: k for k, v in FTYPE_NAMES.items()}
# Nominal bits per weight of each level (used to order a family's levels).
NOMINAL_BITS = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56, "Q5_1": 6.0,
    "Q5_K_M": 5.69, "Q5_0": 5.5, "Q5_K_S": 5.54, "Q4_1": 5.0, "Q4_K_M": 4.89, "Q4_K_S": 4.58,
    "Q4_0": 4.5, "IQ4_NL": 4.5, "IQ4_XS": 4.25, "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5,
    "IQ3_M": 3.66, "IQ3_S": 3.44, "IQ3_XS": 3.3, "IQ3_XXS": 3.06, "Q2_K": 3.35, "Q2_K_S": 2.79,
    "IQ2_M": 2.7, "IQ2_S": 2.5, "IQ2_XS": 2.31, "IQ2_XXS": 2.06, "IQ1_M": 1.75, "IQ1_S": 1.56,
    "TQ2_0": 2.06, "TQ1_0": 1.69,
}

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}


class GgufError(MedSearchError):
    """The file is not a readable GGUF model."""


@dataclass
class GgufInfo:
    """What a GGUF header says about a model."""

    path: Path
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    n_params: int = 0
    n_tensors: int = 0

    @property
    def arch(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name") or self.path.stem)

    @property
    def quant(self) -> str:
        ft = self.metadata.get("general.file_type")
        return FTYPE_NAMES.get(int(ft), f"ftype{ft}") if ft is not None else "unknown"

    @property
    def context_length(self) -> int | None:
        v = self.metadata.get(f"{self.arch}.context_length")
        return int(v) if v is not None else None

    def arch_int(self, key: str) -> int | None:
        v = self.metadata.get(f"{self.arch}.{key}")
        if isinstance(v, list):
            v = max(v) if v else None
        return int(v) if v is not None else None

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size

    @property
    def chat_template(self) -> str | None:
        t = self.metadata.get("tokenizer.chat_template")
        return str(t) if t else None


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GgufError("file ends inside the header (truncated)")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO) -> str:
    n = _read(f, "<Q")
    if n > 1 << 26:
        raise GgufError("implausible string length in header (corrupt)")
    data = f.read(n)
    if len(data) != n:
        raise GgufError("file ends inside the header (truncated)")
    return data.decode("utf-8", errors="replace")


def _value(f: BinaryIO, vtype: int, keep: bool = True, depth: int = 0) -> Any:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == 8:
        return _string(f)
    if vtype == 9:
        itype, n = _read(f, "<I"), _read(f, "<Q")
        if n > 1 << 28:
            raise GgufError("implausible array length in header (corrupt)")
        if depth >= 4 and itype == 9:
            raise GgufError("implausibly nested arrays in header (corrupt)")
        if itype in _SCALARS and not keep:
            f.seek(struct.calcsize(_SCALARS[itype]) * n, 1)
            return None
        if itype == 8 and not keep:  # skip a vocabulary without decoding it
            _skip_strings(f, n)
            return None
        items = [_value(f, itype, keep, depth + 1) for _ in range(n)]
        return items if keep else None
    raise GgufError(f"unknown metadata type {vtype} (corrupt or newer format)")


_U64 = struct.Struct("<Q")


def _skip_strings(f: BinaryIO, n: int) -> None:
    """Move past `n` length-prefixed strings. Walks the lengths in a memory map: a 49k-token
    vocabulary took ~60 ms with one read and seek per string, on the GUI thread's model list."""
    pos = f.tell()
    try:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            unpack = _U64.unpack_from
            end = len(m)
            for _ in range(n):
                length = unpack(m, pos)[0]
                if length > 1 << 26:
                    raise GgufError("implausible string length in header (corrupt)")
                pos += 8 + length
                if pos > end:
                    raise struct.error
    except (struct.error, ValueError, OverflowError) as exc:
        raise GgufError("file ends inside the header (truncated)") from exc
    f.seek(pos)


# Large arrays we never need (vocabularies) are skipped, not kept in memory.
_SKIP_ARRAYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                "tokenizer.ggml.merges")


def read_gguf(path: Path) -> GgufInfo:
    """Parse a GGUF header (cached per file size and mtime). Raises GgufError."""
    try:
        st = path.stat()
    except OSError as exc:
        raise GgufError(f"cannot be read ({exc.strerror})") from exc
    return _read_cached(path.resolve(), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _read_cached(path: Path, _size: int, _mtime_ns: int) -> GgufInfo:
    try:
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise GgufError("not a GGUF model file (wrong magic bytes)")
            version = _read(f, "<I")
            if version not in (2, 3):
                raise GgufError(f"GGUF version {version} is not supported")
            n_tensors, n_kv = _read(f, "<Q"), _read(f, "<Q")
            info = GgufInfo(path=path, version=version, n_tensors=n_tensors)
            for _ in range(n_kv):
                key = _string(f)
                vtype = _read(f, "<I")
                keep = key not in _SKIP_ARRAYS
                val = _value(f, vtype, keep)
                if keep:
                    info.metadata[key] = val
            total = 0
            last = 0
            for _ in range(n_tensors):
                _string(f)
                nd = _read(f, "<I")
                if nd > 8:
                    raise GgufError("implausible tensor shape (corrupt)")
                count = 1
                for _ in range(nd):
                    count *= _read(f, "<Q")
                _read(f, "<I")
                last = max(last, _read(f, "<Q"))
                total += count
            info.n_params = total
            # Tensor data starts at the next alignment boundary; the last tensor must begin
            # inside the file (an interrupted copy or download fails here, before any load).
            align = int(info.metadata.get("general.alignment", 32) or 32)
            start = -(-f.tell() // align) * align
            size = path.stat().st_size
            if n_tensors and start + last >= size:
                raise GgufError(f"truncated: the file ({size / 2**20:.1f} MiB) ends before its "
                                "tensor data (an incomplete copy or download?)")
            return info
    except OSError as exc:
        raise GgufError(f"cannot be read ({exc.strerror})") from exc


def estimate_memory_bytes(info: GgufInfo, n_ctx: int) -> int:
    """Weights (mmap'd, all touched) + f16 KV cache for n_ctx + a compute-buffer allowance."""
    n_layer = info.arch_int("block_count") or 32
    n_embd = info.arch_int("embedding_length") or 4096
    n_head = info.arch_int("attention.head_count") or 32
    n_head_kv = info.arch_int("attention.head_count_kv") or n_head
    key_len = info.arch_int("attention.key_length") or (n_embd // max(n_head, 1))
    val_len = info.arch_int("attention.value_length") or key_len
    kv = n_layer * n_ctx * n_head_kv * (key_len + val_len) * 2
    compute = 64 * 1024 * 1024 + n_ctx * n_embd * 4 * 4
    return int(info.size_bytes + kv + compute)
