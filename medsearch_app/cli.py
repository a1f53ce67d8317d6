"""The medsearch command: index, search, ask, models, quantize, compare, eval-retrieval, ...

With no arguments it opens the desktop app (the only path that imports Qt). Every command
accepts --json and then prints exactly one JSON document on stdout; logs go to stderr.
Exit codes: 0 success, 2 usage error, 3 bad input, 4 not enough memory or disk, or a missing model;
1 for an internal error (a bug: the traceback is logged to stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

from .core import offline  # noqa: F401  (HF_HUB_OFFLINE before any model library)
from .core.quantize import LADDER

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_RESOURCES = 0, 1, 2, 3, 4
log = logging.getLogger("medsearch")


class UserError(Exception):
    """A mistake the user can fix; printed without a traceback."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str | None = None) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    elif text is not None:
        print(text)


def _engine(args: argparse.Namespace) -> Any:
    from .core.engine import Engine

    eng = Engine(precision=getattr(args, "precision", None), model=getattr(args, "model", None),
                 quant=getattr(args, "quant", None))
    if eng.embedder_needs_preparing():
        print(f"[medsearch] preparing the {eng.precision.value} embedder for this computer "
              "(once per data folder, about 15 s)…", file=sys.stderr)
    return eng


# ---- commands ----------------------------------------------------------------------------------
def cmd_index(args: argparse.Namespace) -> int:
    from .core.types import DocStatus, FileIndexed, IndexDone, Progress, Stage

    eng = _engine(args)
    try:
        lib = eng.library
        if lib.index_problem():
            print(f"[index] repairing: {lib.index_problem()}", file=sys.stderr)
        done: IndexDone | None = None
        try:
            for ev in lib.index_paths([Path(p) for p in args.paths]):
                if isinstance(ev, IndexDone):
                    done = ev
                elif (isinstance(ev, FileIndexed) and not args.quiet
                      and ev.status != DocStatus.UNCHANGED):
                    extra = f" - {ev.reason}" if ev.reason else ""
                    print(f"[{ev.status}] {ev.path} ({ev.pages} pages, {ev.chunks} chunks)"
                          f"{extra}", file=sys.stderr)
                elif isinstance(ev, Progress) and ev.stage == Stage.WAITING:
                    print(f"[index] {ev.message}", file=sys.stderr, flush=True)
                elif isinstance(ev, Progress) and ev.stage == Stage.RESUMING and not args.quiet:
                    print(f"[resume] {ev.chunks_done}/{ev.chunks_total} passages",
                          file=sys.stderr)
        except FileNotFoundError as exc:
            raise UserError(str(exc)) from exc
        assert done is not None
        text = (f"added {done.added}, updated {done.updated}, removed {done.removed}, "
                f"unchanged {done.unchanged}, failed {len(done.failed)}; {done.chunks} chunks "
                f"in {done.seconds:.1f} s")
        for f in done.failed:
            text += f"\n  failed: {f.path}: {f.reason}"
        _emit(args, done.to_json(), text)
        return EXIT_OK
    finally:
        eng.close()


def cmd_search(args: argparse.Namespace) -> int:
    from .core.search import read_queries

    if not args.question and not args.queries:
        raise UserError("give a QUESTION or --queries FILE", EXIT_USAGE)
    questions = read_queries(Path(args.queries)) if args.queries else [args.question]
    eng = _engine(args)
    try:
        retr = eng.retriever
        mode = args.mode or eng.settings.retrieval_mode
        results = []
        for q in questions:
            r = retr.search(q, k=args.k, mode=mode)
            results.append({"question": q, "hits": [h.to_json() for h in r.hits],
                            "elapsed_ms": r.elapsed_ms, "supported": r.supported,
                            "best_similarity": r.best_similarity})
        if args.queries:
            _emit(args, {"results": results, "mode": mode})
            if not args.json:
                for r in results:
                    top = r["hits"][0] if r["hits"] else None
                    print(f"{r['question'][:60]!r}: "
                          f"{Path(top['path']).name + ' p.' + str(top['page']) if top else '-'}")
        else:
            r0 = results[0]
            text = "\n".join(
                f"{h['rank']:>2}. {h['score']:.3f}  {Path(h['path']).name}"
                f"{' p.' + str(h['page']) if h['page'] else ''}  "
                f"{' '.join(h['text'].split())[:100]}"
                for h in r0["hits"]
            ) or "no matching passages"
            _emit(args, {"hits": r0["hits"], "elapsed_ms": r0["elapsed_ms"], "mode": mode,
                         "supported": r0["supported"]}, text)
        return EXIT_OK
    finally:
        eng.close()


