"""Names of one medicine: brand, British, American and international names ("Calpol",
"Panadol", "paracetamol", "acetaminophen"; "Ventolin", "salbutamol", "albuterol").

A physician asks "How much Calpol did she get?" of a note that writes "Paracetamol 15 mg/kg";
the support gate (support.py) would find "Calpol" in no document and refuse, and neither the
keyword search nor the evidence scorer would see the paracetamol line. The names come from the
dictionary of `drug-named-entity-recognition` (Fast Data Science, MIT; 107,360 names of 20,094
medicines from DrugBank's open vocabulary, MeSH, MedlinePlus, the NHS and Wikipedia), read
from the package's own data file without importing the package (which would import `requests`;
nothing here goes to the network). Loaded once, on first use: about 0.4 s and 40 MB.

Only one-word names are used: they are what a question and a note share ("warfarin sodium"
adds nothing to "warfarin"). The support gate asks it only about the question's specific and
uncommon words (terms.py) that no document has; the keyword search and the evidence scorer
about every word of the question. Most everyday words are not in it ("water", "salt", "iron",
"pain", "sugar"), but some are, as brands or chemicals ("oats", "cloves", "sulfate", the
surname "Kendrick" as a cefotaxime brand): such a word may add a medicine's names to the search.
Without the dictionary (a developer install without scripts/install.sh) every medicine has only
its own name, a warning is logged once and `medsearch selftest` fails its drug-name check.
"""

from __future__ import annotations

import bz2
import importlib.util
import logging
import pickle
import re
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)
PACKAGE = "drug_named_entity_recognition"
DATA_FILE = "drug_ner_dictionary.pkl.bz2"
ONE_WORD = re.compile(r"^[a-z][a-z\-]{2,}$")


class DrugNamesMissing(RuntimeError):
    """The dictionary of drug names is not installed (scripts/install.sh installs it)."""


def data_file() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DrugNamesMissing(f"the drug-name dictionary ({PACKAGE}) is not installed "
                               "(run scripts/install.sh)")
    path = Path(next(iter(spec.submodule_search_locations))) / DATA_FILE
    if not path.exists():
        raise DrugNamesMissing(f"the drug-name dictionary is missing: {path}")
    return path


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(name -> its medicines, medicine -> its one-word names), lower case."""
    try:
        path = data_file()
    except DrugNamesMissing as exc:
        log.warning("%s: medicines are known only by the name a question uses", exc)
        return {}, {}
    with bz2.open(path) as f:
        # The package's own data file, installed with it from PyPI (pinned): as trusted as
        # importing the package.
        raw = pickle.load(f)
    to_canonical: dict[str, list[str]] = raw["drug_variant_to_canonical"]
    names: dict[str, set[str]] = {}
    for name, medicines in to_canonical.items():
        if ONE_WORD.match(name):
            for m in medicines:
                names.setdefault(m, set()).add(name)
    return ({n: tuple(ms) for n, ms in to_canonical.items() if ONE_WORD.match(n)},
            {m: tuple(sorted(ns)) for m, ns in names.items()})


def is_drug(word: str) -> bool:
    """Whether the word is the name of a medicine ("Calpol", "bisoprolol")."""
    return word.lower() in _tables()[0]


def other_names(word: str) -> list[str]:
    """The one-word names of the medicine(s) `word` names, itself left out; [] for a word that
    names no medicine. "calpol" -> [..., "acetaminophen", ..., "panadol", "paracetamol", ...]."""
    to_medicine, names = _tables()
    w = word.lower()
    out: dict[str, None] = {}
    for m in to_medicine.get(w, ()):
        out.update(dict.fromkeys(n for n in names.get(m, ()) if n != w))
    return list(out)


def count() -> int:
    """How many one-word names the dictionary holds (for the self-test)."""
    return len(_tables()[0])
