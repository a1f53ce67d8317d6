"""Every answer sentence checked against the sources it cites.

A sentence is supported when every number in it (with its unit, when it has one: "10 mg" needs
"10 mg", not a stray "10"), every specific term (terms.py: drugs, tests, abbreviations) and at
least half of its content words occur in the passages it cites. Numbers are where invention
hurts patients, so a changed dose or a date that appears nowhere is always caught. Sentences
that cite nothing are marked too; a sentence with fewer than two content words makes no claim.

Quantities and what they are given for: quantities.py.

Terms and words the answer repeats from the question ("the CKD lady") are the physician's, not
the model's claim, and an everyday word counts as present when the source uses its clinical name
("gallbladder" and "cholecystectomy", lay_terms.py); numbers are always checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text import lay_terms
from ..text.query_words import query_terms
from ..text.sentences import split_sentences
from ..text.terms import Term, WordSet, is_drug_name, specific_terms
from ..types import Hit, SentenceCheck, Verdict
from .quantities import (
    FREQUENCY,
    RATE,
    numbers,
    pairing_problem,
    quantities_in,
    quantity_keys,
    unit_of,
)

CITE = re.compile(r"\[(\d{1,2})\]")
LIST_NUMBER = re.compile(r"^\s*\d{1,2}[.)]\s+")
MIN_OVERLAP = 0.5
YES_NO = frozenset({"yes", "maybe"})  # "no" is a stop word: query_terms never returns it
# Words of a sentence that only point at the sources ("This is stated in [1].", "The sources [1]
# and [3] provide this information."): the 1.5B model adds such sentences even when told not to.
SOURCE_TALK = frozenset(re.findall(r"\w+",
    "information info stated states state statement found find source sources provide provides "
    "provided mention mentions mentioned given listed described describes see seen according "
    "document documents based paragraph paragraphs section sections page pages above shown "
    "show shows said says say refer refers referenced reference cited text context passage "
    "passages excerpt details detail detailed data answer question can also both respectively "
    "first second third fourth fifth"))


def check_answer(answer: str, hits: Sequence[Hit], question: str = "") -> list[SentenceCheck]:
    """The verdict on each sentence of an answer whose [n] markers point into `hits`; terms and
    words the answer takes from the `question` are the physician's own, not the model's claim."""
    passages = [h.text for h in hits]
    out: list[SentenceCheck] = []
    for a, b in split_sentences(answer):
        raw = answer[a:b]
        cites = sorted({int(n) for n in CITE.findall(raw) if 1 <= int(n) <= len(hits)})
        claim = LIST_NUMBER.sub("", CITE.sub(" ", raw)).strip()
        verdict, reason = check_sentence(claim, [passages[n - 1] for n in cites], cites,
                                         question)
        out.append(SentenceCheck(text=raw.strip(), start=a, end=b, cites=cites,
                                 verdict=verdict, reason=reason))
    return out


SOURCE_LABEL = re.compile(r"^\W*[\w\-. ]+\.(?:pdf|md|txt|markdown)(?:, page \d+.*)?\W*$",
                          re.IGNORECASE)


def check_sentence(claim: str, cited: list[str], cites: list[int],
                   question: str = "") -> tuple[Verdict, str]:
    if SOURCE_LABEL.match(claim):  # the model repeating a source's label: "(guide.pdf, page 5)"
        return Verdict.NO_CLAIM, ""
    words = [w for w in query_terms(claim) if not w.replace(".", "").isdigit()]
    if len(words) < 2 and not numbers(claim):
        return Verdict.NO_CLAIM, ""
    if not cited:
        return Verdict.UNCITED, "cites no source"
    where = "the cited source" if len(cites) == 1 else "the cited sources"
    text = "\n".join(cited)
    quantities = quantities_in(claim)
    values = {v for v, _, _ in numbers(text, spelled=True)}
    keys = quantity_keys(text)
    for q in quantities:
        if q.key[1] != RATE and (q.key not in keys if q.key[1] else q.key[0] not in values):
            return Verdict.NOT_FOUND, f"“{q.written}” is not in {where}"
    ws = WordSet(text)
    # Words and terms taken from the question ("the CKD lady", "the asthmatic", "a blood
    # thinner"), words about the sources ("as stated in [3]") and a yes or no are not what the
    # model claims; numbers always are, wherever they come from.
    asked = WordSet(question)
    for term in specific_terms(claim):
        # Frequency abbreviations and units ("TDS", "mcg") are checked with their quantities.
        if (not FREQUENCY.fullmatch(term.key) and not unit_of(term.key) and not ws.has_term(term)
                and not (asked.has_term(term) and not is_drug_name(term.key))
                and not _clinical_name_in(term, ws)):
            return Verdict.NOT_FOUND, f"“{term.text}” is not in {where}"
    for q in quantities:
        if q.key[1] == RATE and q.key not in keys:
            return Verdict.NOT_FOUND, f"“{q.written}” is not in {where}"
    reason = pairing_problem(claim, quantities, cited)
    if reason:
        return Verdict.NOT_FOUND, reason
    yes = bool(re.match(r"\W*(?:yes|no|maybe)\b", claim, re.IGNORECASE))
    own = [w for w in words if w not in SOURCE_TALK and w not in YES_NO
           and (yes or not asked.has(w))]
    if not own and not numbers(claim):
        # The question restated as a statement ("The insulin pump settings agreed were:") says
        # what the question takes for granted: the sources must say it too. After a yes or a
        # no the restated question is the claim itself, so it is checked in full above.
        own = [w for w in words if w not in SOURCE_TALK]
    if own:
        share = sum(ws.has(w) or _clinical_name_in(Term(w, w, False), ws)
                    for w in own) / len(own)
        if share < MIN_OVERLAP:
            return Verdict.NOT_FOUND, f"only {share:.0%} of its words are in {where}"
    return Verdict.SUPPORTED, ""


def _clinical_name_in(term: Term, ws: WordSet) -> bool:
    """An organ or age group whose clinical name the source uses ("gallbladder" removed, the
    source: "cholecystectomy"; lay_terms.py). Not a drug class or a condition: "blood clots" is
    not said by a source that names warfarin."""
    if term.named or not lay_terms.names_a_part_or_age(term.key):
        return False
    return lay_terms.said_in(term.key, ws.text, ws.words)


def summary_warning(checks: Sequence[SentenceCheck]) -> str:
    """A line for the top of an answer whose checked sentences mostly fail, else ""."""
    judged = [c for c in checks if c.supported is not None]
    failed = [c for c in judged if not c.supported]
    if judged and len(failed) * 2 > len(judged):
        return (f"{len(failed)} of {len(judged)} sentences of this answer are not found in the "
                "sources they cite: rely on the quoted evidence, not on this answer.")
    return ""
