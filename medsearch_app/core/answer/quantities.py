"""Quantities in an answer or a source, and what each is given for.

Pairings. A dose can be in the source and still be wrong: "amoxicillin 500 mg" is invented when
the source gives 500 mg for clarithromycin and 1 g for amoxicillin. So a quantity that the
answer gives for a specific term must occur in a source sentence that names that term:

- Quantities: numbers with a unit ("500 mg", "for 5 days", "2 puffs"; in the answer also a
  number word from "two" on with a unit: "two doses") and frequencies ("twice daily", "every 8
  hours", "BD", "t.d.s.", "q8h", "8-hourly"; "daily", "weekly" or a lowercase "bd" only right
  after a dose: "10 mg weekly"). Frequencies compare by rate: "every 8 hours", "TDS" and "three
  times a day" are one frequency; "once daily" and "twice daily" are not. A frequency in no
  cited passage is reported like a missing number. Frequency abbreviations and units ("TDS",
  "mcg") are checked with their quantities, not as specific terms.
- Given for, in the answer sentence: the sentence is cut into clauses at ";", ", " and the
  words and/or/but/plus/then/while/whereas. Quantities joined by punctuation and FILLER words
  form one dose ("500 mg by mouth three times daily for 5 days"). A dose written right next to
  a term ("amoxicillin 500 mg", "500 mg of amoxicillin"; routes may stand between) is given
  for that term, the one before it first. Otherwise ("amoxicillin is started in CAP at 500 mg")
  it is given for any term of its clause, or, in a clause naming none, of the clause right
  before ("amoxicillin is given, at 500 mg"); "..., review in 4 weeks" pairs with nothing. Units,
  routes and frequency abbreviations ("mmol", "IV", "BD") are not terms here; a sentence naming
  no term has nothing to pair, and numbers without a unit are checked for presence only.
- Source sentence: sentences end at . ! ? or a line end. A sentence that names no term
  continues the one before ("Start metformin 500 mg daily. Increase to 1 g after a week."), and
  a short heading line naming a term and no quantity ("Community-acquired pneumonia (CAP)") is
  part of the sentences under it, up to the next such heading.

Only a quantity that the cited sentences give elsewhere is flagged ("“500 mg” is given for
amoxicillin in the answer but not in the source sentence that names it"). Two drugs given in
one source sentence ("amoxicillin 1 g and clarithromycin 500 mg twice daily") are not told
apart: that would need a parse of the source, and guessing would flag correct answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from ..text.sentences import split_sentences
from ..text.terms import TOKEN, Term, WordSet, specific_terms

NUMBER = re.compile(
    r"(?<![A-Za-z]-)(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s*(%|[A-Za-zµμ]+(?:/[A-Za-z0-9]+)?))?")
UNITS = {
    "%": "%", "mg": "mg", "g": "g", "gram": "g", "grams": "g", "kg": "kg", "mcg": "mcg",
    "µg": "mcg", "μg": "mcg", "ug": "mcg", "ml": "ml", "l": "l", "mmol": "mmol", "mmhg": "mmhg",
    "iu": "iu", "unit": "units", "units": "units", "h": "h", "hr": "h", "hrs": "h",
    "hour": "h", "hours": "h", "d": "d", "day": "d", "days": "d", "week": "wk", "weeks": "wk",
    "wk": "wk", "wks": "wk", "month": "mo", "months": "mo", "year": "y", "years": "y",
    "yr": "y", "yrs": "y", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "bpm": "bpm", "dose": "dose", "doses": "dose", "tablet": "tab", "tablets": "tab",
    "puff": "puff", "puffs": "puff", "times": "times",
    "milligram": "mg", "milligrams": "mg", "microgram": "mcg", "micrograms": "mcg",
    "kilogram": "kg", "kilograms": "kg", "millilitre": "ml", "millilitres": "ml",
    "milliliter": "ml", "milliliters": "ml", "mls": "ml", "litre": "l", "litres": "l",
    "liter": "l", "liters": "l", "tab": "tab", "tabs": "tab",
}
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve"])}
_WORDS = "|".join(NUMBER_WORDS)
# In an answer, "two doses" is a number; "one" is too often a determiner ("one day a week").
SPELLED = re.compile(rf"\b({_WORDS.partition('|one|')[2]})\s+(%|[A-Za-zµμ]+(?:/[A-Za-z0-9]+)?)",
                     re.IGNORECASE)
# Routes and times of day: never the term a dose is given for.
ROUTES = ("po", "iv", "im", "sc", "sl", "pr", "ng", "neb", "prn", "stat", "nocte", "mane",
          "qhs", "oral", "orally", "intravenous", "intravenously", "intramuscular",
          "intramuscularly", "subcutaneous", "subcutaneously", "sublingual", "sublingually",
          "nebulised", "nebulized", "inhaled", "topical", "topically", "rectally", "mouth")
FREQUENCY = re.compile(
    rf"\b(?:(?P<count>once|twice|thrice|(?:\d+|{_WORDS})[\s-]*times?|\d+\s?[x×])[\s-]*"
    r"(?:(?:a|an|per|each|every|in\s+a)\s+)?(?P<per>day|daily|week|weekly|month|monthly|hour)"
    rf"|every\s+(?P<every>\d+|{_WORDS}|other)?[\s-]*"
    r"(?P<unit>hours?|hrs?|h|days?|weeks?|wks?|months?|morning|evening|night)"
    r"|(?P<hourly>\d+)[\s-]*(?:hourly|hrly)|q\s?(?P<q>\d+)\s?h(?:rs?|ours?)?"
    r"|(?P<abbr>[oqb]\.?d|b\.?i\.?d|t\.?d\.?s|t\.?i\.?d|q\.?d\.?s|q\.?i\.?d)"
    r"|(?P<bare>daily|weekly|monthly|nightly))\b",
    re.IGNORECASE)
ABBR_RATE = {"od": "1/d", "qd": "1/d", "bd": "2/d", "bid": "2/d", "tds": "3/d", "tid": "3/d",
             "qds": "4/d", "qid": "4/d"}
PERIOD = {"h": "h", "d": "d", "w": "wk", "m": "mo"}
# A lowercase "bd" or a bare "daily" is a frequency only right after a dose ("75 mg daily").
DOSE_END = re.compile(rf"(?:\d|\b(?:{_WORDS}))\s*(%|[A-Za-zµμ]+)(?:/[A-Za-z0-9]+)?\s+"
                      rf"(?:(?:by\s+mouth|{'|'.join(ROUTES)})\s+)?$", re.IGNORECASE)
CLAUSE = re.compile(r";|,\s|\s(?:and|or|but|plus|then|while|whereas)\s", re.IGNORECASE)
# What may stand inside one dose ("500 mg by mouth for 5 days"), and right between a drug and
# its dose ("amoxicillin 500 mg", "500 mg of amoxicillin"; not "started in HFrEF at 500 mg").
FILLER = frozenset(("for", "at", "of", "by", "over", "to", "a", "an", "per", "x", "the", "dose",
                    *ROUTES))
NEXT_TO = frozenset(("of", *ROUTES))
RATE = "rate"  # the unit of a frequency's key: ("2/d", RATE)


class Quantity(NamedTuple):
    """A number with its unit, ("500", "mg"), or a frequency, ("2/d", RATE), where written."""

    key: tuple[str, str | None]
    written: str
    start: int
    end: int


def numbers(text: str, *, spelled: bool = False) -> list[tuple[str, str | None, str]]:
    """(value, unit or None, as written) for each number written in digits; with `spelled`,
    also "three days" as "3 d" (sources spell numbers out)."""
    if spelled:
        text = re.sub(r"\b(" + _WORDS + r")\b",
                      lambda m: NUMBER_WORDS[m.group(1).lower()], text, flags=re.IGNORECASE)
    out = []
    for m in NUMBER.finditer(text):
        unit = unit_of(m.group(2) or "")
        out.append((_value(m.group(1)), unit, m.group(0).strip() if unit else m.group(1)))
    return out


def unit_of(word: str) -> str | None:
    base, slash, per = word.lower().partition("/")
    return UNITS[base] + slash + per if base in UNITS else None


def _value(s: str) -> str:
    whole, _, frac = s.replace(",", "").partition(".")
    whole, frac = whole.lstrip("0") or "0", frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def _count(word: str) -> int:
    w = word.lower()
    return {"once": 1, "twice": 2, "thrice": 3, "other": 2}.get(w) or int(NUMBER_WORDS.get(w, w))


def _every(n: int, period: str) -> str:
    """The rate of "every n <period>": "every 8 hours" is "3/d", "every 48 hours" "every 2 d"."""
    if period == "h" and n and 24 % n == 0:
        return f"{24 // n}/d"
    if period == "h" and n and n % 24 == 0:
        return _every(n // 24, "d")
    if period == "d" and n == 7:
        return "1/wk"
    return f"1/{period}" if n == 1 else f"every {n} {period}"


def _rate(m: re.Match[str]) -> str:
    g = {k: (v or "").lower() for k, v in m.groupdict().items()}
    if g["count"]:
        n = _count(re.findall(r"\d+|[a-z]+", g["count"])[0])
        return f"{n}/{PERIOD[g['per'][0]]}"
    if g["unit"]:
        if g["unit"] in ("morning", "evening", "night"):
            return "1/d"
        return _every(_count(g["every"]) if g["every"] else 1, PERIOD[g["unit"][0]])
    if g["hourly"] or g["q"]:
        return _every(int(g["hourly"] or g["q"]), "h")
    if g["abbr"]:
        return ABBR_RATE[g["abbr"].replace(".", "")]
    return {"d": "1/d", "w": "1/wk", "m": "1/mo", "n": "1/d"}[g["bare"][0]]


def _frequencies(text: str) -> list[Quantity]:
    out = []
    for m in FREQUENCY.finditer(text):
        weak = m.group("bare") or (m.group("abbr") and not m.group("abbr").isupper())
        dose = DOSE_END.search(text[max(0, m.start() - 50):m.start()]) if weak else None
        if weak and (dose is None or unit_of(dose.group(1)) is None):
            continue
        out.append(Quantity((_rate(m), RATE), m.group(0), m.start(), m.end()))
    return out


def quantities_in(claim: str) -> list[Quantity]:
    """Frequencies, and numbers (digits; number words only with a unit) outside them."""
    freqs = _frequencies(claim)
    found = []
    for m in NUMBER.finditer(claim):
        unit = unit_of(m.group(2) or "")
        end = m.end() if unit else m.end(1)
        found.append(Quantity((_value(m.group(1)), unit), claim[m.start():end].strip(),
                              m.start(), end))
    found += [Quantity((NUMBER_WORDS[m.group(1).lower()], unit_of(m.group(2))), m.group(0),
                       m.start(), m.end()) for m in SPELLED.finditer(claim) if unit_of(m.group(2))]
    out = freqs + [q for q in found
                   if not any(f.start < q.end and q.start < f.end for f in freqs)]
    return sorted(out, key=lambda q: q.start)


def quantity_keys(text: str) -> set[tuple[str, str | None]]:
    """What a source text holds: numbers with units (spelled ones too) and frequencies."""
    return ({(v, u) for v, u, _ in numbers(text, spelled=True) if u}
            | {f.key for f in _frequencies(text)})


def _anchors(text: str, quantities: Sequence[Quantity]) -> list[tuple[int, int, Term]]:
    """The specific terms a quantity can be attached to, with where each is written."""
    out = []
    for m in TOKEN.finditer(text):
        if m.group(0)[0].isdigit() or any(q.start < m.end() and m.start() < q.end
                                          for q in quantities):
            continue
        out += [(m.start(), m.end(), t) for t in specific_terms(m.group(0))
                if t.key not in ROUTES and unit_of(t.key) is None
                and not FREQUENCY.fullmatch(t.key)]
    return out


def _filler(gap: str, words: frozenset[str] = FILLER) -> bool:
    """Whether only punctuation and `words` stand in a gap ("500 mg by mouth for 5 days")."""
    marked = re.sub(r"[A-Za-z]+", lambda m: " " if m.group(0).lower() in words else "#", gap)
    return re.fullmatch(r"[\s:()\-–]*", marked) is not None


def _attached(claim: str, quantities: list[Quantity], i: int,
              anchors: list[tuple[int, int, Term]]) -> list[Term]:
    """The term(s) quantity i of an answer sentence is given for (see the module docstring)."""
    first = last = i
    while first and _filler(claim[quantities[first - 1].end:quantities[first].start]):
        first -= 1
    while last + 1 < len(quantities) and _filler(
            claim[quantities[last].end:quantities[last + 1].start]):
        last += 1
    start, end = quantities[first].start, quantities[last].end
    cuts = list(CLAUSE.finditer(claim))
    lo = max((c.end() for c in cuts if c.end() <= start), default=0)
    hi = min((c.start() for c in cuts if c.start() >= end), default=len(claim))
    before = [(b, t) for a, b, t in anchors if lo <= a and b <= start]
    if before and _filler(claim[before[-1][0]:start], NEXT_TO):
        return [before[-1][1]]
    after = [(a, t) for a, b, t in anchors if end <= a and b <= hi]
    if after and _filler(claim[end:after[0][0]], NEXT_TO):
        return [after[0][1]]
    clause = [t for a, b, t in anchors if lo <= a and b <= hi]
    if not clause:
        clause = _neighbour_clause(claim, quantities, anchors, cuts, lo)
    return list({t.key: t for t in clause}.values())


def _neighbour_clause(claim: str, quantities: list[Quantity],
                      anchors: list[tuple[int, int, Term]], cuts: list[re.Match[str]],
                      lo: int) -> list[Term]:
    """The terms a quantity in a clause naming none is given for: those of the clause before
    ("amoxicillin is given, at 500 mg"), stepping over clauses of quantities alone
    ("amoxicillin 500 mg, three times daily, for 10 days"); for the first clause, those of the
    clause after ("for 10 days, amoxicillin 500 mg"). A clause of other words in between ends
    the search: in "sertraline increased to 100 mg, guided self-help continued, review in 4
    weeks" the 4 weeks is not sertraline's."""
    spans = [(0 if i == 0 else cuts[i - 1].end(), c.start()) for i, c in enumerate(cuts)]
    spans.append((cuts[-1].end() if cuts else 0, len(claim)))
    here = next((i for i, (a, _) in enumerate(spans) if a == lo), None)
    if here is None:
        return []
    steps = range(here - 1, -1, -1) if here > 0 else range(here + 1, len(spans))
    for i in steps:
        a, b = spans[i]
        terms = [t for x, y, t in anchors if a <= x and y <= b]
        if terms:
            return terms
        text = claim[a:b]
        for q in quantities:
            if a <= q.start and q.end <= b:
                text = text.replace(claim[q.start:q.end], " ")
        if not _filler(text):
            return []
    return []


