"""Evidence first: the 1-3 sentences of the retrieved passages that best answer the question.

They are quoted verbatim with file, page and character span, and shown before the model writes
anything, so a physician reads what the documents say whatever the model makes of it.

A passage is cut into units: sentences, bullet lines and table rows (lines wrapped by the PDF's
layout are joined back first). Each unit is scored by meaning and by words:
score = SEMANTIC_WEIGHT * cosine(question, unit) + (1 - SEMANTIC_WEIGHT) * share of the
question's content words the unit contains (in some form), the same mix as hybrid retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..embedding.base import Embedder, Precision
from ..text import drugs, lay_terms
from ..text.query_words import query_terms
from ..text.terms import WordSet
from ..types import Evidence, Hit

SEMANTIC_WEIGHT = 0.6
MAX_EVIDENCE = 3
# Further sentences are quoted only when nearly as good as the best one.
KEEP_FRACTION = 0.75
MIN_CHARS = 12
# focus(): a passage of the best source's own document is kept at this share of the threshold.
SAME_DOCUMENT = 0.8
MAX_ITEM_CHARS = 320
MAX_UNIT_CHARS = 400
LIST_START = re.compile(r"\s*(?:[-*•▪◦–]|\d{1,2}[.)]|\|)\s*")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"“])")
ABBREV_BEFORE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Prof|St|vs|e\.g|i\.e|approx|Fig|No|et al)\.$",
                           re.IGNORECASE)


def units(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences, bullet lines and table rows of a passage."""
    blocks: list[list[int]] = []  # [start, end] of joined lines
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        body = line.strip()
        if not body:
            blocks.append([-1, -1])  # a blank line ends a block
            continue
        prev = blocks[-1] if blocks and blocks[-1][0] >= 0 else None
        prev_text = text[prev[0]:prev[1]].rstrip() if prev else ""
        # A short line before a capitalised one is a heading, not a wrapped sentence.
        heading = len(prev_text.split()) <= 6 and body[:1].isupper()
        continues = (prev is not None and not LIST_START.match(line) and not prev_text.startswith(
            ("#", "|")) and prev_text[-1:] not in ".!?:;" and not body.startswith("#")
            and not heading)
        if continues and prev is not None:
            prev[1] = end
        else:
            blocks.append([start, end])
    out: list[tuple[int, int]] = []
    for b0, b1 in blocks:
        if b0 < 0:
            continue
        cut = b0
        if LIST_START.match(text, b0) and b1 - b0 <= MAX_ITEM_CHARS:
            out.append((b0, b1))  # a bullet or table row is quoted whole
            continue
        for m in SENTENCE_END.finditer(text, b0, b1):
            if ABBREV_BEFORE.search(text[max(b0, m.start() - 8):m.start()]):
                continue
            out.append((cut, m.start()))
            cut = m.end()
        out.append((cut, b1))
    out = [piece for a, b in out for piece in _lines_if_long(text, a, b)]
    return [(a, b) for a, b in ((_strip(text, a, b)) for a, b in out) if b - a >= MIN_CHARS]


