"""The window's one mapping from an exception to the message a user reads."""

from __future__ import annotations

import pytest

from medsearch_app.core.errors import BadInput, StorageError
from medsearch_app.core.llm.gguf import GgufError
from medsearch_app.ui.workers import BUG, user_message


@pytest.mark.parametrize("exc", [BadInput("the file is encrypted"), GgufError("not a GGUF file"),
                                 StorageError("the data folder is full")])
def test_the_error_family_reads_as_its_own_message(exc: Exception) -> None:
    assert user_message(exc) == str(exc)


def test_a_file_problem_reads_as_its_text() -> None:
    assert user_message(FileNotFoundError("/notes does not exist")) == "/notes does not exist"


def test_anything_else_says_it_is_a_bug() -> None:
    msg = user_message(KeyError("chunk_id"))
    assert msg.startswith(BUG) and "chunk_id" in msg
    assert user_message(RuntimeError()).startswith(BUG)
    assert len(user_message(ValueError("x" * 2000))) == 500