def cmd_ask(args: argparse.Namespace) -> int:
    from .core.rag import EMPTY_ANSWER
    from .core.types import AnswerDone, CitationMode, Retrieved, Token, page_ref

    eng = _engine(args)
    cancel = threading.Event()
    try:
        opts = eng.ask_options(k=args.k, mode=args.mode, max_tokens=args.max_tokens)
        if getattr(args, "source_chars", None) is not None:  # `demo` has no such option
            opts.source_chars = args.source_chars
        done: AnswerDone | None = None
        streamed = False
        try:
            for ev in eng.ask(args.question, options=opts, cancel=cancel):
                if isinstance(ev, Retrieved) and ev.evidence and not args.json:
                    print("From your documents:")
                    for e in ev.evidence:
                        print(f"  “{' '.join(e.text.split())}” "
                              f"({Path(e.path).name}{page_ref(e.page, e.page_label)})")
                    print("\nAnswer:")
                elif isinstance(ev, Token) and not args.json:
                    sys.stdout.write(ev.text)
                    sys.stdout.flush()
                    streamed = True
                elif isinstance(ev, AnswerDone):
                    done = ev
        except KeyboardInterrupt:
            cancel.set()
            print("\n[stopped]", file=sys.stderr)
            return 130
        assert done is not None
        if args.json:
            print(json.dumps(done.to_json(), ensure_ascii=False))
        else:
            if streamed and done.citation_mode in (CitationMode.ATTRIBUTED, CitationMode.MIXED):
                print(f"\n\nWith citations added by overlap:\n{done.answer}")
            elif streamed and done.citation_mode == CitationMode.NONE:
                print(f"\n\n{EMPTY_ANSWER}")
            elif not streamed:
                print(done.answer)
            else:
                print()
            if done.warning:
                print(f"\nWarning: {done.warning}")
            flagged = [c for c in done.sentences if c.supported is False]
            for chk in flagged:
                print(f"  ! {chk.reason}: “{chk.text}”")
            print("\nSources:")
            for c in done.citations:
                print(f"  [{c.n}] {c.path}{page_ref(c.page, c.page_label)}")
            if not done.citations:
                print("  (none)")
            t = done.timings
            print(f"\n{done.model_file} ({done.quant}) | retrieval {t.retrieval_ms:.0f} ms, "
                  f"first token {t.ttft_ms or 0:.0f} ms, {t.tokens_per_s or 0:.0f} tok/s, "
                  f"total {t.total_ms:.0f} ms", file=sys.stderr)
        return EXIT_OK
    finally:
        eng.close()


def cmd_models(args: argparse.Namespace) -> int:
    from .core.models import choose_default_model, discover, model_folders
    from .core.settings import Settings

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
    _emit(args, payload, text)
    return EXIT_OK


def cmd_quantize(args: argparse.Namespace) -> int:
    from .core.models import default_model_path, models_dir
    from .core.quantize import QuantDone, QuantProgress, build_ladder, ladder_folder

    if args.source == "default":
        src = default_model_path()
    else:
        src = Path(args.source).expanduser()
        if not src.is_file():
            raise UserError(f"model file not found: {src}")
    out = Path(args.out) if args.out else ladder_folder(src, models_dir())
    done: QuantDone | None = None
    for ev in build_ladder(src, args.levels.split(","), out, force=args.force):
        if isinstance(ev, QuantProgress) and not args.json:
            print(f"[{ev.done}/{ev.total}] {ev.message}", file=sys.stderr)
        elif isinstance(ev, QuantDone):
            done = ev
    assert done is not None
    for w in done.warnings:
        print(f"warning: {w}", file=sys.stderr)
    _emit(args, done.to_json(), "\n".join(f"built {p}" for p in done.built) or "nothing built")
    if done.error:
        raise UserError(done.error)
    return EXIT_OK