def _lines_if_long(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A long "sentence" spanning many lines is a flattened table: quote it line by line."""
    if b - a <= MAX_UNIT_CHARS or text.count("\n", a, b) < 2:
        return [(a, b)]
    out, cut = [], a
    while (nl := text.find("\n", cut, b)) >= 0:
        out.append((cut, nl))
        cut = nl + 1
    out.append((cut, b))
    return out


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    m = LIST_START.match(text, a)
    if m and m.end() <= b:
        a = m.end()
    while a < b and text[a].isspace():
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] == "|"):
        b -= 1
    return a, b


@dataclass(frozen=True)
class Unit:
    """One sentence (bullet line, table row) of source n, scored against the question."""

    score: float
    n: int  # the source's number, 1-based
    start: int  # character span within that hit's text
    end: int


def score_units(question: str, hits: Sequence[Hit], embedder: Embedder) -> list[Unit]:
    """Every distinct unit of the hits with its score, best first (one embedding batch)."""
    cands: list[tuple[int, Hit, int, int]] = []  # (source number, hit, start, end)
    seen: set[str] = set()
    for n, h in enumerate(hits, 1):
        for a, b in units(h.text):
            key = " ".join(h.text[a:b].lower().split())
            if key not in seen:
                seen.add(key)
                cands.append((n, h, a, b))
    if not cands:
        return []
    qwords = query_terms(question)
    texts = [question] + [" ".join(h.text[a:b].split()) for _, h, a, b in cands]
    if embedder.precision in (Precision.INT8, Precision.ONNX_INT8):
        # Dynamic int8 quantizes activations with one scale per batch, so a sentence's vector
        # (and which of two close sentences is quoted) would depend on what else was retrieved.
        # One at a time, each sentence scores the same whatever its neighbours: ~2 ms each.
        vecs = np.concatenate([embedder.embed_batch([t]) for t in texts])
    else:
        vecs = embedder.embed_batch(texts)
    cos = np.asarray(vecs[1:]) @ np.asarray(vecs[0])
    # A lay word counts where the unit names its thing clinically ("hypertension": "BP"), a
    # medicine where the unit gives another of its names ("Calpol": "paracetamol"), but not
    # through a one-word name the question itself uses ("the diabetic's HbA1c": HbA1c counts
    # once; a two-word name or an age is looked for in the unit's text as it stands).
    aliases = {w: set(drugs.other_names(w)) for w in qwords}
    own = set(qwords)
    scored = []
    for (n, h, a, b), c in zip(cands, cos, strict=True):
        ws = WordSet(h.text[a:b])
        others = ws.words - own
        lex = sum(ws.has(w) or lay_terms.said_in(w, ws.text, others) or bool(aliases[w] & others)
                  for w in qwords) / len(qwords) if qwords else 0.0
        scored.append(Unit(SEMANTIC_WEIGHT * float(c) + (1 - SEMANTIC_WEIGHT) * lex, n, a, b))
    scored.sort(key=lambda u: u.score, reverse=True)
    return scored


def pick(scored: Sequence[Unit], hits: Sequence[Hit], *,
         max_items: int = MAX_EVIDENCE) -> list[Evidence]:
    """The evidence to quote: the best units, further ones only when nearly as good."""
    if not scored:
        return []
    best = scored[0].score
    out: list[Evidence] = []
    for u in scored:
        if len(out) >= max_items or u.score < KEEP_FRACTION * best:
            break
        h = hits[u.n - 1]
        out.append(Evidence(n=u.n, text=h.text[u.start:u.end], path=h.path, page=h.page,
                            page_label=h.page_label, chunk_id=h.chunk_id, start=h.start + u.start,
                            end=h.start + u.end, score=round(u.score, 4)))
    return out


def select(question: str, hits: Sequence[Hit], embedder: Embedder, *,
           max_items: int = MAX_EVIDENCE) -> list[Evidence]:
    """The best evidence sentences among the hits, quoted verbatim with their page span."""
    return pick(score_units(question, hits, embedder), hits, max_items=max_items)


def focus(scored: Sequence[Unit], hits: Sequence[Hit], fraction: float) -> list[int]:
    """The sources worth the model's reading, best first: the numbers (1-based) of the hits whose
    best unit scores at least `fraction` of the best unit overall, ordered by that score; and
    other passages of the best unit's document at `SAME_DOCUMENT` times that, since a note is one
    patient's story ("What painkillers was the foot injury sent home with?": the best sentence
    names the injury, the next passage of the same note the discharge medicines).

    Every source costs prompt-reading time (on a 2-core CPU the 1.5B model reads about 55
    tokens/s, a passage about 200 tokens), and a source that only shares the topic draws the
    model's answer to it. A hit without units of its own (a duplicate) is dropped; with no
    units at all every hit is kept in retrieval order."""
    best: dict[int, float] = {}
    for u in scored:  # best first, so the first unit seen per source is its best
        best.setdefault(u.n, u.score)
    if not best:
        return list(range(1, len(hits) + 1))
    top_n = min(best, key=lambda n: (-best[n], n))
    top = best[top_n]
    home = hits[top_n - 1].path
    return sorted((n for n, sc in best.items() if n == top_n or sc >= fraction * top or (
        hits[n - 1].path == home and sc >= SAME_DOCUMENT * fraction * top)),
        key=lambda n: (-best[n], n))


def renumber(scored: Sequence[Unit], order: Sequence[int]) -> list[Unit]:
    """The units of the sources in `order`, numbered by their place in it (1-based)."""
    place = {n: i for i, n in enumerate(order, 1)}
    return [Unit(u.score, place[u.n], u.start, u.end) for u in scored if u.n in place]


def excerpts(scored: Sequence[Unit], hits: Sequence[Hit], max_chars: int) -> list[str]:
    """Each hit's text cut down to about `max_chars`: its best-scoring units first, then the
    units next to them (an answer often sits in the sentence after the one that matches the
    question's words), in page order, "…" where text was left out. A hit whose text fits, or
    whose units are unknown (duplicates of another hit's), is kept whole up to `max_chars`."""
    out: list[str] = []
    for n, h in enumerate(hits, 1):
        flat = " ".join(h.text.split())
        mine = sorted((u for u in scored if u.n == n), key=lambda u: u.start)
        if len(flat) <= max_chars or not mine:
            out.append(flat[:max_chars])
        else:
            out.append(_excerpt(h.text, mine, max_chars))
    return out


def _excerpt(text: str, order: list[Unit], max_chars: int) -> str:
    """`order`: one passage's units in page order."""
    pieces = [" ".join(text[u.start:u.end].split()) for u in order]
    keep: set[int] = set()
    used = 0

    def fits(i: int) -> bool:
        return not keep or used + len(pieces[i]) + 2 <= max_chars

    rank = sorted(range(len(order)), key=lambda i: -order[i].score)
    wanted = [rank[0]]  # the best unit always, however long; then those nearly as good
    wanted += [i for i in rank[1:] if order[i].score >= KEEP_FRACTION * order[rank[0]].score]
    for i in wanted:
        if i not in keep and fits(i):
            keep.add(i)
            used += len(pieces[i]) + 2
    for i in sorted(keep):  # then neighbours: the unit after first, then the one before
        for j in (i + 1, i - 1):
            if 0 <= j < len(order) and j not in keep and fits(j):
                keep.add(j)
                used += len(pieces[j]) + 2
    parts: list[str] = []
    last = -1
    for i in sorted(keep):
        if i != last + 1 or (last == -1 and text[:order[i].start].strip()):
            parts.append("…")
        parts.append(pieces[i])
        last = i
    if last != len(order) - 1 or text[order[last].end:].strip():
        parts.append("…")
    return " ".join(parts)[: max_chars + MAX_UNIT_CHARS]
