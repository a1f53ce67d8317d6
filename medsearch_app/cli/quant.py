"""The model and quantization commands: models (the GGUF files found), quantize (build a quant
ladder with llama.cpp's quantizer), compare (quant levels of one model on the same prompts)."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from ..core.errors import EXIT_OK, BadInput
from .common import drain, emit, open_engine


def cmd_models(args: argparse.Namespace) -> int:
    from ..core.llm.models import choose_default_model, discover, model_folders
    from ..core.settings import Settings

    settings = Settings.load()
    default = choose_default_model(settings)  # assembles the shipped answer model, once
    files, bad = discover(model_folders(settings))
    payload = {"models": [m.to_json() for m in files],
               "unreadable": [{"path": str(p), "reason": r} for p, r in bad],
               "default": {"path": str(default.path), "reason": default.reason},
               "configured": settings.model_path or None}
    text = "\n".join(f"{m.family:<32} {m.quant:<8} {m.size_bytes / 2**20:8.1f} MiB  {m.path}"
                      for m in files) or "no GGUF models found"
    text += f"\ndefault: {default.path.name} — {default.reason}"
    if settings.model_path:
        text += f"\nin use (settings): {settings.model_path}"
    emit(args, payload, text)
    return EXIT_OK


def cmd_quantize(args: argparse.Namespace) -> int:
    from ..core.llm.models import default_model_path, models_dir
    from ..core.quant.quantize import (
        QuantDone,
        QuantizeError,
        QuantProgress,
        build_ladder,
        ladder_folder,
    )

    if args.source == "default":
        src = default_model_path()
    else:
        src = Path(args.source).expanduser()
        if not src.is_file():
            raise BadInput(f"model file not found: {src}")
    out = Path(args.out) if args.out else ladder_folder(src, models_dir())

    def show(ev: Any) -> None:
        if isinstance(ev, QuantProgress) and not args.json:
            print(f"[{ev.done}/{ev.total}] {ev.message}", file=sys.stderr)

    done = drain(build_ladder(src, args.levels.split(","), out, force=args.force), QuantDone,
                 show)
    for w in done.warnings:
        print(f"warning: {w}", file=sys.stderr)
    emit(args, done.to_json(), "\n".join(f"built {p}" for p in done.built) or "nothing built")
    if done.error:
        raise QuantizeError(done.error)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Quant levels of one model on the same prompts: speed, memory, quality, recommendation.
    Levels named in --levels that no models folder has are built first, from the model."""
    from ..core.quant.compare import ComparePlan, CompareProgress, LevelDone, labelled_questions
    from ..core.quant.compare.report import text_table
    from ..core.quant.compare.workflow import ReportReady, levels_to_compare, run_comparison
    from ..core.quant.quantize import QuantDone, QuantProgress
    from ..core.quant.recommend import Budget
    from ..core.retrieval.search import Mode, read_queries
    from ..core.settings import effective_threads
    from ..demo import DEMO_QUESTIONS

    eng = open_engine(args)
    try:
        names = None if args.levels == "all" else [x for x in args.levels.split(",") if x]
        levels, build = levels_to_compare(eng.settings, model=args.model, names=names)
        questions = (list(DEMO_QUESTIONS) if args.questions == "demo"
                     else read_queries(Path(args.questions)))
        if args.limit:
            questions = questions[:args.limit]
        labels = [] if args.questions == "demo" else labelled_questions(Path(args.questions))
        plan = ComparePlan(levels, questions, k=args.k or eng.settings.top_k,
                           mode=Mode.parse(args.mode or eng.settings.retrieval_mode),
                           max_tokens=args.max_tokens, score_tokens=args.score_tokens,
                           n_threads=effective_threads(eng.settings), labels=labels)
        budget = Budget(min_same_top_pct=args.min_same_top, max_kld=args.max_kld,
                        min_tokens_per_s=args.min_tokens_per_s, max_ttft_ms=args.max_ttft_ms)
        cancel = threading.Event()

        def show(ev: Any) -> None:
            if args.quiet:
                return
            if isinstance(ev, QuantProgress):
                print(f"[build {ev.done}/{ev.total}] {ev.message}", file=sys.stderr)
            elif isinstance(ev, QuantDone):
                for w in ev.warnings:
                    print(f"warning: {w}", file=sys.stderr)
            elif isinstance(ev, CompareProgress):
                eta = f", about {ev.eta_s:.0f} s left" if ev.eta_s is not None else ""
                print(f"[{ev.step}] {ev.level} {ev.done}/{ev.total}{eta}", file=sys.stderr)
            elif isinstance(ev, LevelDone):
                r = ev.result
                print(f"{r.quant:<8} {'(saved) ' if ev.resumed else ''}{r.file_mb} MiB, "
                      f"{r.tokens_per_s} tok/s, KLD {r.kld_mean}, same-top "
                      f"{r.same_top_pct}%", file=sys.stderr)

        ready = drain(run_comparison(plan, eng.retriever, budget, out_dir=Path(args.out),
                                     build=build, cancel=cancel), ReportReady, show,
                      cancel=cancel,
                      stopped="[stopped: finished levels are kept; run again to resume]")
        data = ready.data
        rows = text_table(ready.done.levels)
        rows += [f"\nNote: {n}" for n in data["notes"]]
        rows.append(f"\n{ready.recommendation.reason}\nReport: {', '.join(data['files'])}")
        emit(args, data, "\n".join(rows))
        return EXIT_OK
    finally:
        eng.close()
