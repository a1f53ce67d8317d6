"""Does the library support a question at all? Decided before the model is asked.

A question is refused when it names a drug or an abbreviation (terms.py) that no document
contains, whatever the similarity of neighbouring topics; when another specific word (a rare
word: an organism, a procedure, "debulking") is absent and no passage is squarely about the
question (best cosine below SQUARELY_ABOUT); or when nothing in the library is even close to
it (best cosine below MIN_SIMILARITY). Everyday words never count.

SQUARELY_ABOUT is the 10th percentile of the best cosine for questions the library answers
(FINDINGS.md, PubMedQA with MiniLM: 0.62), above the range seen for questions about drugs and
conditions absent from it (0.42-0.59). PubMedQA questions are article titles whose rare words
("omnipresence", "neurosurgical") are often absent from the abstract that answers them: a
rare word alone does not refuse a question its passages match that closely.

A specific term counts as present when the library has it in another form:

- a word form or spelling variant ("normalised"/"normalized", store.term_chunk_counts),
- another name of the same medicine ("Calpol" and "paracetamol", drugs.py),
- one typing slip away from a library word of 5+ letters ("HELPP" for "HELLP"),
- a compound of two library words ("autorefraction" = "auto" + "refraction"),
- an abbreviation whose long form the library uses ("AF" and "atrial fibrillation"), or a
  long form, none of whose words the library has, whose abbreviation it uses in capitals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..library.store import Store
from ..text import drugs, lay_terms
from ..text.query_words import STOPWORDS, query_terms
from ..text.terms import Term, WordSet, initials, specific_terms, uncommon_terms
from ..types import Hit

# Below this best cosine similarity nothing in the library is about the question.
MIN_SIMILARITY = 0.25
SQUARELY_ABOUT = 0.62
WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


@dataclass(frozen=True)
class Judgement:
    supported: bool
    reason: str
    missing_terms: list[str]


def judge(store: Store, question: str, hits: list[Hit], best_similarity: float) -> Judgement:
    """Whether the retrieved passages can support an answer, and if not, why."""
    absent = missing_terms(store, question)
    missing = [t.text for t in absent]
    if not hits:
        return Judgement(False, "no passage in your documents matches the question", missing)
    if any(t.named for t in absent) or (absent and best_similarity < SQUARELY_ABOUT):
        words = ", ".join(repr(t) for t in missing[:3])
        return Judgement(False, f"your documents never mention {words}", missing)
    if best_similarity < MIN_SIMILARITY and not _shares_words(question, hits):
        return Judgement(False, "no passage in your documents is about this question", missing)
    return Judgement(True, "", missing)


def _shares_words(question: str, hits: list[Hit]) -> bool:
    """A retrieved passage has one of the question's specific terms or half of its words.

    Short notes full of abbreviations score low cosines even against the question they answer
    ("What should be done about the high INR?" and a one-paragraph INR note: 0.23).
    """
    terms = specific_terms(question)
    words = [w for w in query_terms(question) if len(w) >= 3]
    for h in hits:
        ws = WordSet(h.text)
        if any(ws.has_term(t) for t in terms) or (
                words and sum(ws.has(w) for w in words) >= max(1, len(words) / 2)):
            return True
    return False


def missing_terms(store: Store, question: str) -> list[Term]:
    """The question's specific terms that the library contains in no form."""
    terms = specific_terms(question) + uncommon_terms(question)
    if not terms:
        return []
    counts = store.term_chunk_counts([t.key for t in terms])
    absent = [t for t in terms if counts.get(t.key, 0) == 0]
    if not absent:
        return []
    lookup = _Vocabulary(store)
    covered = _long_forms_covered(question, lookup)
    return [t for t in absent if t.key not in covered and not _other_form(t, lookup)
            and not store.has_any_word(drugs.other_names(t.key))
            and not (not t.named and lay_terms.knows(t.key)
                     and lay_terms.present(t.key, lookup.words, lookup.texts))]


