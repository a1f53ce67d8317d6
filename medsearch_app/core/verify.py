"""Every answer sentence checked against the sources it cites.

A sentence is supported when every number in it (with its unit, when it has one: "10 mg" needs
"10 mg", not a stray "10"), every specific term (terms.py: drugs, tests, abbreviations) and at
least half of its content words occur in the passages it cites. Numbers are where invention
hurts patients, so a changed dose or a date that appears nowhere is always caught. Sentences
that cite nothing are marked too; a sentence with fewer than two content words makes no claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .store import query_terms
from .terms import WordSet, specific_terms
from .types import Hit, SentenceCheck, Verdict

CITE = re.compile(r"\[(\d{1,2})\]")
# A sentence ends at . ! ? followed by whitespace (so "7.5 mg" stays whole) or at a line end.
SENTENCE = re.compile(r"[^\n]+?(?:[.!?](?:\s*\[\d{1,2}\])*(?=\s|$)|$)", re.MULTILINE)
NUMBER = re.compile(
    r"(?<![A-Za-z]-)(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s*(%|[A-Za-zµμ]+(?:/[A-Za-z0-9]+)?))?")
LIST_NUMBER = re.compile(r"^\s*\d{1,2}[.)]\s+")
UNITS = {
    "%": "%", "mg": "mg", "g": "g", "gram": "g", "grams": "g", "kg": "kg", "mcg": "mcg",
    "µg": "mcg", "μg": "mcg", "ug": "mcg", "ml": "ml", "l": "l", "mmol": "mmol", "mmhg": "mmhg",
    "iu": "iu", "unit": "units", "units": "units", "h": "h", "hr": "h", "hrs": "h",
    "hour": "h", "hours": "h", "d": "d", "day": "d", "days": "d", "week": "wk", "weeks": "wk",
    "wk": "wk", "wks": "wk", "month": "mo", "months": "mo", "year": "y", "years": "y",
    "yr": "y", "yrs": "y", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "bpm": "bpm", "dose": "dose", "doses": "dose", "tablet": "tab", "tablets": "tab",
    "puff": "puff", "puffs": "puff", "times": "times",
}
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve"])}
MIN_OVERLAP = 0.5


def numbers(text: str, *, spelled: bool = False) -> list[tuple[str, str | None, str]]:
    """(value, unit or None, as written) for each number written in digits; with `spelled`,
    also "three days" as "3 d" (sources spell numbers out; answers are checked on digits)."""
    if spelled:
        text = re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b",
                      lambda m: NUMBER_WORDS[m.group(1).lower()], text, flags=re.IGNORECASE)
    out = []
    for m in NUMBER.finditer(text):
        value = _value(m.group(1))
        unit_word = (m.group(2) or "").lower()
        base = unit_word.split("/")[0]
        unit = None
        if base in UNITS:
            unit = UNITS[base] + ("/" + unit_word.split("/")[1] if "/" in unit_word else "")
        out.append((value, unit, m.group(0).strip() if unit else m.group(1)))
    return out


def _value(s: str) -> str:
    whole, _, frac = s.replace(",", "").partition(".")
    whole, frac = whole.lstrip("0") or "0", frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def split_sentences(answer: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in SENTENCE.finditer(answer) if m.group(0).strip()]


def check_answer(answer: str, hits: Sequence[Hit]) -> list[SentenceCheck]:
    """The verdict on each sentence of an answer whose [n] markers point into `hits`."""
    passages = [h.text for h in hits]
    out: list[SentenceCheck] = []
    for a, b in split_sentences(answer):
        raw = answer[a:b]
        cites = sorted({int(n) for n in CITE.findall(raw) if 1 <= int(n) <= len(hits)})
        claim = LIST_NUMBER.sub("", CITE.sub(" ", raw)).strip()
        verdict, reason = check_sentence(claim, [passages[n - 1] for n in cites], cites)
        out.append(SentenceCheck(text=raw.strip(), start=a, end=b, cites=cites,
                                 verdict=verdict, reason=reason))
    return out


SOURCE_LABEL = re.compile(r"^\W*[\w\-. ]+\.(?:pdf|md|txt|markdown)(?:, page \d+.*)?\W*$",
                          re.IGNORECASE)


def check_sentence(claim: str, cited: list[str], cites: list[int]) -> tuple[Verdict, str]:
    if SOURCE_LABEL.match(claim):  # the model repeating a source's label: "(guide.pdf, page 5)"
        return Verdict.NO_CLAIM, ""
    words = [w for w in query_terms(claim) if not w.replace(".", "").isdigit()]
    nums = numbers(claim)
    if len(words) < 2 and not nums:
        return Verdict.NO_CLAIM, ""
    if not cited:
        return Verdict.UNCITED, "cites no source"
    where = "the cited source" if len(cites) == 1 else "the cited sources"
    text = "\n".join(cited)
    have = numbers(text, spelled=True)
    values = {v for v, _, _ in have}
    with_unit = {(v, u) for v, u, _ in have if u}
    for value, unit, written in nums:
        if unit and (value, unit) not in with_unit:
            return Verdict.NOT_FOUND, f"“{written}” is not in {where}"
        if not unit and value not in values:
            return Verdict.NOT_FOUND, f"“{written}” is not in {where}"
    ws = WordSet(text)
    for term in specific_terms(claim):
        if not ws.has_term(term):
            return Verdict.NOT_FOUND, f"“{term.text}” is not in {where}"
    if words:
        share = sum(ws.has(w) for w in words) / len(words)
        if share < MIN_OVERLAP:
            return Verdict.NOT_FOUND, f"only {share:.0%} of its words are in {where}"
    return Verdict.SUPPORTED, ""


def summary_warning(checks: Sequence[SentenceCheck]) -> str:
    """A line for the top of an answer whose checked sentences mostly fail, else ""."""
    judged = [c for c in checks if c.supported is not None]
    failed = [c for c in judged if not c.supported]
    if judged and len(failed) * 2 > len(judged):
        return (f"{len(failed)} of {len(judged)} sentences of this answer are not found in the "
                "sources they cite: rely on the quoted evidence, not on this answer.")
    return ""
