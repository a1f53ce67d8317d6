"""What the commands share: opening an engine, --json output, draining a core generator with
Ctrl-C, and the one place that turns an exception into an exit code and a message.

A command is a function `cmd_x(args) -> exit code`. It reports a mistake the user can fix by
raising an error of the core family (core/errors.py: BadInput, UsageError, ResourceProblem, ...);
`run_command` prints its message and returns its exit code. Anything else is a bug: its traceback
is logged and the user is told it is one (exit 1).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.errors import EXIT_INTERNAL, EXIT_STOPPED, MedSearchError

if TYPE_CHECKING:
    from ..core.engine import Engine

log = logging.getLogger("medsearch")
Done = TypeVar("Done")


class Stopped(Exception):
    """The user pressed Ctrl-C during a command's long work: its cancel event is set and the stop
    was said on stderr; the command exits 130 (after its cleanup has run)."""


def emit(args: argparse.Namespace, payload: dict[str, Any], text: str | None = None) -> None:
    """The command's result on stdout: one JSON document with --json, else `text` (if any)."""
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    elif text is not None:
        print(text)


def open_engine(args: argparse.Namespace) -> Engine:
    """The session's engine for the command's --precision, --model and --quant (where it has
    them); says on stderr when the embedder must first be prepared. The caller closes it."""
    from ..core.engine import Engine

    eng = Engine(precision=getattr(args, "precision", None), model=getattr(args, "model", None),
                 quant=getattr(args, "quant", None))
    if eng.embedder_needs_preparing():
        print(f"[medsearch] preparing the {eng.precision.value} embedder for this computer "
              "(once per data folder, about 15 s)…", file=sys.stderr)
    return eng


def drain(events: Iterable[Any], done_type: type[Done],
          on_event: Callable[[Any], None] | None = None, *,
          cancel: threading.Event | None = None, stopped: str = "[stopped]") -> Done:
    """Run a core generator to its end: each event but the last goes to `on_event`, the closing
    `done_type` event is returned.

    With `cancel`, Ctrl-C sets it (the generator stops at its next check), prints `stopped` on
    stderr and raises Stopped; without, Ctrl-C is left to Python as before."""
    done: Done | None = None
    try:
        for ev in events:
            if isinstance(ev, done_type):
                done = ev
            elif on_event is not None:
                on_event(ev)
    except KeyboardInterrupt:
        if cancel is None:
            raise
        cancel.set()
        print(f"\n{stopped}", file=sys.stderr)
        raise Stopped from None
    if done is None:
        raise RuntimeError(f"the events ended without a {done_type.__name__}")  # a bug
    return done


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command; the exit code. The one mapping from exceptions to codes and messages."""
    try:
        return int(func(args))
    except Stopped:
        return EXIT_STOPPED
    except MedSearchError as exc:
        print(f"medsearch: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except Exception:
        # Anything else is a bug, not a user mistake: keep the traceback for the report.
        log.exception("internal error")
        print("medsearch: internal error (a bug); the details above help to report it",
              file=sys.stderr)
        return EXIT_INTERNAL
