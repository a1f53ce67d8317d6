"""The embedder's int8 settings on this CPU: speed and closeness to fp32 for each way
onnxruntime's dynamic quantizer can make the graph (issue: indexing on AVX2-only CPUs).

Run:  .venv/bin/python bench/bench_int8_kernels.py [--passages N] [--threads 1,2] [--json OUT]
                 [--corpus <evaldata>/pubmedqa/corpus.jsonl]

onnxruntime picks its int8 GEMM kernel from the CPU and the operand types: activations are
always uint8 (dynamic quantization); weights int8 (U8S8: VNNI's vpdpbusd, or on AVX2 the
vpmaddubsw pair-sum, which can saturate unless weights keep 7 bits, `reduce_range`) or uint8
(U8U8: a widening kernel with no saturation). Per-channel scales keep each output row's range.
For each setting this script quantizes the same fp32 graph (the app's own export), then embeds
the same passages (the first N of the PubMedQA corpus, the app's batch of 8, sorted by length as
the app does) with a fresh session per thread count, 2 rounds interleaved, median kept, and
compares every vector with onnx-fp32's (mean and minimum cosine). The app's choice for this CPU
(core/embed_onnx.int8_settings) is marked. Ratios are against onnx-fp32 measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from medsearch_app.core.embedding import embed_onnx  # noqa: E402
from medsearch_app.core.embedding.base import Precision, default_embedder_path  # noqa: E402

# (label, weight type, per_channel, reduce_range)
SETTINGS = [
    ("s8 per-channel reduce_range", "QInt8", True, True),
    ("s8 per-channel full range", "QInt8", True, False),
    ("s8 per-tensor reduce_range", "QInt8", False, True),
    ("u8 per-channel", "QUInt8", True, False),
    ("u8 per-tensor", "QUInt8", False, False),
]


def passages(corpus: Path, n: int) -> list[str]:
    out = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line)["text"])
            if len(out) == n:
                break
    return out


def quantize(src: Path, dst: Path, weight: str, per_channel: bool, reduce_range: bool) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)
    quantize_dynamic(str(src), str(dst), weight_type=getattr(QuantType, weight),
                     per_channel=per_channel, reduce_range=reduce_range)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passages", type=int, default=200)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "evaldata" / "pubmedqa"
                                            / "corpus.jsonl"))
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    print(cpu_line(), flush=True)
    isa = embed_onnx.cpu_isa()
    chosen = embed_onnx.int8_settings(isa)
    print(f"instruction set for int8: {isa}; the app's choice: {chosen}", flush=True)
    texts = passages(Path(args.corpus), args.passages)
    threads = [int(t) for t in args.threads.split(",")]
    model = default_embedder_path()
    with tempfile.TemporaryDirectory(prefix="int8-kernels-") as tmp_s:
        tmp = Path(tmp_s)
        folder = embed_onnx.prepare(model, tmp / "cache")
        fp32 = folder / "model-fp32.onnx"
        files: dict[str, Path] = {"onnx-fp32": fp32}
        for label, weight, per_channel, reduce_range in SETTINGS:
            dst = tmp / f"{label.replace(' ', '_')}.onnx"
            quantize(fp32, dst, weight, per_channel, reduce_range)
            files[label] = dst
        tokens = sum(len(e.ids) for e in embed_onnx.OnnxEmbedder(
            model, folder, Precision.ONNX_FP32, threads=1)._tok.encode_batch(texts))
        print(f"{len(texts)} passages, {tokens} tokens (truncated at the model's limit)",
              flush=True)
        times: dict[tuple[str, int], list[float]] = {}
        vecs: dict[str, np.ndarray] = {}
        for _round in range(2):
            for label, path in files.items():
                for t in threads:
                    emb = embed_onnx.OnnxEmbedder(model, folder, Precision.ONNX_FP32, threads=t)
                    emb._model_file = path  # the same runtime code on this setting's graph
                    emb._sessions.clear()
                    emb._session = emb._session_for(t)
                    emb.embed_batch(texts[:8])  # warm-up
                    t0 = time.perf_counter()
                    v = emb.embed_batch(texts)
                    times.setdefault((label, t), []).append(time.perf_counter() - t0)
                    vecs[label] = v
                    emb.close()
    ref = vecs["onnx-fp32"]
    rows: list[dict[str, Any]] = []
    print(f"\n{'setting':32} " + " ".join(f"{t} thr tok/s  vs fp32" for t in threads)
          + "   cos mean    cos min")
    for label in files:
        cos = np.sum(vecs[label] * ref, axis=1)
        row: dict[str, Any] = {"setting": label, "cos_mean": float(cos.mean()),
                               "cos_min": float(cos.min())}
        cells = []
        for t in threads:
            s = statistics.median(times[(label, t)])
            base = statistics.median(times[("onnx-fp32", t)])
            row[f"tokens_per_s_{t}"] = tokens / s
            row[f"speed_vs_fp32_{t}"] = base / s
            cells.append(f"{tokens / s:9.0f}  {base / s:6.2f}x")
        mark = "  <- the app's choice" if (label != "onnx-fp32" and _matches(label, chosen)) else ""
        print(f"{label:32} " + "  ".join(cells)
              + f"   {row['cos_mean']:.4f}   {row['cos_min']:.4f}{mark}")
        rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_line(), "isa": isa, "tokens": tokens,
                                               "rows": rows}, indent=1))
    return 0


def _matches(label: str, chosen: dict[str, Any]) -> bool:
    for lab, weight, per_channel, reduce_range in SETTINGS:
        if lab == label:
            return (weight, per_channel, reduce_range) == (
                chosen["weight_type"], chosen["per_channel"], chosen["reduce_range"])
    return False


if __name__ == "__main__":
    raise SystemExit(main())
