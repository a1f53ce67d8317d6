"""Exit codes: bad user input is exit 3 without a traceback; a bug is not dressed up as one."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pytest

from medsearch_app import cli
from medsearch_app.core.embed import Precision
from medsearch_app.core.errors import BadInput
from medsearch_app.core.eval_answers import load_questions
from medsearch_app.core.evaluate import parse_weights
from medsearch_app.core.search import Mode, read_queries


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

    assert cli._run(cmd, _args()) == cli.EXIT_BAD_INPUT == 3
    err = capsys.readouterr().err
    assert "fp7" in err and "Traceback" not in err


def test_a_programming_error_is_an_internal_error_with_its_traceback(
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    def cmd(_args: argparse.Namespace) -> int:
        return int("not a number")  # a bug: a ValueError that is no user's mistake

    with caplog.at_level(logging.ERROR, logger="medsearch"):
        code = cli._run(cmd, _args())
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
