"""The library commands: index (add files and folders), search (passages, no model), library
(the library as it stands, checked).

`index_library` and `index_summary` are plain functions that `demo` shares with `index`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_BAD_INPUT, EXIT_OK, BadInput, UsageError
from .common import drain, emit, open_engine

if TYPE_CHECKING:
    from ..core.engine import Engine
    from ..core.types import IndexDone


def index_library(eng: Engine, paths: list[Path], *, quiet: bool) -> IndexDone:
    """Index what changed under `paths` into the engine's library; progress on stderr (files
    only when not `quiet`). A path that does not exist is BadInput."""
    from ..core.types import DocStatus, FileIndexed, IndexDone, Progress, Stage

    lib = eng.library
    if lib.index_problem():
        print(f"[index] repairing: {lib.index_problem()}", file=sys.stderr)

    def show(ev: Any) -> None:
        if isinstance(ev, FileIndexed) and not quiet and ev.status != DocStatus.UNCHANGED:
            extra = f" - {ev.reason}" if ev.reason else ""
            print(f"[{ev.status}] {ev.path} ({ev.pages} pages, {ev.chunks} chunks){extra}",
                  file=sys.stderr)
        elif isinstance(ev, Progress) and ev.stage == Stage.WAITING:
            print(f"[index] {ev.message}", file=sys.stderr, flush=True)
        elif isinstance(ev, Progress) and ev.stage == Stage.RESUMING and not quiet:
            print(f"[resume] {ev.chunks_done}/{ev.chunks_total} passages", file=sys.stderr)

    try:
        return drain(lib.index_paths(paths), IndexDone, show)
    except FileNotFoundError as exc:
        raise BadInput(str(exc)) from exc


def index_summary(done: IndexDone) -> str:
    """The counts of one indexing run, and each failure with its reason."""
    text = (f"added {done.added}, updated {done.updated}, removed {done.removed}, "
            f"unchanged {done.unchanged}, failed {len(done.failed)}; {done.chunks} chunks "
            f"in {done.seconds:.1f} s")
    for f in done.failed:
        text += f"\n  failed: {f.path}: {f.reason}"
    return text


def cmd_index(args: argparse.Namespace) -> int:
    eng = open_engine(args)
    try:
        done = index_library(eng, [Path(p) for p in args.paths], quiet=args.quiet)
        emit(args, done.to_json(), index_summary(done))
        return EXIT_OK
    finally:
        eng.close()


def cmd_search(args: argparse.Namespace) -> int:
    from ..core.retrieval.search import read_queries

    if not args.question and not args.queries:
        raise UsageError("give a QUESTION or --queries FILE")
    questions = read_queries(Path(args.queries)) if args.queries else [args.question]
    eng = open_engine(args)
    try:
        retr = eng.retriever
        mode = args.mode or eng.settings.retrieval_mode
        results: list[dict[str, Any]] = []
        for q in questions:
            r = retr.search(q, k=args.k, mode=mode)
            results.append({"question": q, "hits": [h.to_json() for h in r.hits],
                            "elapsed_ms": r.elapsed_ms, "supported": r.supported,
                            "best_similarity": r.best_similarity})
        if args.queries:
            emit(args, {"results": results, "mode": mode})
            if not args.json:
                for res in results:
                    top = res["hits"][0] if res["hits"] else None
                    print(f"{res['question'][:60]!r}: "
                          f"{Path(top['path']).name + ' p.' + str(top['page']) if top else '-'}")
        else:
            r0 = results[0]
            text = "\n".join(
                f"{h['rank']:>2}. {h['score']:.3f}  {Path(h['path']).name}"
                f"{' p.' + str(h['page']) if h['page'] else ''}  "
                f"{' '.join(h['text'].split())[:100]}"
                for h in r0["hits"]
            ) or "no matching passages"
            emit(args, {"hits": r0["hits"], "elapsed_ms": r0["elapsed_ms"], "mode": mode,
                        "supported": r0["supported"]}, text)
        return EXIT_OK
    finally:
        eng.close()


def cmd_library(args: argparse.Namespace) -> int:
    """The library as it stands, checked: exit 0 when consistent, 3 when not."""
    from ..core.embedding.base import embedder_key
    from ..core.library.check import check_library
    from ..core.settings import Settings, data_home

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
    emit(args, chk.to_json(), "\n".join(lines))
    return EXIT_OK if chk.consistent else EXIT_BAD_INPUT
