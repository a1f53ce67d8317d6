"""The embedder on ONNX Runtime: export once from the sentence-transformers folder, then run
without torch.

Two precisions live here: `onnx-fp32` (the transformer exported with torch.onnx, identical
vectors to torch fp32 up to rounding) and `onnx-int8` (that graph with onnxruntime's dynamic
int8 quantization: int8 weights per channel, activations quantized at run time). Both are made
once, on first use, from the model folder on disk — no network — and cached in the data folder
(`<home>/embedders/<model>/`), written to a temporary folder and renamed, so a crash mid-export
leaves nothing half-made. Running them needs only onnxruntime, the `tokenizers` library and
numpy: `medsearch search` on an ONNX precision never imports torch.

The cache holds what the runtime needs: model-fp32.onnx, model-int8.onnx, tokenizer.json and
embedder.json (pooling, maximum sequence length, dimension, the quantization settings used).

Only the export needs torch. The installed app ships the export made at build time
(`export_to`, called by packaging/build.sh) in a folder of *shipped exports*: `prepare` then
copies the fp32 graph and quantizes it for this CPU with onnxruntime's quantizer (seconds, no
torch). Shipped exports are looked up under $MEDSEARCH_ONNX_EXPORTS, else `onnx_exports/` of the
frozen app, by the model's name (`model_name`: folder name and a hash of its config), so an
export never serves a model it was not made from.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInput
from .base import Embedder, Precision, model_name

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the cached files change meaning (2: eager-attention export)
OPSET = 17
BATCH = 8  # rows per session run: 8 embedded ~10 % faster than 32 on 1 and 2 threads (cache)


def cpu_isa() -> str:
    """The int8 instruction set the running CPU offers, as onnxruntime's kernels care about it.

    `vnni`: AVX-512 VNNI or AVX-VNNI (u8×s8 dot products without intermediate saturation);
    `avx2`/`avx512`: no VNNI — the u8×s8 pair-sum can saturate, so weights use 7 bits
    (reduce_range); `arm64`/`other`: onnxruntime's portable kernels."""
    import platform

    machine = platform.machine().lower()
    if machine in {"arm64", "aarch64"}:
        return "arm64"
    try:
        flags = set()
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        return "other"
    if {"avx512_vnni", "avx_vnni"} & flags:
        return "vnni"
    if "avx512f" in flags:
        return "avx512"
    if "avx2" in flags:
        return "avx2"
    return "other"


def cache_folder(model_path: Path, cache_root: Path) -> Path:
    return cache_root / model_name(model_path)


def _read_st_config(model_path: Path) -> dict[str, Any]:
    """Pooling, normalisation and maximum length from the sentence-transformers folder."""
    pooling = "mean"
    normalize = True
    modules_file = model_path / "modules.json"
    if modules_file.exists():
        modules = json.loads(modules_file.read_text())
        normalize = any(m.get("type", "").endswith("Normalize") for m in modules)
        for m in modules:
            if m.get("type", "").endswith("Pooling"):
                cfg = json.loads((model_path / m.get("path", "") / "config.json").read_text())
                modes = [k.removeprefix("pooling_mode_").removesuffix("_tokens")
                         for k, v in cfg.items() if k.startswith("pooling_mode_") and v]
                if len(modes) != 1 or modes[0] not in {"mean", "cls", "max"}:
                    raise BadInput(f"{model_path.name}: pooling {modes} is not supported by the "
                                   "ONNX embedder (mean, cls or max); use fp32 or int8")
                pooling = modes[0]
    max_len = 256
    st_cfg = model_path / "sentence_bert_config.json"
    if st_cfg.exists():
        max_len = int(json.loads(st_cfg.read_text()).get("max_seq_length") or max_len)
    return {"pooling": pooling, "normalize": normalize, "max_seq_length": max_len}