class _SourceSentence(NamedTuple):
    words: WordSet  # the sentence with its heading and, when it names no term, the one before
    keys: set[tuple[str, str | None]]


def _source_sentences(passage: str) -> list[_SourceSentence]:
    out = []
    heading = body = ""
    for a, b in split_sentences(passage):
        s = passage[a:b].strip()
        keys = quantity_keys(s)
        named = bool(_anchors(s, _frequencies(s)))
        if named and not keys and (s.endswith(":") or (
                not s.endswith((".", "!", "?")) and len(s.split()) <= 6)):
            heading, body = s, ""
            continue
        body = s if named or not body else f"{body} {s}"
        out.append(_SourceSentence(WordSet(f"{heading}\n{body}"), keys))
    return out


def pairing_problem(claim: str, quantities: list[Quantity], cited: list[str]) -> str:
    """Why a quantity is given for a term no cited sentence gives it for, else ""."""
    anchors = _anchors(claim, quantities)
    if not anchors:
        return ""
    sentences = [s for passage in cited for s in _source_sentences(passage)]
    for i, q in enumerate(quantities):
        if q.key[1] is None:
            continue
        terms = _attached(claim, quantities, i, anchors)
        naming = [s for s in sentences if any(s.words.has_term(t) for t in terms)]
        if not naming or not any(q.key in s.keys for s in sentences):
            continue  # the term or the quantity is in no single sentence: nothing to compare
        if not any(q.key in s.keys for s in naming):
            names = " or ".join(t.text for t in terms)
            return (f"“{q.written}” is given for {names} in the answer but not in the source "
                    f"sentence that names {'it' if len(terms) == 1 else 'them'}")
    return ""