class _Vocabulary:
    """The library's keyword-index words (stemmed), loaded once per judgement when needed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._words: list[str] | None = None

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words = self.store.vocabulary()
        return self._words

    def has_word(self, word: str) -> bool:
        """A library word equal to `word` or a stem of it ("refraction" -> "refract")."""
        return self.store.term_chunk_counts([word]).get(word, 0) > 0

    def texts(self, fts_query: str) -> str:
        """Chunks matching an FTS5 query, joined (bounded: never the whole library)."""
        return "\n".join(self.store.texts_matching(fts_query))


def _other_form(term: Term, vocab: _Vocabulary) -> bool:
    if term.abbreviation and _long_form_in_library(term.key, vocab):
        return True
    w = term.key
    if any(vocab.has_word(v) for v in _spellings(w)):
        return True
    if len(w) >= 5 and any(_one_slip(w, v) for v in vocab.words
                           if len(v) >= 5 and abs(len(v) - len(w)) <= 1):
        return True
    return _compound(w, vocab)


BRITISH_AMERICAN = [("isation", "ization"), ("ise", "ize"), ("ising", "izing"), ("yse", "yze"),
                    ("our", "or"), ("ae", "e"), ("oe", "e"), ("tre", "ter"), ("ogue", "og")]


def _spellings(word: str) -> list[str]:
    """Other ways to write a word: British/American spelling, "HIV1" as "HIV 1"."""
    out = []
    for a, b in BRITISH_AMERICAN:
        for x, y in ((a, b), (b, a)):
            if x in word:
                out.append(word.replace(x, y))
    if "-" in word:
        out.append(word.replace("-", ""))  # "auto-refraction" / "autorefraction"
    split = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", word)
    if split != word:
        out.append(split)
    return [v for v in out if v != word]


def _one_slip(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours apart (not equal)."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) != 1:
        return False
    i = 0
    while i < len(b) and a[i] == b[i]:
        i += 1
    return a[i + 1:] == b[i:]


# English prefixes shorter than four letters that join a word without a hyphen.
PREFIXES = frozenset({"re", "pre", "non", "co", "sub", "de", "dis", "mis", "un", "bi", "tri"})


def _compound(word: str, vocab: _Vocabulary) -> bool:
    """Two library words written as one ("autorefraction", "reimplantation")."""
    if len(word) < 8 or not word.isalpha():
        return False
    for i in range(2, len(word) - 3):
        head, tail = word[:i], word[i:]
        if (i >= 4 or head in PREFIXES) and vocab.has_word(head) and vocab.has_word(tail):
            return True
    return False


def _long_form_in_library(abbr: str, vocab: _Vocabulary) -> bool:
    letters = [c for c in abbr if c.isalpha()]
    if len(letters) < 2 or len(letters) != len(abbr):
        return False
    pattern = re.compile(
        r"\b" + r"[\s\-]+".join(rf"({c}[a-z]{{2,}})" for c in letters) + r"\b", re.IGNORECASE)
    for m in pattern.finditer(vocab.texts(" AND ".join(f"{c}*" for c in letters))):
        if not any(g.lower() in STOPWORDS for g in m.groups()):
            return True
    return False


def _long_forms_covered(question: str, vocab: _Vocabulary) -> set[str]:
    """Words of runs like "atrial fibrillation" that the library writes only as "AF".

    Only runs whose every word is absent from the library count: a run of words the library
    does use ("natalizumab slow cognitive") could match any capitalised initialism.
    """
    words = [w.lower() for w in WORD.findall(question)]
    absent = {w for w in words if w not in STOPWORDS and not vocab.has_word(w)}
    covered: set[str] = set()
    for n in range(2, 5):
        for i in range(len(words) - n + 1):
            run = words[i:i + n]
            if not all(w in absent for w in run):
                continue
            abbr = initials(run)
            if vocab.has_word(abbr) and _abbr_is_used(abbr, vocab):
                covered.update(run)
    return covered


def _abbr_is_used(abbr: str, vocab: _Vocabulary) -> bool:
    """The abbreviation occurs written in capitals somewhere (not only as an ordinary word)."""
    return re.search(rf"\b{re.escape(abbr.upper())}s?\b",
                     vocab.texts(f'"{abbr}"')) is not None
