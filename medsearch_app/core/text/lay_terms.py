"""Everyday words and the clinical words a document uses for the same thing.

A physician asks "What did the blood thinner level do?", "When was her gallbladder out?", "What
was the toddler's croup score?" or "How bad is his hypertension?" of notes that write "INR",
"laparoscopic cholecystectomy", "18-month-old" and "BP 172/96". The support gate (support.py)
would find "thinner", "gallbladder", "toddler" or "hypertension" in no document and refuse.
This module says when a word the library lacks is present under its clinical name:

- a lay drug class and the drugs and measurements that belong to it ("thinner":
  anticoagulant, warfarin, apixaban, heparin, INR; "steroid": dexamethasone, prednisolone),
- an organ and the Greek/Latin roots of its operations and findings ("gallbladder":
  cholecyst-; "womb": hyster-, uter-; "bowel": col-, enter-, ile-, intestin-),
- a condition and the measurement that shows it ("hypertension": BP, blood pressure;
  "fever": temperature; "anaemia": Hb, haemoglobin; "obese": BMI),
- an age group and an age inside it written anywhere in the library ("toddler": 1 to 3 years;
  "18-month-old", "aged 2", "2 y/o").

General medical vocabulary, written once here, not fitted to any question set. It never
applies to a drug, organism or abbreviation the question names (support.py refuses an absent
one as written: "rivaroxaban" is not present because "warfarin" is), only to everyday and
in-between words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Prefixes of (porter-stemmed, lower-case) library words that stand for the same thing as the
# question's word; a prefix of three letters or fewer, or one ending in "$", must be the whole
# word ("bp", "hr": not "hrs"). Two words ("blood pressur") are looked for in the text. Keys are
# the question's word without a plural "s".
DRUG_CLASSES: dict[str, tuple[str, ...]] = {
    "thinner": ("anticoag", "warfarin", "apixaban", "rivaroxaban", "edoxaban", "dabigatran",
                "heparin", "enoxaparin", "dalteparin", "tinzaparin", "doac", "noac", "inr"),
    "clot": ("thromb", "embol", "anticoag", "vte", "dvt", "warfarin", "apixaban",
             "rivaroxaban", "heparin", "enoxaparin"),
    "steroid": ("corticosteroid", "dexamethason", "prednisolon", "prednison", "hydrocortison",
                "methylprednisolon", "budesonid", "beclometason", "fluticason", "mometason"),
    "antibiotic": ("antibiot", "antimicrob", "amoxicillin", "penicillin", "flucloxacillin",
                   "amoxiclav", "clarithromycin", "erythromycin",
                   "azithromycin", "doxycyclin", "cefalexin", "cefuroxim", "ceftriaxon",
                   "trimethoprim", "nitrofurantoin",
                   "ciprofloxacin", "levofloxacin", "metronidazol", "gentamicin", "vancomycin",
                   "clindamycin"),
    "painkiller": ("analges", "paracetamol", "acetaminophen", "ibuprofen", "naproxen",
                   "codein", "morphin", "tramadol", "oxycodon", "diclofenac", "nsaid"),
    "inhaler": ("inhal", "mdi", "dpi", "salbutamol", "terbutalin", "beclometason",
                "budesonid", "fluticason", "formoterol", "salmeterol", "tiotropium"),
    "puffer": ("inhal", "mdi", "salbutamol", "terbutalin"),
    "diuretic": ("furosemid", "bumetanid", "bendroflumethiazid", "indapamid", "spironolacton",
                 "thiazid"),
    "reliever": ("salbutamol", "terbutalin", "saba"),
    "preventer": ("beclometason", "budesonid", "fluticason", "mometason", "ics"),
    "antidepressant": ("sertralin", "citalopram", "escitalopram", "fluoxetin", "mirtazapin",
                       "amitriptylin", "venlafaxin", "duloxetin", "ssri", "snri"),
}
# Organs and the roots of their operations and findings.
ORGANS: dict[str, tuple[str, ...]] = {
    "gallbladder": ("cholecyst", "biliari", "gallston", "cholelith"),
    "appendix": ("appendicect", "appendect", "appendicit"),
    "womb": ("uter", "hysterect", "endometri"),
    "bowel": ("colon$", "colorect", "colect", "colonoscop", "enteritis", "ileu", "ileo",
              "intestin", "rectal", "sigmoid"),
    "bladder": ("cystoscop", "cystit", "urinari"),
    "tonsil": ("tonsillect", "tonsillit"),
    "ovary": ("ovarian", "oophor"),
    "prostate": ("prostat", "psa", "turp"),
    "spleen": ("splenic", "splenomeg", "splenect"),
    "pancrea": ("pancrea",),
    "thyroid": ("thyroid", "thyroxin", "levothyroxin", "tsh"),
    "lung": ("pulmon", "pneumon", "bronch", "spirometr", "respir"),
    "heart": ("cardi", "coronari", "myocard", "ecg", "echocardiogra"),
    "kidney": ("renal", "nephr", "egfr", "creatinin", "ckd"),
    "liver": ("hepat", "cirrhos", "lft"),
    "brain": ("cerebr", "neurolog", "intracrani", "stroke"),
    "stomach": ("gastr", "peptic", "epigastr"),
    "skin": ("derm", "cutan"),
    "bone": ("oste", "fractur", "boni"),
    "joint": ("arthr", "arthroplasti"),
}
# Conditions and the measurements that show them.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "hypertension": ("bp", "blood pressur", "hypertens", "systol", "diastol"),
    "hypertensive": ("bp", "blood pressur", "hypertens", "systol", "diastol"),
    "fever": ("temp$", "temperatur", "pyrex", "febril"),
    "feverish": ("temp$", "temperatur", "pyrex", "febril"),
    "febrile": ("temp$", "temperatur", "pyrex", "fever"),
    "anaemia": ("hb", "haemoglobin", "hemoglobin", "ferritin", "anem"),
    "anemia": ("hb", "haemoglobin", "hemoglobin", "ferritin", "anaem"),
    "anaemic": ("hb", "haemoglobin", "hemoglobin", "ferritin"),
    "obese": ("bmi", "obes"),
    "obesity": ("bmi", "obes"),
    "overweight": ("bmi", "obes"),
    "diabetic": ("diabet", "hba1c", "glucos", "metformin", "insulin"),
    "sugar": ("glucos", "glycaem", "glycem", "hba1c", "diabet"),
    "hypoxia": ("spo2", "saturat", "oxygen"),
    "hypoxic": ("spo2", "saturat", "oxygen"),
    "breathless": ("dyspn", "breathless", "rr"),
    "tachycardia": ("hr", "pulse", "heart rate"),
    "tachycardic": ("hr", "pulse", "heart rate"),
    "depressed": ("phq", "antidepress", "low mood"),
    "cholesterol": ("ldl", "hdl", "lipid", "cholesterol", "statin"),
}

SAME_THING = DRUG_CLASSES | ORGANS | CONDITIONS

# Age groups, in months: (from, to), to exclusive.
AGE_GROUPS: dict[str, tuple[float, float]] = {
    "newborn": (0, 1), "neonate": (0, 1), "neonatal": (0, 1),
    "infant": (0, 24), "baby": (0, 24), "toddler": (12, 48),
    "preschooler": (24, 72), "youngster": (24, 216), "kid": (12, 216), "child": (0, 216),
    "teenager": (156, 240), "teen": (156, 240), "adolescent": (120, 228),
    "elderly": (780, 1800), "pensioner": (780, 1800), "granny": (720, 1800),
    "grandad": (720, 1800), "grandpa": (720, 1800), "grandma": (720, 1800),
}
# "18-month-old", "18 months old", "aged 2", "2 years old", "2-year-old", "2 y/o", "84yo",
# "3 weeks old": the number and its unit (the support gate finds the passages by "old", "aged",
# "y" and "yo"; a one-token "84yo" only where such a word is also there).
AGE = re.compile(
    r"\b(\d{1,3})\s*-?\s*(year|yr|y|month|mo|week|wk|day)s?\s*-?\s*(?:old|/o|o\b)"
    r"|\baged\s+(\d{1,3})\s*(years?|months?|weeks?|days?)?", re.IGNORECASE)
MONTHS_PER = {"y": 12.0, "m": 1.0, "w": 12 / 52, "d": 12 / 365}


def key(word: str) -> str:
    """The lookup form: lower-case, without a plural or possessive "s"."""
    w = re.sub(r"['’]s$", "", word.lower())
    return w[:-1] if w.endswith("s") and w[:-1] in SAME_THING | AGE_GROUPS else w


def knows(word: str) -> bool:
    """Whether this module has a clinical name for the word."""
    k = key(word)
    return k in SAME_THING or k in AGE_GROUPS


def is_drug_class(word: str) -> bool:
    """Whether the word names a class of drugs ("antibiotic", "blood thinner")."""
    return key(word) in DRUG_CLASSES


def names_a_part_or_age(word: str) -> bool:
    """Whether the word is an organ or an age group (not a drug class or a condition)."""
    k = key(word)
    return k in ORGANS or k in AGE_GROUPS


def present(word: str, vocabulary: Iterable[str], texts: Callable[[str], str]) -> bool:
    """Whether the library has the word's thing under a clinical name.

    `vocabulary`: the library's stemmed words; `texts(fts_query)`: library text matching an
    FTS5 query (bounded), for ages and prefixes of two words ("blood pressure")."""
    k = key(word)
    if k in AGE_GROUPS:
        return _has_age(texts, *AGE_GROUPS[k])
    prefixes = SAME_THING.get(k, ())
    exact = {p.rstrip("$") for p in prefixes if _whole_word(p)}
    starts = tuple(p for p in prefixes if " " not in p and p.rstrip("$") not in exact)
    if any(w in exact or (starts and w.startswith(starts)) for w in vocabulary):
        return True
    for p in (p for p in prefixes if " " in p):
        query = " ".join(f'"{part}"' for part in p.split())
        if re.search(rf"\b{re.escape(p)}", texts(query), re.IGNORECASE):
            return True
    return False


def fts_alternatives(word: str) -> list[str]:
    """FTS5 query pieces for the clinical names of a drug class, organ or condition (not an age
    group): "hypertension" -> '"bp"', '"blood pressur"*', '"hypertens"*', ...; [] for a word
    this module does not know. The keyword search ORs them with the question's own words, so
    "How is her hypertension today?" finds "BP today 148/88"."""
    return [f'"{p.rstrip("$")}"' if _whole_word(p) else f'"{p}"*'
            for p in SAME_THING.get(key(word), ())]


def _whole_word(prefix: str) -> bool:
    """A clinical name of three letters or fewer, or one ending in "$", is a whole word."""
    return prefix.endswith("$") or len(prefix) <= 3


def said_in(word: str, text: str, words: Iterable[str]) -> bool:
    """Whether a short text (a sentence, a table row) says the word's thing under a clinical
    name or, for an age group, gives an age inside it; `words`: the text's lower-case words."""
    if not knows(word):
        return False
    # The prefixes are porter stems ("biliari"): "biliary" is read as the index reads it.
    stems = sorted({*words, *(w[:-1] + "i" for w in words if w.endswith("y"))})
    return present(word, stems, lambda _query: text)


def ages_in_months(text: str) -> list[float]:
    """Every age written in the text, in months."""
    out = []
    for m in AGE.finditer(text):
        number = m.group(1) or m.group(3)
        unit = (m.group(2) or m.group(4) or "year").lower()
        out.append(int(number) * MONTHS_PER[unit[0]])
    return out


def _has_age(texts: Callable[[str], str], low: float, high: float) -> bool:
    found = texts("old OR aged OR yo OR y")
    return any(low <= months < high for months in ages_in_months(found))
