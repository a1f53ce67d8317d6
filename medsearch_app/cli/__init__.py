"""The medsearch command: index, search, ask, models, quantize, compare, eval-retrieval, ...

With no arguments it opens the desktop app (the only path that imports Qt). Every command
accepts --json and then prints exactly one JSON document on stdout; logs go to stderr.
Exit codes: 0 success, 2 usage error, 3 bad input, 4 not enough memory or disk, or a missing model;
1 for an internal error (a bug: the traceback is logged to stderr).

One module per group of commands, each command a function `cmd_x(args) -> exit code`:

    library.py     index, search, library
    answers.py     ask, demo
    quant.py       models, quantize, compare
    evaluation.py  eval-retrieval, eval-answers
    app.py         gui, selftest, delete-data
    parser.py      the argparse tree: options, help, and which function runs each command
    common.py      what they share: the engine, --json output, draining a core generator with
                   Ctrl-C, and `run_command`, the one place that maps the core error family
                   (core/errors.py) to exit codes and messages; anything else is a bug

A command never calls another: what two commands share is a plain function (demo indexes with
library.index_library and answers with answers.answer_question).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..core.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_RESOURCES,
    EXIT_STOPPED,
    EXIT_USAGE,
)
from ..core.system import offline  # noqa: F401  (HF_HUB_OFFLINE before any model library)
from .app import cmd_gui
from .common import run_command
from .parser import build_parser

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_RESOURCES", "EXIT_STOPPED",
           "EXIT_USAGE", "build_parser", "main", "run_command"]


def main(argv: list[str] | None = None) -> int:
    """The medsearch command on `argv` (default: sys.argv[1:]); its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv:
        return run_command(cmd_gui, argparse.Namespace(json=False))
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
    return run_command(args.func, args)
