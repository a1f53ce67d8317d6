"""`medsearch selftest`: exercise every part on this machine and report each check.

Every embedder precision is reported: the ONNX ones run everywhere; the torch ones (fp32, int8)
run where torch is installed and otherwise say that they need the developer install (the
installed app leaves torch out) — reported, not failed."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Check = dict[str, Any]


def _run(name: str, fn: Callable[[], str], out: list[Check]) -> None:
    t0 = time.perf_counter()
    try:
        detail, ok = fn(), True
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
        detail, ok = f"{type(exc).__name__}: {exc}", False
    out.append({"name": name, "ok": ok, "detail": detail,
                "ms": round((time.perf_counter() - t0) * 1000, 1)})


def run_selftest(extra: list[tuple[str, Callable[[], str]]] | None = None) -> list[Check]:
    """Run all checks in a throwaway folder; never touches the user's library. `extra` checks
    (the window, from the UI layer) run last, reported the same way."""
    from .embedding.base import Precision
    from .embedding.embed import load_embedder, unavailable
    from .library.index import VectorIndex
    from .library.pdf import extract_pdf
    from .llm.models import default_model_path
    from .llm.runtime import LlmRuntime
    from .settings import Settings, effective_threads
    from .system import metrics

    results: list[Check] = []
    state: dict[str, Any] = {}
    threads = effective_threads(Settings.load())
    with tempfile.TemporaryDirectory(prefix="medsearch-selftest-") as tmp_s:
        tmp = Path(tmp_s)

        text = ["hypertension treatment with ACE inhibitors"]

        def embedder_onnx() -> str:
            # Made in this throwaway folder: from the shipped export (quantized for this CPU,
            # no torch) in the installed app, exported with torch in a developer install.
            from .embedding import embed_onnx
            from .embedding.base import default_embedder_path

            shipped = embed_onnx.shipped_export(default_embedder_path())
            t0 = time.monotonic()
            emb = load_embedder(None, Precision.ONNX_INT8, threads=threads,
                                cache_root=tmp / "embedders")
            took = time.monotonic() - t0
            v = emb.embed_batch([*text, "Apixaban 5 mg twice daily"])
            if v.shape != (2, emb.dim) or not np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-3):
                raise RuntimeError(f"unexpected embedding shape/norm {v.shape}")
            state["onnx-int8"] = v[0]
            emb.close()
            how = "shipped graph quantized" if shipped else "exported and quantized"
            return f"{emb.name}: {emb.dim} dims, {how} in {took:.1f} s"

        def against_onnx_int8(precision: Precision, least: float) -> Callable[[], str]:
            def check() -> str:
                why = unavailable(None, precision)
                if why:
                    return f"not in this install: {why}"
                emb = load_embedder(None, precision, threads=threads,
                                    cache_root=tmp / "embedders")
                try:
                    cos = float(emb.embed_batch(text)[0] @ state["onnx-int8"])
                finally:
                    emb.close()
                if cos < least:
                    raise RuntimeError(f"{precision.value} vector too far from onnx-int8 "
                                       f"(cosine {cos:.3f})")
                return f"{precision.value} vs onnx-int8 cosine {cos:.3f}"
            return check

        def index_roundtrip() -> str:
            rng = np.random.default_rng(0)
            vecs = rng.standard_normal((300, 32)).astype(np.float32)
            idx = VectorIndex.open(tmp / "idx", 32)
            idx.add(list(range(1, 301)), vecs)
            idx.delete([5])
            idx.save()
            idx.close()
            idx2 = VectorIndex.open(tmp / "idx", 32)
            if idx2.problem or len(idx2) != 299:
                raise RuntimeError(f"reload failed: {idx2.problem} ({len(idx2)} ids)")
            top = idx2.search(vecs[9], 1)
            if top[0][0] != 10:
                raise RuntimeError(f"nearest neighbour of item 10 was {top[0][0]}")
            idx2.close()
            return "300 vectors saved, reloaded, searched"

        def pdf_parse() -> str:
            from fpdf import FPDF

            pdf = FPDF()
            for i in range(2):
                pdf.add_page()
                pdf.set_font("Helvetica", size=12)
                pdf.multi_cell(0, 8, f"Selftest page {i + 1}: sepsis bundle within one hour.")
            path = tmp / "selftest.pdf"
            pdf.output(str(path))
            res = extract_pdf(path, timeout_s=60)
            if res.error or len(res.pages) != 2 or "sepsis" not in res.pages[1].text:
                raise RuntimeError(f"extraction failed: {res.error}")
            return "2-page PDF read in a child process"

        def say_hello(path: Path) -> tuple[str, str]:
            """Load a GGUF, write 8 tokens, close it: (the text, its quant level)."""
            llm = LlmRuntime(path, n_ctx=512, n_threads=2)
            try:
                llm.load()
                prompt = llm.render([{"role": "user", "content": "Say hello."}])
                text = "".join(llm.stream(prompt, max_tokens=8, temperature=0.0,
                                          cancel=threading.Event()))
                if not text.strip():
                    raise RuntimeError(f"{path.name} generated no text")
                return text.strip(), llm.quant
            finally:
                llm.close()

        def generation() -> str:
            path = default_model_path()
            text, quant = say_hello(path)
            return f"{path.name} ({quant}): {text[:40]!r}"

        def answer_model() -> str:
            from .llm.answer_model import ANSWER_MODEL, assemble
            from .llm.models import ModelNotFound, choose_default_model
            from .settings import Settings

            # found and verified, or assembled from its packages and checked
            text, _quant = say_hello(assemble())
            try:  # which model a window would start with here (the generation check above
                chosen = choose_default_model(Settings()).path.name  # covers the small one)
            except ModelNotFound as exc:
                chosen = f"none ({exc})"
            return (f"{ANSWER_MODEL.title}, SHA-256 checked, wrote {text[:30]!r}; "
                    f"default here: {chosen}")

        def word_frequencies() -> str:
            from .text.terms import is_specific_word, zipf

            if not (zipf("what") > 5 and is_specific_word("rivaroxaban")
                    and not is_specific_word("high")):
                raise RuntimeError("English word frequencies give wrong answers")
            return f"zipf('what') {zipf('what'):.1f}; 'rivaroxaban' is a specific term"

        def drug_names() -> str:
            from .text import drugs

            drugs.data_file()  # DrugNamesMissing, with its reason, when it is not installed
            if "paracetamol" not in drugs.other_names("Calpol"):
                raise RuntimeError("the drug-name dictionary does not know Calpol is paracetamol")
            return f"{drugs.count()} one-word medicine names; 'Calpol' is paracetamol"

        def memory() -> str:
            s = metrics.sample()
            if s.rss_mb <= 0 or s.sys_total_mb <= 0:
                raise RuntimeError("memory readings are zero")
            return (f"RSS {s.rss_mb:.0f} MB, system {s.sys_used_mb:.0f}/{s.sys_total_mb:.0f} MB, "
                    f"{metrics.gpu_status()}")

        def report_chart() -> str:
            from .quant.compare import LevelResult
            from .quant.compare.report import chart_png

            levels = [LevelResult(quant=q, file=f"m.{q}.gguf", path="", file_mb=mb,
                                  reference=q == "F16", load_s=0.1, rss_mb=mb, model_rss_mb=mb,
                                  peak_rss_mb=mb, vram_mb=None, ttft_ms=None,
                                  prompt_tokens_per_s=None, tokens_per_s=None, kld_mean=None,
                                  same_top_pct=top, ref_tail_mass=None, answer_same_pct=None,
                                  answer_similarity=None, bandwidth_share_pct=None)
                      for q, mb, top in (("F16", 270.0, 100.0), ("Q4_K_M", 100.0, 92.0))]
            img = chart_png(levels, "file_mb", "file (MB)")
            if len(img) < 1000:
                raise RuntimeError("the chart came out empty")
            return f"comparison chart drawn ({len(img) // 1024} KiB)"

        _run("embedder onnx-int8", embedder_onnx, results)
        if "onnx-int8" in state:
            for precision, least in ((Precision.ONNX_FP32, 0.95), (Precision.FP32, 0.95),
                                     (Precision.INT8, 0.8)):
                _run(f"embedder {precision.value}", against_onnx_int8(precision, least), results)
        _run("vector index round trip", index_roundtrip, results)
        _run("PDF extraction", pdf_parse, results)
        _run("GGUF generation", generation, results)
        _run("answer model", answer_model, results)
        _run("word frequencies (the support gate)", word_frequencies, results)
        _run("drug names (the support gate)", drug_names, results)
        _run("memory and GPU gauges", memory, results)
        _run("comparison report chart", report_chart, results)
    for name, fn in extra or []:
        _run(name, fn, results)
    return results
