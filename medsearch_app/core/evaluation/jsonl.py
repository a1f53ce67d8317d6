"""The lines of a JSONL file: the one reader of question and corpus files of the evaluations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import BadInput


def jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line; BadInput if the file cannot be read as UTF-8.
    Each caller parses the lines and says what it expected of them."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text") from exc
    for i, line in enumerate(text.split("\n"), 1):
        if line.strip():
            yield i, line
