"""The answering commands: ask (a cited answer from the library, streamed) and demo (index the
demo library and answer one of its questions, headless).

`answer_question` is the plain function both print through; `demo` indexes with the library
commands' `index_library`, it does not call another command.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_OK
from .common import drain, open_engine
from .library import index_library, index_summary

if TYPE_CHECKING:
    from ..core.answer.rag import AskOptions
    from ..core.engine import Engine


def answer_question(eng: Engine, question: str, options: AskOptions, *, json_out: bool) -> None:
    """Ask `question` and print the answer: the quoted evidence, the answer as it streams, its
    checks and sources (timings on stderr); with `json_out`, one JSON document instead.
    Ctrl-C stops the answer (Stopped)."""
    from ..core.answer.rag import EMPTY_ANSWER
    from ..core.types import AnswerDone, CitationMode, Retrieved, Token, page_ref

    cancel = threading.Event()
    streamed = False

    def show(ev: Any) -> None:
        nonlocal streamed
        if isinstance(ev, Retrieved) and ev.evidence and not json_out:
            print("From your documents:")
            for e in ev.evidence:
                print(f"  “{' '.join(e.text.split())}” "
                      f"({Path(e.path).name}{page_ref(e.page, e.page_label)})")
            print("\nAnswer:")
        elif isinstance(ev, Token) and not json_out:
            sys.stdout.write(ev.text)
            sys.stdout.flush()
            streamed = True

    done = drain(eng.ask(question, options=options, cancel=cancel), AnswerDone, show,
                 cancel=cancel)
    if json_out:
        print(json.dumps(done.to_json(), ensure_ascii=False))
        return
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


def cmd_ask(args: argparse.Namespace) -> int:
    eng = open_engine(args)
    try:
        opts = eng.ask_options(k=args.k, mode=args.mode, max_tokens=args.max_tokens)
        if args.source_chars is not None:
            opts.source_chars = args.source_chars
        answer_question(eng, args.question, opts, json_out=args.json)
        return EXIT_OK
    finally:
        eng.close()


def cmd_demo(args: argparse.Namespace) -> int:
    """Index the demo library and ask one question (headless version of the first run)."""
    from ..core.settings import data_home
    from ..demo import DEMO_QUESTIONS, install_demo

    demo = install_demo(data_home() / "demo")
    question = DEMO_QUESTIONS[0]
    eng = open_engine(args)
    try:
        done = index_library(eng, [demo], quiet=True)
        # with --json, stdout carries the answer's document alone: the index summary goes to stderr
        print(index_summary(done), file=sys.stderr if args.json else sys.stdout)
        if not args.json:
            print(f"\nQ: {question}\n")
        answer_question(eng, question, eng.ask_options(), json_out=args.json)
        return EXIT_OK
    finally:
        eng.close()
