"""Find a passage in another extraction of the same text (the PDF viewer's, a rendered note).

pypdf and pdfium (the viewer) extract the same page differently: other line breaks, hyphenation,
ligatures; a Markdown note shows without its `**` and `#`. Both sides are reduced to lowercase
letters and digits (NFKC first, so "ﬁ" is "fi"), with a map back to the original offsets; the
passage is then found exactly, or by its longest matching head and tail.
"""

from __future__ import annotations

import unicodedata

ANCHOR = 40  # normalised characters tried first at each end when the whole is not found
MIN_ANCHOR = 12


def _normalise(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c.isalnum():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


def locate(needle: str, haystack: str) -> tuple[int, int] | None:
    """[start, end) of `needle` in `haystack`, ignoring layout, case and markup; None if absent."""
    n, _ = _normalise(needle)
    h, where = _normalise(haystack)
    if not n or not h:
        return None
    i = h.find(n)
    if i >= 0:
        return where[i], where[i + len(n) - 1] + 1
    size = min(ANCHOR, len(n))
    while size >= MIN_ANCHOR:
        a = h.find(n[:size])
        if a >= 0:
            b = h.find(n[-size:], a)
            if b >= 0 and 0.5 * len(n) <= b + size - a <= 2 * len(n):
                return where[a], where[b + size - 1] + 1
        size -= 4
    return None
