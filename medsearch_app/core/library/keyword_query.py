"""What the keyword search asks SQLite's FTS5 index, beside the question's own words.

- TermFrequencies: which of the question's words are in half the library and weigh nothing;
- other_names: what the documents may call a question's word (a lay word's clinical names, a
  medicine's other names; a drug class's members only where the library never names the class);
- has_any / uses_word: whether the library holds a word (stemmed as the index reads it, or as
  written).

Store.keyword_search builds its query from these; the support gate asks has_any.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence

from ..text import drugs, lay_terms

# Below this many passages ranking every match is cheap: no term is left out.
SMALL_LIBRARY = 5000


class TermFrequencies:
    """Which query terms are in at least half of all passages, remembered between searches.

    Such a term weighs nothing in BM25 (FTS5 clamps its IDF to 1e-6), yet keeping it in the
    query makes SQLite score and sort every passage that has it (60 ms at 25,000 passages,
    growing with the library). Counting a term's passages costs time in proportion to them too
    (5 ms per common term at 70,000), so the answer is remembered while the library stays within
    a quarter of the size it had when the term was counted; a term near the threshold has an
    IDF near zero either way. The passage count itself is re-read at most once a second.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, bool]] = {}
        self._n: tuple[float, int] = (0.0, 0)

    def informative(self, db: sqlite3.Connection, terms: list[str]) -> list[str]:
        if not terms:
            return terms
        now = time.monotonic()
        if now - self._n[0] > 1.0:
            self._n = (now, int(db.execute("SELECT count(*) FROM chunks").fetchone()[0]))
        n = self._n[1]
        if n < SMALL_LIBRARY:
            return terms
        if len(self._seen) > 10_000:
            self._seen.clear()
        half = n // 2
        keep = []
        for t in terms:
            hit = self._seen.get(t)
            if hit is None or not 0.8 * hit[0] <= n <= 1.25 * hit[0]:
                common = int(db.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? "
                    "LIMIT ?)", (f'"{t}"', half)).fetchone()[0]) >= half
                hit = (n, common)
                self._seen[t] = hit
            if not hit[1]:
                keep.append(t)
        return keep


def other_names(db: sqlite3.Connection, word: str) -> list[str]:
    """FTS5 pieces for what the documents may call the question's word: a condition's or an
    organ's clinical names ("hypertension": BP, blood pressure; "kidney": renal, eGFR), a
    medicine's other names ("Calpol": paracetamol), and the members of a drug class
    ("antibiotic": amoxicillin, ...) only when the library never uses the class's own word:
    members are not synonyms, and "Which antibiotic for febrile neutropenia?" ranked a table
    of three antibiotics above the note it asks about."""
    if lay_terms.is_drug_class(word) and uses_word(db, word):
        return []
    return [*lay_terms.fts_alternatives(word), *(f'"{n}"' for n in drugs.other_names(word))]


def uses_word(db: sqlite3.Connection, word: str) -> bool:
    """Whether some chunk has the word as written, not only its stem ("preventer" is not
    "prevention", though the index stems both to "prevent")."""
    written = re.compile(rf"\b{re.escape(word)}s?\b", re.IGNORECASE)
    return any(written.search(r[0]) for r in db.execute(
        "SELECT c.text FROM chunks c WHERE c.id IN (SELECT rowid FROM chunks_fts "
        "WHERE chunks_fts MATCH ? LIMIT 200)", (f'"{word}"',)))


def has_any(db: sqlite3.Connection, words: Sequence[str]) -> bool:
    """Whether some chunk holds one of the words (stemmed, as the index reads them)."""
    if not words:
        return False
    query = " OR ".join(f'"{w}"' for w in words)
    return db.execute("SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1",
                      (query,)).fetchone() is not None