def cmd_library(args: argparse.Namespace) -> int:
    """The library as it stands, checked: exit 0 when consistent, 3 when not."""
    from .core.embed import embedder_key
    from .core.library_check import check_library
    from .core.settings import Settings, data_home

    settings = Settings.load()
    key = embedder_key(settings.embedder_path or None, args.precision or settings.precision)
    chk = check_library(data_home(), key)
    lines = [f"{d.status.value:<8} {d.n_pages:>5} p {d.n_chunks:>6} passages  {d.path}"
             + (f"  ({d.reason})" if d.reason else "") for d in chk.documents]
    lines.append(f"{len(chk.documents)} documents, {chk.chunks} passages, {chk.pending} still "
                 f"to embed for {key}")
    for i in chk.indexes:
        lines.append(f"index {i.key}{' (active)' if i.active else ''}: {i.vectors} vectors, "
                     f"{i.missing} pending, {i.stale} stale"
                     + (f", unusable: {i.problem}" if i.problem else ""))
    lines.append("consistent" if chk.consistent else
                 "NOT consistent:\n  " + "\n  ".join(chk.problems))
    _emit(args, chk.to_json(), "\n".join(lines))
    return EXIT_OK if chk.consistent else EXIT_BAD_INPUT


def cmd_delete_data(args: argparse.Namespace) -> int:
    """Remove the library, indexes, comparisons and settings (models kept unless --models)."""
    from dataclasses import asdict

    from .core.forget import delete_user_data, forget_onnxruntime_telemetry
    from .core.settings import data_home

    home = data_home()
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("delete-data removes your library for good: add --yes to confirm",
                            EXIT_USAGE)
        what = "everything" if args.models else "your library, indexes, comparisons and settings"
        reply = input(f"Delete {what} in {home}? Type 'delete' to confirm: ")
        if reply.strip().lower() != "delete":
            print("Nothing deleted.")
            return EXIT_OK
    telemetry, telemetry_note = forget_onnxruntime_telemetry(home)
    removed = delete_user_data(home, models=args.models)
    lines = [f"removed {r.name} ({r.files} files, {r.bytes / 2**20:.1f} MiB)" for r in removed]
    lines.append(f"{len(removed)} entries removed from {home}" + (
        "" if args.models else "; models kept (--models removes them too)"))
    if telemetry_note:
        lines.append(telemetry_note)
    _emit(args, {"home": str(home), "removed": [asdict(r) for r in removed],
                 "models_kept": not args.models,
                 "outside_data_folder": {"removed": [asdict(telemetry)] if telemetry else [],
                                         "note": telemetry_note}}, "\n".join(lines))
    return EXIT_OK


