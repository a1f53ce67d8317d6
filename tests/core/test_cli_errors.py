"""Exit codes: bad user input is exit 3 without a traceback; a bug is not dressed up as one.

The core's error family (core/errors.py) carries each exit code; the command line maps it in one
place (cli/common.py run_command) and drains events there with Ctrl-C handled once."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from medsearch_app import cli
from medsearch_app.cli.common import drain
from medsearch_app.core.embedding.base import Precision
from medsearch_app.core.errors import (
    BadInput,
    MedSearchError,
    ResourceProblem,
    StorageError,
    UsageError,
)
from medsearch_app.core.evaluation.answers import load_questions
from medsearch_app.core.evaluation.retrieval import parse_weights
from medsearch_app.core.library.index import IndexProblem
from medsearch_app.core.library.indexing import LibraryBusy
from medsearch_app.core.library.notes import NoteError
from medsearch_app.core.llm.answer_model import ModelPackageError
from medsearch_app.core.llm.gguf import GgufError
from medsearch_app.core.llm.models import ModelNotFound
from medsearch_app.core.llm.runtime import ModelLoadError, NotEnoughMemory
from medsearch_app.core.quant.quantize import QuantizeError
from medsearch_app.core.retrieval.search import Mode, read_queries


def _args() -> argparse.Namespace:
    return argparse.Namespace(json=True)


def test_parsers_raise_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="fp7"):
        Precision.parse("fp7")
    with pytest.raises(BadInput, match="fuzzy"):
        Mode.parse("fuzzy")
    with pytest.raises(BadInput, match="weights"):
        parse_weights("0.5,abc")
    assert parse_weights("") is None and parse_weights("0.4, 0.6") == [0.4, 0.6]
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "ok"}\n{"no": "question"}\n', encoding="utf-8")
    with pytest.raises(BadInput, match=r"q\.jsonl:2"):
        load_questions(bad)
    with pytest.raises(BadInput, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(BadInput, match="question"):
        read_queries(bad)
    with pytest.raises(BadInput, match="cannot read"):
        read_queries(tmp_path / "missing.txt")
    assert issubclass(BadInput, ValueError)  # callers that caught ValueError still work


def test_bad_input_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    def cmd(_args: argparse.Namespace) -> int:
        Precision.parse("fp7")
        return 0

    assert cli.run_command(cmd, _args()) == cli.EXIT_BAD_INPUT == 3
    err = capsys.readouterr().err
    assert "fp7" in err and "Traceback" not in err


def test_a_programming_error_is_an_internal_error_with_its_traceback(
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    def cmd(_args: argparse.Namespace) -> int:
        return int("not a number")  # a bug: a ValueError that is no user's mistake

    with caplog.at_level(logging.ERROR, logger="medsearch"):
        code = cli.run_command(cmd, _args())
    assert code == cli.EXIT_INTERNAL == 1
    assert code not in (cli.EXIT_USAGE, cli.EXIT_BAD_INPUT, cli.EXIT_RESOURCES)
    assert "internal error" in capsys.readouterr().err
    rec = next(r for r in caplog.records if r.name == "medsearch")
    assert rec.exc_info is not None and rec.exc_info[0] is ValueError


def test_unreadable_queries_file_is_exit_3(home: Path, medsearch, tmp_path: Path) -> None:
    qfile = tmp_path / "q.txt"
    qfile.write_text(json.dumps({"not": "a question"}) + "\n", encoding="utf-8")
    r = medsearch(home, "search", "--queries", str(qfile), "--json")
    assert r.returncode == 3, r.stderr
    assert "question" in r.stderr and "Traceback" not in r.stderr and r.stdout == ""


def test_bad_weights_is_exit_3(home: Path, medsearch, tmp_path: Path) -> None:
    r = medsearch(home, "eval-retrieval", "--pdfs", str(tmp_path), "--weights", "x", "--json")
    assert r.returncode == 3, r.stderr
    assert "weights" in r.stderr and "Traceback" not in r.stderr


FAMILY = {BadInput: 3, LibraryBusy: 3, ModelLoadError: 3, GgufError: 3, QuantizeError: 3,
          IndexProblem: 3, NoteError: 3, UsageError: 2, ResourceProblem: 4, StorageError: 4,
          NotEnoughMemory: 4, ModelNotFound: 4, ModelPackageError: 4}


@pytest.mark.parametrize("kind", list(FAMILY), ids=lambda k: k.__name__)
def test_a_user_facing_error_reaches_the_user_as_its_message_and_exit_code(
        kind: type[MedSearchError], capsys: pytest.CaptureFixture[str]) -> None:
    def cmd(_args: argparse.Namespace) -> int:
        raise kind("what went wrong and what to do")

    assert issubclass(kind, MedSearchError)
    assert cli.run_command(cmd, _args()) == FAMILY[kind]
    assert capsys.readouterr().err == "medsearch: what went wrong and what to do\n"


def test_the_family_keeps_the_builtin_bases_callers_catch() -> None:
    assert issubclass(BadInput, ValueError) and issubclass(StorageError, OSError)
    assert (cli.EXIT_OK, cli.EXIT_INTERNAL, cli.EXIT_USAGE, cli.EXIT_BAD_INPUT,
            cli.EXIT_RESOURCES) == (0, 1, 2, 3, 4)


def _interrupted() -> Iterator[int]:
    yield 1
    raise KeyboardInterrupt


def test_ctrl_c_while_draining_cancels_says_so_and_exits_130(
        capsys: pytest.CaptureFixture[str]) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def cmd(_args: argparse.Namespace) -> int:
        drain(_interrupted(), str, seen.append, cancel=cancel, stopped="[stopped: kept]")
        return 0

    assert cli.run_command(cmd, _args()) == cli.EXIT_STOPPED == 130
    assert cancel.is_set() and seen == [1]
    assert capsys.readouterr().err == "\n[stopped: kept]\n"


def test_drain_returns_the_closing_event() -> None:
    seen: list[object] = []
    assert drain(iter([1, 2, "done"]), str, seen.append) == "done" and seen == [1, 2]
    with pytest.raises(KeyboardInterrupt):  # no cancel event: Ctrl-C is Python's, as before
        drain(_interrupted(), str)
    with pytest.raises(RuntimeError, match="without a str"):  # a generator that never ends: a bug
        drain(iter([1]), str)
