"""The words of a question that carry its content: one rule shared by the keyword search, the
evidence scorer, the support gate, the sentence check and the window's highlighting."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not now of off on once only or other our out over own
    same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours patient patients use used using study studies based
    associated effect effects versus vs among whether compared does did many much also than
    within without per""".split()  # noqa: SIM905
)
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")


def query_terms(question: str) -> list[str]:
    """Content words of a question, lowercased, stopwords removed, order kept, no duplicates."""
    seen: dict[str, None] = {}
    for raw in WORD.findall(question.lower()):
        w = raw.split("--")[0].strip("-")
        if len(w) > 1 and w not in STOPWORDS:
            seen.setdefault(w, None)
    return list(seen)