def _export(model_path: Path, out: Path) -> dict[str, Any]:
    """torch.onnx export of the transformer (token embeddings out) + the fast tokenizer."""
    import warnings

    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    info = _read_st_config(model_path)
    tok = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True, use_fast=True)
    if not getattr(tok, "is_fast", False):
        raise BadInput(f"{model_path.name} has no fast tokenizer: the ONNX embedder needs one")
    tok.backend_tokenizer.save(str(out / "tokenizer.json"))
    # Eager attention: transformers' SDPA path exports a NaN guard (IsNaN + Where over every
    # attention matrix) that took 19 % of onnx-int8's time; eager exports plain
    # scores + mask -> Softmax, the same vectors (cosine 1.000), 16-23 % faster on 1-2 threads.
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True,
                                      attn_implementation="eager")
    model.eval()
    sample = tok(["a short passage", "and a second, longer one to pad"], padding=True,
                 return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class _Tokens(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    dyn = {n: {0: "batch", 1: "seq"} for n in names}
    dyn["token_embeddings"] = {0: "batch", 1: "seq"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Tokens(model), tuple(sample[n] for n in names),
                          str(out / "model-fp32.onnx"), input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=dyn,
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    info.update(inputs=names, dim=int(model.config.hidden_size))
    return info


def int8_settings(isa: str) -> dict[str, Any]:
    """How the int8 graph is made for a CPU with instruction set `isa` (cpu_isa()): int8
    weights per output channel; on CPUs without VNNI the weights keep 7 bits (reduce_range), as
    the u8×s8 pair-sum of AVX2/AVX-512 can saturate. bench/bench_int8_kernels.py measures the
    alternatives on the CPU at hand."""
    return {"isa": isa, "weight_type": "QInt8", "per_channel": True,
            "reduce_range": isa in {"avx2", "avx512", "other"}}


def _quantize_child(src: str, dst: str, settings: dict[str, Any]) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # "consider pre-processing": advice for image models
    quantize_dynamic(src, dst, weight_type=getattr(QuantType, settings["weight_type"]),
                     per_channel=settings["per_channel"], reduce_range=settings["reduce_range"])


def _quantize(out: Path, isa: str) -> dict[str, Any]:
    """onnxruntime's dynamic int8 quantization of out/model-fp32.onnx, in a child process: onnx
    and the quantizer never load into the app (in a Qt process without torch they ended it with
    "Fatal Python error: bool_dealloc" at exit), and their memory goes when the child does."""
    import multiprocessing as mp

    settings = int8_settings(isa)
    dst = out / "model-int8.onnx"
    proc = mp.get_context("spawn").Process(
        target=_quantize_child, args=(str(out / "model-fp32.onnx"), str(dst), settings),
        daemon=True)
    proc.start()
    proc.join()
    if proc.exitcode != 0 or not dst.is_file():
        raise BadInput(f"onnxruntime could not quantize the embedder (exit code {proc.exitcode})")
    return settings


EXPORT_FILES = ("model-fp32.onnx", "tokenizer.json", "export.json")


def export_to(model_path: Path, out: Path) -> Path:
    """Export `model_path` (a sentence-transformers folder) into `out/<model name>/` as a
    shipped export: the fp32 graph, the tokenizer and export.json. Needs torch; made at build
    time so that the installed app does not. Written to a temporary folder, then renamed."""
    dest = out / model_name(model_path)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=out))
    try:
        info = _export(model_path, tmp)
        info.update(format=FORMAT, name=dest.name)
        (tmp / "export.json").write_text(json.dumps(info, indent=1))
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def shipped_exports_root() -> Path | None:
    """Where shipped exports lie: $MEDSEARCH_ONNX_EXPORTS, else the frozen app's
    `onnx_exports/`; None in a developer install (which exports with torch)."""
    env = os.environ.get("MEDSEARCH_ONNX_EXPORTS")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "onnx_exports" if bundle else None


def shipped_export(model_path: Path) -> Path | None:
    """The shipped export made from `model_path` (same name, same format), if there is one."""
    root = shipped_exports_root()
    if root is None:
        return None
    folder = root / model_name(model_path)
    try:
        info = json.loads((folder / "export.json").read_text())
    except (OSError, ValueError):
        return None
    if info.get("format") != FORMAT or not all((folder / f).is_file() for f in EXPORT_FILES):
        return None
    return folder


def _from_shipped(shipped: Path, out: Path) -> dict[str, Any]:
    for name in ("model-fp32.onnx", "tokenizer.json"):
        shutil.copyfile(shipped / name, out / name)
    info: dict[str, Any] = json.loads((shipped / "export.json").read_text())
    info.pop("name", None)
    info["shipped"] = str(shipped)
    return info


def torch_available() -> bool:
    """Whether torch and transformers can be imported here (the developer install)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))


def needs_export(model_path: Path, cache_root: Path) -> bool:
    """True when making the ONNX embedder for `model_path` means exporting it with torch (about
    15 s): not prepared in `cache_root` yet and no shipped export for it."""
    return not is_prepared(model_path, cache_root) and shipped_export(model_path) is None


def is_prepared(model_path: Path, cache_root: Path) -> bool:
    meta = cache_folder(model_path, cache_root) / "embedder.json"
    try:
        return bool(json.loads(meta.read_text()).get("format") == FORMAT)
    except (OSError, ValueError):
        return False


def prepare(model_path: Path, cache_root: Path,
            status: Callable[[str], None] | None = None) -> Path:
    """The cache folder for `model_path`, exported and quantized first if it is not there yet.

    Offline: only the files of `model_path` (or its shipped export) are read. Done once per
    data folder; a second process that finds the folder made while it exported keeps the first
    one. With a shipped export no torch is needed: its graph is copied and quantized here."""
    folder = cache_folder(model_path, cache_root)
    if is_prepared(model_path, cache_root):
        return folder
    shipped = shipped_export(model_path)
    if shipped is None and not torch_available():
        raise BadInput(f"the ONNX embedder for {model_path.name} must be exported with torch, "
                       "which this install does not have (the developer install, "
                       "`pip install -e .`, has it)")
    shutil.rmtree(folder, ignore_errors=True)  # an older format or a damaged folder
    cache_root.mkdir(parents=True, exist_ok=True)
    if status and shipped is None:
        status("preparing the ONNX embedder (once for this data folder)…")
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache_root))
    try:
        info = _from_shipped(shipped, tmp) if shipped else _export(model_path, tmp)
        info["int8"] = _quantize(tmp, cpu_isa())
        info.update(format=FORMAT, source=str(model_path),
                    seconds=round(time.monotonic() - t0, 1))
        (tmp / "embedder.json").write_text(json.dumps(info, indent=1))
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / "embedder.json").exists():  # not "another process won the race"
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("ONNX embedder prepared in %.1f s: %s", time.monotonic() - t0, folder)
    return folder


class OnnxEmbedder(Embedder):
    """Sentence embeddings on ONNX Runtime from a prepared cache folder."""

    def __init__(self, model_path: Path, folder: Path, precision: Precision, *,
                 threads: int = 0, batch_size: int = BATCH) -> None:
        from tokenizers import Tokenizer

        if precision not in (Precision.ONNX_FP32, Precision.ONNX_INT8):
            raise ValueError(f"{precision} is not an ONNX precision")
        info = json.loads((folder / "embedder.json").read_text())
        self.precision = precision
        self.path = model_path
        self.name = model_name(model_path)
        self.dim = int(info["dim"])
        self.max_tokens = int(info["max_seq_length"])
        self._pooling = str(info["pooling"])
        self._inputs = list(info["inputs"])
        self.batch_size = batch_size
        self.quantization = info.get("int8") if precision is Precision.ONNX_INT8 else None
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        self._plain = tok  # for token_offsets: the whole text, no special tokens
        enc = Tokenizer.from_file(str(folder / "tokenizer.json"))
        enc.enable_truncation(self.max_tokens)
        enc.no_padding()
        self._tok = enc
        self._model_file = folder / ("model-int8.onnx" if precision is Precision.ONNX_INT8
                                     else "model-fp32.onnx")
        if threads <= 0:
            import psutil

            threads = max(1, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
        self.threads = threads
        self._sessions: dict[int, Any] = {}
        self._session: Any = self._session_for(threads)

    def _session_for(self, threads: int) -> Any:
        """The session running on `threads` intra-op threads (made on first use)."""
        if threads not in self._sessions:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._sessions[threads] = ort.InferenceSession(
                str(self._model_file), opts, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def leave_core(self, on: bool) -> None:
        # A second session of the same small model (int8: 23 MB) with one thread fewer.
        self._session = self._session_for(max(1, self.threads - 1) if on else self.threads)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = self._tok.encode_batch(list(texts))
        # Sorted by length, so each sub-batch pads to near its own length (as sentence-
        # transformers' encode does); the results go back in the caller's order.
        order = np.argsort([-len(e.ids) for e in encs], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(order), self.batch_size):
            idx = order[s:s + self.batch_size]
            out[idx] = self._run([encs[i] for i in idx])
        return out

    def _run(self, encs: list[Any]) -> np.ndarray:
        n = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), n), dtype=np.int64)
        mask = np.zeros((len(encs), n), dtype=np.int64)
        types = np.zeros((len(encs), n), dtype=np.int64)
        for r, e in enumerate(encs):
            k = len(e.ids)
            ids[r, :k] = e.ids
            mask[r, :k] = e.attention_mask
            types[r, :k] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        tokens = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
        m = mask[:, :, None].astype(np.float32)
        if self._pooling == "cls":
            vec = tokens[:, 0]
        elif self._pooling == "max":
            vec = np.where(m > 0, tokens, -1e9).max(axis=1)
        else:
            vec = (tokens * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        vec = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vec, dtype=np.float32)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        enc = self._plain.encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in enc.offsets if b > a]

    def close(self) -> None:
        self._session = None
        self._sessions.clear()