def cmd_selftest(args: argparse.Namespace) -> int:
    from .core.selftest import run_selftest

    def window() -> str:
        try:
            from .ui.selftest_window import check_window
        except ImportError as exc:
            raise RuntimeError(f"the desktop app cannot start: {exc}") from exc
        return check_window()

    results = run_selftest([] if args.no_window else [("window", window)])
    ok = all(r["ok"] for r in results)
    text = "\n".join(f"[{'ok' if r['ok'] else 'FAIL'}] {r['name']}: {r['detail']}"
                     for r in results)
    _emit(args, {"ok": ok, "checks": results}, text)
    return EXIT_OK if ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Index the demo library and ask one question (headless version of the first run)."""
    from .core.settings import data_home
    from .demo import DEMO_QUESTIONS, install_demo

    demo = install_demo(data_home() / "demo")
    args.paths, args.quiet = [str(demo)], True
    json_out, args.json = args.json, False
    # with --json, stdout carries the answer's document alone: the index summary goes to stderr
    with contextlib.redirect_stdout(sys.stderr if json_out else sys.stdout):
        cmd_index(args)
    args.json = json_out
    args.question, args.k, args.mode, args.max_tokens = DEMO_QUESTIONS[0], None, None, None
    if not json_out:
        print(f"\nQ: {args.question}\n")
    return cmd_ask(args)


def cmd_eval(args: argparse.Namespace) -> int:
    from .core.evaluate import parse_weights, precision_table, run_eval, run_precisions

    if not args.pubmedqa and not args.pdfs:
        raise UserError("give --pubmedqa DIR and/or --pdfs DIR", EXIT_USAGE)
    if args.precisions:
        from .core.embed import Precision

        precisions = [Precision.parse(p).value for p in args.precisions.split(",") if p]
        report = run_precisions(pubmedqa=Path(args.pubmedqa) if args.pubmedqa else None,
                                precisions=precisions, modes=args.modes.split(","),
                                limit=args.limit, work=Path(args.work) if args.work else None,
                                pdfs=Path(args.pdfs) if args.pdfs else None,
                                page_questions=[Path(p) for p in args.page_questions],
                                log=lambda m: print(m, file=sys.stderr))
        _emit(args, report, json.dumps(report, indent=2) + "\n\n" + precision_table(report))
        return EXIT_OK
    report = run_eval(pubmedqa=Path(args.pubmedqa) if args.pubmedqa else None,
                      pdfs=Path(args.pdfs) if args.pdfs else None,
                      modes=args.modes.split(","), precision=args.precision, limit=args.limit,
                      weights=parse_weights(args.weights),
                      work=Path(args.work) if args.work else None,
                      page_questions=[Path(p) for p in args.page_questions],
                      log=lambda m: print(m, file=sys.stderr))
    _emit(args, report, json.dumps(report, indent=2))
    return EXIT_OK


def cmd_eval_answers(args: argparse.Namespace) -> int:
    from .core import eval_answers

    if not (args.pubmedqa or args.questions):
        raise UserError("give --pubmedqa DIR and/or --questions FILE", EXIT_USAGE)
    eng = _engine(args)
    try:
        rep = eval_answers.run(
            eng, pubmedqa=Path(args.pubmedqa) if args.pubmedqa else None,
            questions=Path(args.questions) if args.questions else None,
            library=[Path(p) for p in args.library], offlib=[Path(p) for p in args.offlib],
            limit=args.limit, k=args.k, no_model=args.no_model, source_chars=args.source_chars,
            log=None if args.json else (lambda m: print(m, file=sys.stderr)))
        if args.out:
            Path(args.out).write_text(json.dumps(rep, indent=1, ensure_ascii=False), "utf-8")
        _emit(args, rep, json.dumps(rep["summary"], indent=2))
        return EXIT_OK
    finally:
        eng.close()


def cmd_compare(args: argparse.Namespace) -> int:
    """Quant levels of one model on the same prompts: speed, memory, quality, recommendation."""
    from .core import compare_report
    from .core.compare import (
        CompareDone,
        ComparePlan,
        CompareProgress,
        Comparison,
        LevelDone,
        labelled_questions,
    )
    from .core.models import family_levels
    from .core.recommend import Budget, level_fits, recommend
    from .core.search import Mode, read_queries
    from .core.settings import effective_threads
    from .demo import DEMO_QUESTIONS

    eng = _engine(args)
    try:
        names = None if args.levels == "all" else [x for x in args.levels.split(",") if x]
        levels = family_levels(eng.settings, model=args.model, levels=names)
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
        out = Path(args.out)
        cancel = threading.Event()
        done: CompareDone | None = None
        try:
            for ev in Comparison(plan, eng.retriever, out).run(cancel):
                if isinstance(ev, CompareProgress) and not args.quiet:
                    eta = f", about {ev.eta_s:.0f} s left" if ev.eta_s is not None else ""
                    print(f"[{ev.step}] {ev.level} {ev.done}/{ev.total}{eta}", file=sys.stderr)
                elif isinstance(ev, LevelDone) and not args.quiet:
                    r = ev.result
                    print(f"{r.quant:<8} {'(saved) ' if ev.resumed else ''}{r.file_mb} MiB, "
                          f"{r.tokens_per_s} tok/s, KLD {r.kld_mean}, same-top "
                          f"{r.same_top_pct}%", file=sys.stderr)
                elif isinstance(ev, CompareDone):
                    done = ev
        except KeyboardInterrupt:
            cancel.set()
            print("\n[stopped: finished levels are kept; run again to resume]", file=sys.stderr)
            return 130
        assert done is not None
        rec = recommend(done.levels, budget, level_fits(done.levels, n_ctx=plan.n_ctx))
        data = compare_report.write(done, plan, budget, rec, out)
        rows = [f"{'level':<8} {'MiB':>7} {'RSS':>6} {'tok/s':>7} {'ttft ms':>8} {'KLD':>8} "
                f"{'same-top':>8}"]
        rows += [f"{r.quant:<8} {r.file_mb:>7} {r.rss_mb:>6.0f} {r.tokens_per_s or 0:>7} "
                 f"{r.ttft_ms or 0:>8.0f} {r.kld_mean or 0:>8.4f} {r.same_top_pct or 0:>7}%"
                 for r in done.levels]
        rows += [f"\nNote: {n}" for n in data["notes"]]
        rows.append(f"\n{rec.reason}\nReport: {', '.join(data['files'])}")
        _emit(args, data, "\n".join(rows))
        return EXIT_OK
    finally:
        eng.close()


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from .ui.app import run_app
    except ImportError as exc:
        raise UserError(f"the desktop app cannot start: {exc}", EXIT_RESOURCES) from exc
    return int(run_app(sys.argv[:1], quit_after=getattr(args, "quit_after", None),
                       ask=getattr(args, "ask", None)))


# ---- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medsearch", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command")

    def add(name: str, func: Any, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--json", action="store_true", help="print one JSON document")
        sp.set_defaults(func=func)
        return sp

    sp = add("index", cmd_index, "add files/folders to the library and index what changed")
    sp.add_argument("paths", nargs="+", metavar="PATH")
    sp.add_argument("--precision", help="embedder precision (fp32, int8, onnx-fp32, onnx-int8)")
    sp.add_argument("-q", "--quiet", action="store_true")

    sp = add("search", cmd_search, "retrieve passages (no generation)")
    sp.add_argument("question", nargs="?")
    sp.add_argument("-k", type=int, default=10)
    sp.add_argument("--precision")
    sp.add_argument("--mode", choices=["dense", "keyword", "hybrid"])
    sp.add_argument("--queries", metavar="FILE", help="one question per line, or JSONL")

    sp = add("ask", cmd_ask, "answer a question from the library with citations")
    sp.add_argument("question")
    sp.add_argument("--quant", help="quant level of the current model family (e.g. Q8_0)")
    sp.add_argument("--model", help="a GGUF file or a folder of GGUF files")
    sp.add_argument("--precision")
    sp.add_argument("--mode", choices=["dense", "keyword", "hybrid"])
    sp.add_argument("-k", type=int)
    sp.add_argument("--max-tokens", type=int)
    sp.add_argument("--source-chars", type=int, metavar="N",
                    help="characters of each source the model reads (-1: automatic, fitted to the "
                    "model's reading speed; 0: whole passages)")

    add("models", cmd_models, "list the GGUF models found")

    sp = add("library", cmd_library, "the library as it stands: documents, passages, and "
             "whether the database and the vector indexes agree (exit 3 when they do not)")
    sp.add_argument("--precision", help="the embedder precision whose index is checked as "
                    "active (default: the settings')")

    sp = add("quantize", cmd_quantize,
             "build quant levels of a GGUF model with llama.cpp's quantizer")
    sp.add_argument("source", help="a GGUF file, or 'default' for the shipped model")
    sp.add_argument("--levels", default=",".join(LADDER),
                    help="comma-separated levels (default: %(default)s)")
    sp.add_argument("--out", help="output folder (default: next to the source; the app's "
                    "models folder for the default model)")
    sp.add_argument("--force", action="store_true", help="rebuild levels that exist")

    sp = add("delete-data", cmd_delete_data, "delete all my data: library, indexes, "
             "comparisons, settings (close the window first)")
    sp.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    sp.add_argument("--models", action="store_true", help="also delete the models folder")

    sp = add("gui", cmd_gui, "open the window (what `medsearch` alone does)")
    sp.add_argument("--quit-after", type=float, metavar="SECONDS",
                    help="close the window after this long and print the start-up time "
                    "(install checks)")
    sp.add_argument("--ask", metavar="QUESTION",
                    help="ask this question as soon as the library is open (checks)")
    sp = add("selftest", cmd_selftest, "check every part on this machine (exit 1 if one fails)")
    sp.add_argument("--no-window", action="store_true",
                    help="skip opening the main window (machines without Qt's libraries)")
    add("demo", cmd_demo, "index the demo library and answer a sample question (headless)")

    sp = add("eval-retrieval", cmd_eval, "retrieval quality on a question set, per mode")
    sp.add_argument("--pubmedqa", metavar="DIR", help="folder with corpus.jsonl, queries.jsonl")
    sp.add_argument("--pdfs", metavar="DIR", help="folder of PDFs with litqa2/questions.jsonl")
    sp.add_argument("--modes", default="dense,keyword,hybrid")
    sp.add_argument("--precision", default="fp32")
    sp.add_argument("--precisions", default="", metavar="fp32,int8",
                    help="compare embedder precisions side by side on --pubmedqa and/or --pdfs "
                    "(the first "
                    "is the reference for overlap@10)")
    sp.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    sp.add_argument("--weights", default="", metavar="A,B,...",
                    help="hybrid dense weights to compare (default: the built-in weight)")
    sp.add_argument("--page-questions", metavar="FILE", action="append", default=[],
                    help="more page-located questions over --pdfs (JSONL: question, file, "
                    "pages); repeatable")
    sp.add_argument("--work", metavar="DIR", help="keep the evaluation libraries here so a "
                    "re-run does not re-embed")

    sp = add("compare", cmd_compare, "compare quant levels of one model on the same prompts "
             "(speed, memory, KL divergence, recommendation; CSV/JSON/HTML report)")
    sp.add_argument("--levels", default="all", help="comma-separated levels of the model's "
                    "family, e.g. F16,Q8_0,Q4_K_M (default: every level found)")
    sp.add_argument("--model", help="a GGUF file of the family (default: the current model)")
    sp.add_argument("--questions", required=True, metavar="FILE",
                    help="one question per line, CSV with a question column, or JSONL "
                    "{\"question\"[, \"relevant_doc\" or \"doc\", \"decision\"]}: labelled "
                    "lines also score each level's answers; 'demo' for the demo set")
    sp.add_argument("--out", required=True, metavar="DIR",
                    help="results and report; a run there resumes")
    sp.add_argument("--limit", type=int, default=0, help="first N questions only")
    sp.add_argument("-k", type=int, default=None, help="passages per question")
    sp.add_argument("--mode", choices=["dense", "keyword", "hybrid"])
    sp.add_argument("--precision")
    sp.add_argument("--max-tokens", type=int, default=64, help="answer tokens timed per level")
    sp.add_argument("--score-tokens", type=int, default=32,
                    help="reference positions scored for KLD per question")
    sp.add_argument("--min-same-top", type=float, default=90.0, metavar="PCT",
                    help="quality budget: same top token as the reference (default 90)")
    sp.add_argument("--max-kld", type=float, default=None, help="quality budget: mean KLD")
    sp.add_argument("--min-tokens-per-s", type=float, default=None, help="speed target")
    sp.add_argument("--max-ttft-ms", type=float, default=None, help="first-token target")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    sp = add("eval-answers", cmd_eval_answers, "answer quality on labelled questions "
             "(refusals, citations, supported sentences, yes/no/maybe)")
    sp.add_argument("--pubmedqa", metavar="DIR", help="PubMedQA folder: its passages are "
                    "indexed into the library and its queries.jsonl asked")
    sp.add_argument("--questions", metavar="FILE", help="a JSONL question file "
                    "(question, answerable, doc[, decision])")
    sp.add_argument("--library", metavar="DIR", action="append", default=[],
                    help="index this folder first (repeatable)")
    sp.add_argument("--offlib", metavar="FILE", action="append", default=[],
                    help="questions no document answers (repeatable)")
    sp.add_argument("--limit", type=int, default=0, help="first N labelled questions only")
    sp.add_argument("-k", type=int, default=None, help="passages per question")
    sp.add_argument("--no-model", action="store_true",
                    help="judge support only (refusals), without asking the model")
    sp.add_argument("--source-chars", type=int, default=None, metavar="N",
                    help="characters of each source the model reads (-1: automatic; 0: whole "
                    "passages; default: the settings')")
    sp.add_argument("--out", metavar="FILE", help="write the per-question report here")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv:
        return _run(cmd_gui, argparse.Namespace(json=False))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("pypdf", "llama_cpp", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.ERROR)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    return _run(args.func, args)


def _run(func: Any, args: argparse.Namespace) -> int:
    from .core.errors import BadInput, StorageError
    from .core.llm import ModelLoadError, NotEnoughMemory
    from .core.models import ModelNotFound

    try:
        return int(func(args))
    except UserError as exc:
        print(f"medsearch: {exc}", file=sys.stderr)
        return exc.code
    except (NotEnoughMemory, ModelNotFound, StorageError) as exc:
        print(f"medsearch: {exc}", file=sys.stderr)
        return EXIT_RESOURCES
    except (ModelLoadError, BadInput) as exc:
        print(f"medsearch: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception:
        # Anything else is a bug, not a user mistake: keep the traceback for the report.
        log.exception("internal error")
        print("medsearch: internal error (a bug); the details above help to report it",
              file=sys.stderr)
        return EXIT_INTERNAL
