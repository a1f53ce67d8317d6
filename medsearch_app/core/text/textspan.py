"""Find a passage in another extraction of the same text (the PDF viewer's, a rendered note).

pypdf and pdfium (the viewer) extract the same page differently: other line breaks, hyphenation,
ligatures; a Markdown note shows without its `**` and `#`. Both sides are reduced to casefolded
letters and digits (NFKD with accents dropped, so "ﬁ" is "fi" and "é" is "e" in either Unicode
form), with a map back to the original offsets; the passage is then found exactly, or by its
longest matching head and tail when the middle differs (a footnote mark, a table cell).
"""

from __future__ import annotations

import unicodedata

ANCHOR = 40  # normalised characters tried first at each end when the whole is not found
MIN_ANCHOR = 12
MAX_HEADS = 20  # occurrences of a head tried, for passages whose opening words repeat


def _normalise(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():  # the common case, without the Unicode tables
            if ch.isalnum():
                chars.append(ch.lower())
                where.append(i)
            continue
        for c in unicodedata.normalize("NFKD", ch).casefold():
            if c.isalnum():  # combining accents (category Mn) are not alphanumeric
                chars.append(c)
                where.append(i)
    return "".join(chars), where


def _heads(h: str, head: str) -> list[int]:
    found: list[int] = []
    i = h.find(head)
    while i >= 0 and len(found) < MAX_HEADS:
        found.append(i)
        i = h.find(head, i + 1)
    return found


def _anchored(n: str, h: str) -> tuple[int, int] | None:
    """Normalised span between a head and a tail of `n`, at most twice and at least half its
    length apart; longer anchors first, so the span found is the most specific one."""
    sizes = range(min(ANCHOR, len(n) // 2), MIN_ANCHOR - 1, -4)
    for hs in sizes:
        heads = _heads(h, n[:hs])
        for ts in sizes if heads else ():
            tail = n[-ts:]
            for a in heads:
                b = h.find(tail, a + 1, a + 2 * len(n))
                if b >= 0 and len(n) / 2 <= b + ts - a:
                    return a, b + ts
    return None


def locate(needle: str, haystack: str) -> tuple[int, int] | None:
    """[start, end) of `needle` in `haystack`, ignoring layout, case and markup; None if absent."""
    n, _ = _normalise(needle)
    h, where = _normalise(haystack)
    if not n or not h:
        return None
    i = h.find(n)
    if i >= 0:
        return where[i], where[i + len(n) - 1] + 1
    span = _anchored(n, h)
    return (where[span[0]], where[span[1] - 1] + 1) if span else None
