"""Retrieval: dense (hnswlib), keyword (SQLite FTS5 BM25), and a hybrid of the two.

Hybrid scores every candidate from both lists on both signals (the dense similarity of a keyword
candidate is read back from the index; a dense candidate absent from the keyword list scores 0 on
BM25), scales BM25 by the query's best BM25, and mixes them: hybrid = a*dense + (1-a)*bm25_norm.
Unlike reciprocal-rank fusion this keeps the size of the gaps between candidates; `a` was chosen
on the evaluation data (see README, "Retrieval quality").

Every search also says whether the library supports the question at all (support.py).
"""

from __future__ import annotations

import enum
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadInput
from ..library.indexing import Library
from ..types import Hit
from . import support

DENSE_WEIGHT = 0.6
CANDIDATES = 50


class Mode(enum.StrEnum):
    DENSE = "dense"
    KEYWORD = "keyword"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, value: str) -> Mode:
        try:
            return cls(value.lower())
        except ValueError:
            raise BadInput(f"unknown retrieval mode {value!r}; choose dense, keyword or "
                             "hybrid") from None


def read_queries(path: Path) -> list[str]:
    """Questions for a batch search: one per line, JSON lines with a "question" field, or a CSV
    file (.csv) with a "question" column (blank lines skipped). BadInput if the file cannot be
    read or a JSON line has no question."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text") from exc
    if path.suffix.lower() == ".csv":
        return _csv_questions(path, lines)
    out = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                out.append(str(json.loads(line)["question"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise BadInput(f"{path}: a JSON line without a 'question' field") from exc
        else:
            out.append(line)
    return out


def _csv_questions(path: Path, lines: list[str]) -> list[str]:
    """The "question" column of a CSV file with a header row (or its only column)."""
    import csv

    rows = list(csv.reader(lines))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    if "question" in header:
        col = header.index("question")
    elif len(header) == 1:
        col = 0
    else:
        raise BadInput(f"{path}: a CSV file needs a 'question' column")
    return [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    elapsed_ms: float
    supported: bool
    reason: str
    best_similarity: float
    missing_terms: list[str]


class Retriever:
    """Searches one Library (its store and vector index) with a chosen mode."""

    def __init__(self, library: Library, *, dense_weight: float = DENSE_WEIGHT) -> None:
        self.library = library
        self.dense_weight = dense_weight

    def search(self, question: str, *, k: int = 10, mode: Mode | str = Mode.HYBRID) -> SearchResult:
        t0 = time.perf_counter()
        mode = Mode.parse(mode) if isinstance(mode, str) else mode
        lib = self.library
        if mode is not Mode.KEYWORD:
            lib.refresh_index()  # vectors another process (`medsearch index`) saved meanwhile
        qvec = lib.embedder.embed_batch([question])[0]
        n_cand = max(CANDIDATES, 5 * k)
        dense = dict(lib.index.search(qvec, n_cand)) if mode is not Mode.KEYWORD else {}
        kw = dict(lib.store.keyword_search(question, n_cand)) if mode is not Mode.DENSE else {}
        # Similarity of every candidate, dense or keyword (keyword-only ones read back from the
        # index): for the hybrid score and for the support judgement.
        sims = dict(dense)
        sims.update(self._similarities(qvec, [c for c in kw if c not in dense]))
        if mode is Mode.DENSE:
            scores = dense
        elif mode is Mode.KEYWORD:
            scores = kw
        else:
            scores = self._fuse(sims, kw)
        top = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:k]
        rows = lib.store.chunks([cid for cid, _ in top])
        best = max(sims.values(), default=0.0)
        hits = [
            Hit(rank=r + 1, chunk_id=cid, path=rows[cid].path, page=rows[cid].page,
                page_label=rows[cid].page_label, score=round(float(s), 5),
                text=rows[cid].text, dense_score=_round(sims.get(cid)),
                keyword_score=_round(kw.get(cid)), start=rows[cid].start, end=rows[cid].end)
            for r, (cid, s) in enumerate(top) if cid in rows
        ]
        verdict = support.judge(lib.store, question, hits, best)
        return SearchResult(hits, round((time.perf_counter() - t0) * 1000, 2), verdict.supported,
                            verdict.reason, round(best, 4), verdict.missing_terms)

    def _similarities(self, qvec: np.ndarray, ids: list[int]) -> dict[int, float]:
        ids = self.library.index.present(ids)
        if not ids:
            return {}
        vecs = self.library.index.get_vectors(ids)
        sims = vecs @ qvec
        return {i: float(s) for i, s in zip(ids, sims, strict=True)}

    def _fuse(self, sims: dict[int, float], kw: dict[int, float]) -> dict[int, float]:
        """Hybrid scores of every candidate; `sims` holds the dense similarity of each (dense
        hits and keyword hits alike), `kw` the BM25 score of the keyword hits."""
        cands = list(dict.fromkeys([*sims, *kw]))
        top_kw = max(kw.values(), default=0.0)
        a = self.dense_weight
        return {
            c: a * sims.get(c, 0.0) + (1 - a) * (kw.get(c, 0.0) / top_kw if top_kw > 0 else 0.0)
            for c in cands
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 5)
