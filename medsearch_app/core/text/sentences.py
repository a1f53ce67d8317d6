"""Sentence boundaries of answers and passages, one rule for the sentence check, the pairing of
quantities with their terms and the answer's streaming."""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by whitespace (so "7.5 mg" stays whole) or at a line end.
SENTENCE = re.compile(r"[^\n]+?(?:[.!?](?:\s*\[\d{1,2}\])*(?=\s|$)|$)", re.MULTILINE)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each non-blank sentence of `text`."""
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text) if m.group(0).strip()]
