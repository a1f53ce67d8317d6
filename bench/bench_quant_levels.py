"""Quant levels of the default model: size, memory, speed, agreement with F16; leak on switching.

Run:  .venv/bin/python bench/bench_quant_levels.py [--levels F16,Q8_0,...] [--tokens 64]
                                                    [--switches 20] [--json OUT]

1. Builds the default model's ladder (quantize.build_ladder on models.default_model_path(),
   default levels: quantize.LADDER, F16 down to Q2_K) into a temporary models folder
   (or --models-dir, where existing levels are reused), and times it.
2. For the shipped source file and each level, in a FRESH subprocess (clean RSS): loads it with
   LlmRuntime, generates --tokens tokens greedily on a fixed prompt, and reports file MiB, RSS
   before load / after load / after generation, tokens/s (LlmRuntime's own GenStats), the level
   read by gguf.read_gguf(path).quant and the one llama.cpp reports
   (llm.metadata["general.file_type"]). Then, unless --no-agreement, the top-token agreement with
   F16: F16's greedy continuation of the prompt (--tokens positions, no repeat penalty) is fed to
   each level in one batch (llama_cpp.Llama, logits_all=True) and the share of positions where
   the level's most likely next token equals F16's is reported.
3. Leak check in ONE process: Engine.switch_model alternating Q8_0 and Q4_K_M --switches times
   (each followed by --leak-tokens generated tokens), RSS after each. For each level, the RSS after
   its first load is compared with the RSS after its last load. Target: change within 10%.

The raw reference: in the same child, after the RSS readings, a bare llama_cpp.Llama generates on
the same prompt with the same settings; app and raw run twice each in the order app, raw, raw,
app and the mean tokens/s of each gives the ratio app/raw per level. Also shown: llama.cpp's own
reading of the level and RSS after generation / file size. Exits 0 always.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from medsearch_app.core.quant.quantize import LADDER

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_line

REPO = Path(__file__).resolve().parent.parent
LEAK_LEVELS = ("Q8_0", "Q4_K_M")
TARGET_LEAK_PCT = 10.0
PROMPT = ("Explain step by step how a doctor assesses the severity of community-acquired "
          "pneumonia in an adult, which findings mean the patient should be admitted to "
          "hospital, and which antibiotics are usually started.")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# ---- child: one level in a fresh process -------------------------------------------------------
def child(args: argparse.Namespace) -> int:
    import llama_cpp
    import numpy as np

    from medsearch_app.core.llm.gguf import FTYPE_NAMES, read_gguf
    from medsearch_app.core.llm.runtime import LlmRuntime

    path = Path(args.child)
    rss_base = _rss_mb()
    rt = LlmRuntime(path, n_ctx=args.n_ctx, n_threads=args.threads, seed=1234)
    t0 = time.perf_counter()
    rt.load()
    load_s = time.perf_counter() - t0
    rss_load = _rss_mb()
    prompt = rt.render([{"role": "user", "content": PROMPT}])
    st, text = _app_tokens_per_s(rt, prompt, args.tokens)
    rss_gen = _rss_mb()
    ft = rt._llm.metadata.get("general.file_type")  # what llama.cpp itself read
    # Baseline: a bare Llama on the same prompt/settings; order app, raw, raw, app (ABBA).
    raw = llama_cpp.Llama(model_path=str(path), n_ctx=rt.n_ctx, n_threads=args.threads,
                          n_threads_batch=args.threads, seed=1234, verbose=False)
    raw_tps = [_raw_tokens_per_s(raw, prompt, args.tokens) for _ in range(2)]
    raw.close()
    st2, _ = _app_tokens_per_s(rt, prompt, args.tokens)
    rt.close()
    app_tps = [x.tokens_per_s for x in (st, st2) if x.tokens_per_s]
    raw_ok = [x for x in raw_tps if x]
    out: dict[str, Any] = {
        "file": path.name, "file_mib": round(path.stat().st_size / 2**20, 1),
        "quant_header": read_gguf(path).quant,
        "llama_file_type": ft,
        "llama_quant": FTYPE_NAMES.get(int(ft), f"ftype{ft}") if ft is not None else None,
        "load_s": round(load_s, 3), "rss_base_mb": round(rss_base, 1),
        "rss_load_mb": round(rss_load, 1), "rss_gen_mb": round(rss_gen, 1),
        "tokens": st.completion_tokens, "ttft_ms": st.ttft_ms,
        "tokens_per_s": round(sum(app_tps) / len(app_tps), 1) if app_tps else None,
        "raw_tokens_per_s": round(sum(raw_ok) / len(raw_ok), 1) if raw_ok else None,
        "app_runs_tokens_per_s": [st.tokens_per_s, st2.tokens_per_s],
        "raw_runs_tokens_per_s": raw_tps, "text": text,
    }
    if args.ref is not None:
        ref_path = Path(args.ref)
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=args.threads,
                              n_threads_batch=args.threads, logits_all=True, verbose=False)
        ptoks = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if not ref_path.exists():  # this is the reference level: greedy, no penalties
            llm.eval(ptoks)
            greedy: list[int] = []
            for _ in range(args.tokens):
                tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
                greedy.append(tok)
                if tok == llm.token_eos():
                    break
                llm.eval([tok])
            ref_path.write_text(json.dumps({"prompt": ptoks, "ref": greedy}))
            llm.reset()
        ref_in = json.loads(ref_path.read_text())
        ref = ref_in["ref"]
        if ref_in["prompt"] != ptoks:
            out["agreement"] = None  # a different tokenizer: not comparable
        else:
            llm.eval(ptoks + ref[:-1])
            n0 = len(ptoks) - 1
            preds = np.argmax(llm.scores[n0:n0 + len(ref)], axis=1)
            out["agreement"] = round(float(np.mean(preds == np.asarray(ref))), 4)
            out["agreement_positions"] = len(ref)
        llm.close()
    print(json.dumps(out))
    return 0


def _raw_tokens_per_s(llm: Any, prompt: str, tokens: int) -> float | None:
    """Decode speed of a bare llama_cpp.Llama on the prompt (timed as LlmRuntime times it)."""
    llm.reset()  # as LlmRuntime does: no KV-cache reuse of the previous identical prompt
    t_first: float | None = None
    n = 0
    for part in llm.create_completion(prompt, max_tokens=tokens, temperature=0.0, top_p=0.9,
                                      repeat_penalty=1.1, stream=True):
        if part["choices"][0].get("finish_reason") is None:
            n += 1
            if t_first is None:
                t_first = time.perf_counter()
    t_end = time.perf_counter()
    return round((n - 1) / (t_end - t_first), 1) if t_first and n > 1 else None


def _app_tokens_per_s(rt: Any, prompt: str, tokens: int) -> tuple[Any, str]:
    from medsearch_app.core.llm.runtime import GenStats

    stats: list[GenStats] = []
    text = "".join(rt.stream(prompt, max_tokens=tokens, temperature=0.0, stats_out=stats))
    return stats[0], text


def run_child(path: Path, args: argparse.Namespace, ref: Path | None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path),
           "--tokens", str(args.tokens), "--threads", str(args.threads),
           "--n-ctx", str(args.n_ctx)]
    if ref is not None:
        cmd += ["--ref", str(ref)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        return {"file": path.name, "error": f"child exited {proc.returncode}"}
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.strip()][-1])


# ---- parent --------------------------------------------------------------------------------------
def leak_check(files: dict[str, Path], switches: int, tokens: int) -> dict[str, Any]:
    from medsearch_app.core.engine import Engine
    from medsearch_app.core.settings import Settings

    eng = Engine(settings=Settings())
    rows: list[dict[str, Any]] = []
    try:
        for i in range(switches):
            level = LEAK_LEVELS[i % 2]
            rep = eng.switch_model(files[level])
            if tokens:
                prompt = eng.llm.render([{"role": "user", "content": PROMPT}])
                for _ in eng.llm.stream(prompt, max_tokens=tokens, temperature=0.0):
                    pass
            rows.append({"switch": i + 1, "quant": rep.quant, "rss_after_load_mb": rep.rss_mb,
                         "released_mb": rep.released_mb, "taken_mb": rep.taken_mb,
                         "rss_after_gen_mb": round(_rss_mb(), 1)})
    finally:
        eng.close()
    per_level = {}
    for level in LEAK_LEVELS:
        mine = [r for r in rows if r["quant"] == level]
        if len(mine) >= 2:
            a, b = mine[0]["rss_after_gen_mb"], mine[-1]["rss_after_gen_mb"]
            m = mine[len(mine) // 2]["rss_after_gen_mb"]
            per_level[level] = {"first_mb": a, "last_mb": b,
                                "change_pct": round((b - a) / a * 100, 2),
                                "second_half_change_pct": round((b - m) / m * 100, 2)}
    worst = max((abs(v["change_pct"]) for v in per_level.values()), default=None)
    return {"switches": rows, "per_level": per_level, "worst_change_pct": worst,
            "start_rss_mb": rows[0]["rss_after_gen_mb"] if rows else None,
            "end_rss_mb": rows[-1]["rss_after_gen_mb"] if rows else None,
            "rss_after_close_mb": round(_rss_mb(), 1),
            "pass": worst is not None and worst <= TARGET_LEAK_PCT}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default=",".join(LADDER),
                    help="comma-separated (default: %(default)s)")
    ap.add_argument("--models-dir", help="build/reuse the ladder here (default: a temp folder)")
    ap.add_argument("--tokens", type=int, default=64, help="tokens generated per level")
    ap.add_argument("--threads", type=int, default=0, help="0 = the app's own choice")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--no-agreement", action="store_true", help="skip the F16 agreement")
    ap.add_argument("--switches", type=int, default=20, help="model switches in the leak check")
    ap.add_argument("--leak-tokens", type=int, default=8, help="tokens generated after a switch")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    args = ap.parse_args()
    print(cpu_line(), flush=True)  # every figure below is this CPU's
    sys.path.insert(0, str(REPO))
    if args.child:
        return child(args)

    home = Path(tempfile.mkdtemp(prefix="medsearch-bench-quant-"))
    os.environ["MEDSEARCH_HOME"] = str(home)  # children inherit it
    try:
        return _main(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _main(args: argparse.Namespace, home: Path) -> int:
    from medsearch_app.core.llm.models import default_model_path
    from medsearch_app.core.quant.quantize import QuantDone, base_name, build_ladder
    from medsearch_app.core.settings import Settings, effective_threads

    args.threads = args.threads or effective_threads(Settings())
    levels = [lv.strip().upper() for lv in args.levels.split(",") if lv.strip()]
    build = list(dict.fromkeys([*levels, *LEAK_LEVELS]))
    src = default_model_path()
    out_dir = Path(args.models_dir) if args.models_dir else home / "models"
    t0 = time.perf_counter()
    done: QuantDone | None = None
    for ev in build_ladder(src, build, out_dir):
        if isinstance(ev, QuantDone):
            done = ev
    build_s = time.perf_counter() - t0
    if done is None or done.error or done.cancelled:
        print(f"ladder build failed: {done.error if done else 'no result'}")
        return 0
    print(f"ladder of {src.name}: built {len(done.built)}, reused {len(done.skipped)} in "
          f"{build_s:.1f} s ({args.threads} threads)")
    for w in done.warnings:
        print(f"  warning: {w}")
    files = {lv: out_dir / f"{base_name(src)}.{lv}.gguf" for lv in build}

    ref = None
    if not args.no_agreement and "F16" in levels:
        ref = home / "f16_ref.json"
    order = (["F16"] if "F16" in levels else []) + [lv for lv in levels if lv != "F16"]
    rows = []
    for lv in order:
        r = run_child(files[lv], args, ref)
        r["level"] = lv
        rows.append(r)
    src_row = run_child(src, args, ref)
    src_row["level"] = f"source ({src_row.get('quant_header', '?')})"
    rows.append(src_row)

    print()
    print(f"{'level':<14} {'MiB':>6} {'header':>7} {'llama.cpp':>10} {'RSS0':>6} {'RSSload':>7} "
          f"{'RSSgen':>7} {'gen/file':>8} {'tok/s':>7} {'raw':>7} {'ratio':>5} {'agree':>6}")
    for r in rows:
        if "error" in r:
            print(f"{r['level']:<14} {r['error']}")
            continue
        agree = r.get("agreement")
        agree_s = f"{agree * 100:5.1f}%" if agree is not None else "-"
        r["rss_gen_over_file"] = round(r["rss_gen_mb"] / r["file_mib"], 2)
        lq = f"{r['llama_quant']}({r['llama_file_type']})"
        tps, raw_tps = r["tokens_per_s"], r.get("raw_tokens_per_s")
        r["ratio_tokens_per_s"] = round(tps / raw_tps, 3) if tps and raw_tps else None
        ratio_s = f"{r['ratio_tokens_per_s']:.2f}" if r["ratio_tokens_per_s"] else "-"
        print(f"{r['level']:<14} {r['file_mib']:>6.1f} {r['quant_header']:>7} {lq:>10} "
              f"{r['rss_base_mb']:>6.0f} {r['rss_load_mb']:>7.0f} {r['rss_gen_mb']:>7.0f} "
              f"{r['rss_gen_over_file']:>8.2f} {tps or 0:>7.1f} {raw_tps or 0:>7.1f} {ratio_s:>5} "
              f"{agree_s:>6}")
    print("RSS in MiB (RSS0: python + llama_cpp imported, before load). tok/s: LlmRuntime; raw: "
          "bare llama_cpp.Llama, same prompt and settings (mean of 2 runs each, order app raw "
          f"raw app); ratio = app/raw. agree: share of {args.tokens} positions whose top token "
          "equals F16's (teacher-forced on F16's greedy continuation).")
    mismatch = [r["level"] for r in rows if "error" not in r
                and r["quant_header"] != r["llama_quant"]]
    if mismatch:
        print(f"header and llama.cpp disagree on: {', '.join(mismatch)}")

    leak = None
    if args.switches >= 2:
        leak = leak_check(files, args.switches, args.leak_tokens)
        print()
        print(f"leak check: {args.switches} switches {'/'.join(LEAK_LEVELS)} in one process "
              f"(Engine.switch_model, {args.leak_tokens} tokens after each)")
        print("  RSS after each (MiB): " + " ".join(
            f"{r['rss_after_gen_mb']:.0f}" for r in leak["switches"]))
        for lv, v in leak["per_level"].items():
            print(f"  {lv:<7} first {v['first_mb']:.1f} -> last {v['last_mb']:.1f} MiB: "
                  f"{v['change_pct']:+.2f}% (second half alone "
                  f"{v['second_half_change_pct']:+.2f}%)")
        print("  growth that goes on in the second half is a leak; a plateau after the first "
              "switches is allocator warm-up")
        print(f"  start {leak['start_rss_mb']} MiB, end {leak['end_rss_mb']} MiB, after close "
              f"{leak['rss_after_close_mb']} MiB; worst change {leak['worst_change_pct']}% "
              f"(target within {TARGET_LEAK_PCT:g}%) {_verdict(leak['pass'])}")

    if args.json:
        out = {"bench": "quant_levels", "source": str(src), "threads": args.threads,
               "build_s": round(build_s, 2), "built": [p.name for p in done.built],
               "warnings": done.warnings, "levels": rows, "leak": leak,
               "target_leak_pct": TARGET_LEAK_PCT}
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
