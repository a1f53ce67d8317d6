"""Evidence sentences: passages cut into sentences, bullets and table rows; the best quoted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.answer.evidence import select, units
from medsearch_app.core.types import Hit


def _texts(text: str) -> list[str]:
    return [text[a:b] for a, b in units(text)]


def test_wrapped_lines_are_joined_and_sentences_split() -> None:
    text = ("Warfarin is held when the INR is above\nfive. Recheck the INR in\nthree days. "
            "Dr. Smith agreed.\n")
    assert _texts(text) == ["Warfarin is held when the INR is above\nfive.",
                            "Recheck the INR in\nthree days.", "Dr. Smith agreed."]


def test_bullets_headings_and_table_rows_are_units_of_their_own() -> None:
    text = ("## Severity\n- CURB-65 score 0 to 1: low severity\n- CURB-65 score 3 to 5: high "
            "severity, manage in hospital\n| Drug | Dose |\n| Amoxicillin | 500 mg three times "
            "daily |\n")
    got = _texts(text)
    assert "CURB-65 score 3 to 5: high severity, manage in hospital" in got
    assert "Amoxicillin | 500 mg three times daily" in got
    assert "CURB-65 score 0 to 1: low severity" in got


@pytest.mark.slow
def test_curb65_score_sentence_is_quoted_from_the_demo_guideline(tmp_path: Path,
                                                                 embedder: Any) -> None:
    """The demo's CURB-65 question: the score sentence, page 2, with its exact page span."""
    from medsearch_app.core.library.indexing import Library
    from medsearch_app.core.retrieval.search import Retriever
    from medsearch_app.demo import install_demo

    folder = install_demo(tmp_path / "demo")
    (tmp_path / "home").mkdir()
    lib = Library(tmp_path / "home", embedder)
    try:
        for _ in lib.index_paths([folder]):
            pass
        q = "What CURB-65 score means a patient with pneumonia should be admitted?"
        res = Retriever(lib).search(q, k=5)
        ev = select(q, res.hits, embedder)
        assert 1 <= len(ev) <= 3
        top = next(e for e in ev if "CURB-65 score 3 to 5" in e.text)
        assert "Manage in hospital" in top.text
        assert Path(top.path).suffix == ".pdf" and top.page == 2
        hit = next(h for h in res.hits if h.chunk_id == top.chunk_id)
        assert hit.text[top.start - hit.start:top.end - hit.start] == top.text
    finally:
        lib.close()


def test_hits_without_sentences_give_no_evidence(embedder: Any) -> None:
    assert select("anything", [Hit(1, 1, "/x.txt", None, None, 0.5, "ok")], embedder) == []


WARFARIN = ("Warfarin clinic review. The patient has atrial fibrillation. His INR today was 6.2 "
            "after a course of clarithromycin. Plan: hold two doses and recheck the INR in three "
            "days. Usual maintenance dose is 5 mg daily. He was reminded about bleeding signs. "
            "Next routine review in four weeks with the anticoagulation nurse.")


def test_excerpts_keep_the_best_sentence_and_the_one_after_it() -> None:
    """A unit of logic, scores given by hand: the best unit, then its neighbours (the plan after
    the finding first), "…" for what was left out, page order kept, short hits whole."""
    from medsearch_app.core.answer.evidence import Unit, excerpts

    spans = units(WARFARIN)
    scores = [0.1, 0.2, 0.9, 0.3, 0.25, 0.1, 0.05]
    assert len(spans) == len(scores)
    scored = sorted((Unit(sc, 1, a, b) for sc, (a, b) in zip(scores, spans, strict=True)),
                    key=lambda u: -u.score)
    hits = [Hit(1, 1, "/w.md", None, None, 0.9, WARFARIN),
            Hit(2, 2, "/short.md", None, None, 0.5, "Gout: colchicine 500 micrograms.")]
    long_one, short_one = excerpts(scored, hits, 160)
    assert long_one.startswith("… The patient has atrial fibrillation. His INR today was 6.2")
    assert "Plan: hold two doses and recheck the INR in three days." in long_one
    assert long_one.endswith("…") and "Next routine review" not in long_one
    assert len(long_one) <= 160 + 8
    assert long_one.index("6.2") < long_one.index("hold two doses")
    assert short_one == "Gout: colchicine 500 micrograms."
    # A budget larger than the passage keeps it whole, without marks.
    assert excerpts(scored, hits[:1], 10_000) == [" ".join(WARFARIN.split())]
    # A budget smaller than the best unit still keeps that unit.
    tiny = excerpts(scored, hits[:1], 10)[0]
    assert "His INR today was 6.2" in tiny and "Plan" not in tiny
