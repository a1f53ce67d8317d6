"""Which words of a question or answer are specific (a drug, organism, test, abbreviation).

A physician's small library rarely contains everyday words such as "done", "treated" or
"kidney", so a missing everyday word says nothing about whether the library can answer. A
specific word that no document contains — a drug, an organism, a procedure, an abbreviation —
does. How specific a word is comes from general-English word frequencies (`wordfreq`, Zipf
scale: 7 = "the", 3 = once per million words), not from a hand-made stop list:

- a word rarer than SPECIFIC_ZIPF in general English ("warfarin" 2.6, "croup" 2.2, "wheeze" 2.4),
- a token mixing letters and digits ("HbA1c", "CURB-65"),
- an abbreviation written in capitals in the text itself ("AF", "MRI", "CKD").

Everyday words ("treated" 4.7, "kidney" 4.0, "thinner" 3.6) are never specific. Pure numbers
are not terms (they are checked as numbers by the answer verifier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

# About 1.3 occurrences per million words: below it, generic drug names, organisms and most
# procedures; above it, the everyday and lay words clinicians type (see the module docstring).
SPECIFIC_ZIPF = 3.1
# Ten per million words and more: words everybody uses ("pain" 4.6, "killer" 4.3).
EVERYDAY_ZIPF = 4.0

TOKEN = re.compile(r"[^\W_][\w'’\-/]*")
ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th|s)$", re.IGNORECASE)
ABBREVIATION = re.compile(r"^[A-Z][A-Z0-9]{1,6}s?$")


# Stems of International Nonproprietary Names (WHO INN / USAN stem lists): a word ending so is
# almost always a drug ("natalizumab", "rivaroxaban", "budesonide", "tiotropium").
DRUG_STEMS = (
    "mab", "tinib", "ciclib", "parib", "cept", "pril", "prilat", "sartan", "olol", "dipine",
    "azosin", "statin", "fibrate", "gliptin", "gliflozin", "glutide", "glinide", "formin",
    "parin", "xaban", "gatran", "grel", "grelor", "prazole", "tidine", "setron", "cillin",
    "penem", "mycin", "micin", "floxacin", "cycline", "conazole", "vir", "fungin", "triptan",
    "lukast", "olone", "onide", "asone", "azepam", "azolam", "oxetine", "triptyline",
    "pramine", "apine", "peridone", "tropium", "terol", "caine", "curium", "curonium",
    "dronate", "relin", "platin", "rubicin", "taxel", "tecan", "profen", "fenac", "coxib",
    "sertib", "lisib", "ximab", "kinra", "tide", "vudine", "navir", "previr", "asvir",
)


@dataclass(frozen=True)
class Term:
    """A specific word as written (`text`) and lowercased (`key`).

    `named` marks the kinds that are never a passing modifier: abbreviations ("MRI") and drug
    names recognised by their INN stem. support.py refuses a question naming an absent one
    whatever the similarity of the passages.
    """

    text: str
    key: str
    abbreviation: bool

    @property
    def named(self) -> bool:
        return self.abbreviation or is_drug_name(self.key)


def is_drug_name(word: str) -> bool:
    w = word.lower()
    return len(w) >= 7 and w.isalpha() and w.endswith(DRUG_STEMS) and zipf(w) < SPECIFIC_ZIPF


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """General-English frequency of a lowercased word on the Zipf scale (0 = unknown)."""
    return float(zipf_frequency(word, "en"))


def _has_letters_and_digits(word: str) -> bool:
    return any(c.isalpha() for c in word) and any(c.isdigit() for c in word)


def is_specific_word(word: str) -> bool:
    """Whether a word is specific; capitals count ("CURB-65" is, "3-year" is not)."""
    if "-" in word.strip("-"):
        # "post-op", "follow-up", "3-year": specific only if one of its parts is.
        return any(is_specific_word(p) or _is_abbreviation(p)
                   for p in word.split("-") if p and not p.isdigit())
    w = word.lower().strip("-'’/")
    if len(w) < 3 or w.isdigit() or ORDINAL.match(w):
        return False
    if _has_letters_and_digits(w):
        return True
    return zipf(w) < SPECIFIC_ZIPF and not _everyday_compound(w)


# Latin prefixes that are also everyday words: "prostate" is not "pro" + "state".
NOT_A_HEAD = frozenset({"pro", "con", "com", "dis", "pre", "per", "sub", "non", "mis", "ant"})


def _everyday_compound(w: str) -> bool:
    """Two everyday words written as one is a lay word ("painkiller", "bedtime")."""
    return w.isalpha() and any(w[:i] not in NOT_A_HEAD and zipf(w[:i]) >= EVERYDAY_ZIPF
                               and zipf(w[i:]) >= EVERYDAY_ZIPF for i in range(3, len(w) - 2))


def _is_abbreviation(raw: str) -> bool:
    return bool(ABBREVIATION.match(raw)) and any(c.isalpha() for c in raw)


def specific_terms(text: str) -> list[Term]:
    """Specific terms of a text, in order, without duplicates."""
    seen: dict[str, Term] = {}
    tokens = (t for m in TOKEN.finditer(text) for t in re.split(r"/|--", m.group(0)))
    for tok in tokens:
        raw = re.sub(r"['’]s$", "", tok.strip("-'’"))
        if not raw or raw.replace(".", "").isdigit():
            continue
        abbr = _is_abbreviation(raw)
        if abbr and len(raw) >= 2:
            key = raw.lower()
            key = key[:-1] if raw.endswith("s") and raw[:-1].isupper() else key
        elif is_specific_word(raw):
            key = raw.lower()
        else:
            continue
        seen.setdefault(key, Term(raw, key, abbr))
    return list(seen.values())


WH_TYPE = re.compile(r"\b(?:what|which|how many|how much)\s+(?:kind|type|sort)?\s*(?:of\s+)?"
                     r"([A-Za-z][\w\-]*)", re.IGNORECASE)


def uncommon_terms(text: str) -> list[Term]:
    """Words between specific and everyday ("lithium" 3.6, "dialysis" 3.3, "brace" 3.7).

    Left out: the word a "what/which" question asks for ("What imaging was ordered?": the
    answer names the imaging, so the library need not use the word "imaging"), and capitalised
    words (names of places and peoples: "Lebanese"; rare names are specific anyway).
    """
    asked = {m.group(1).lower() for m in WH_TYPE.finditer(text)}
    seen: dict[str, Term] = {}
    for m in TOKEN.finditer(text):
        w = re.sub(r"['’]s$", "", m.group(0)).lower()
        if (len(w) >= 4 and w.isalpha() and w not in asked and m.group(0)[0].islower()
                and SPECIFIC_ZIPF <= zipf(w) < EVERYDAY_ZIPF and not _everyday_compound(w)):
            seen.setdefault(w, Term(m.group(0), w, False))
    return list(seen.values())


def initials(words: list[str]) -> str:
    """First letters of words, lowercased: ["atrial", "fibrillation"] -> "af"."""
    return "".join(w[0] for w in words if w).lower()


class WordSet:
    """The words of a passage, for "does it contain this word in some form?" checks.

    A word matches itself, or — for words of 6+ letters — any passage word sharing its first 60%
    of letters (at least 5): "admitted"/"admission", "normalised"/"normalized".
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = {w.lower().strip("-'’/") for w in TOKEN.findall(text)}
        for w in list(self.words):
            self.words.update(p for p in re.split(r"[-/'’]", w) if p)
        self._upper = {w for w in TOKEN.findall(text) if w.isupper()}

    def has(self, word: str) -> bool:
        w = word.lower()
        if w in self.words:
            return True
        if len(w) > 5:
            stem = w[: max(5, -(-len(w) * 3 // 5))]
            return any(x.startswith(stem) for x in self.words)
        return False

    def has_term(self, term: Term) -> bool:
        if self.has(term.key):
            return True
        if term.abbreviation:
            letters = [c for c in term.key if c.isalpha()]
            pat = r"\b" + r"[\s\-]+".join(rf"{c}[a-z]{{2,}}" for c in letters) + r"\b"
            return len(letters) >= 2 and re.search(pat, self.text, re.IGNORECASE) is not None
        return all(self.has(p) for p in re.split(r"[-/]", term.key) if p)
