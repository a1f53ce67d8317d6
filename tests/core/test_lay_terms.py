"""Everyday words for clinical things (core/text/lay_terms.py): units of logic, no model."""

from __future__ import annotations

import pytest

from medsearch_app.core.answer.evidence import Unit, focus, renumber
from medsearch_app.core.text import lay_terms


def texts_of(*docs: str):
    return lambda _query: "\n".join(docs)


@pytest.mark.parametrize(("text", "months"), [
    ("Poppy (fictional), 18-month-old girl", [18]),
    ("a 79-year-old woman", [948]),
    ("aged 2 years, seen with", [24]),
    ("aged over 80", []),  # no number right after "aged"
    ("Infant, 3 weeks old", [pytest.approx(3 * 12 / 52)]),
    ("84yo man, 2 y/o sister", [1008, 24]),
    ("BP 148/88, 5 mg daily", []),
])
def test_ages_are_read_in_months(text: str, months: list[float]) -> None:
    assert lay_terms.ages_in_months(text) == months


def test_an_age_group_is_present_only_when_an_age_inside_it_is_written() -> None:
    croup = texts_of("Patient: 18-month-old girl with barking cough.")
    adults = texts_of("Patient: 68-year-old woman after knee replacement.")
    for word in ("toddler", "toddlers", "infant", "baby", "child"):
        assert lay_terms.present(word, [], croup), word
        assert not lay_terms.present(word, [], adults), word
    assert lay_terms.present("elderly", [], texts_of("a 79-year-old woman"))
    assert not lay_terms.present("teenager", [], croup)


def test_a_lay_word_is_present_under_its_clinical_name() -> None:
    none = texts_of("")
    assert lay_terms.present("thinner", ["warfarin", "daili"], none)
    assert lay_terms.present("gallbladder", ["laparoscop", "cholecystectomi"], none)
    assert lay_terms.present("steroids", ["dexamethason"], none)
    assert lay_terms.present("hypertension", ["bp", "todai"], none)
    assert lay_terms.present("hypertension", [], texts_of("Blood pressure 150/90 today"))
    # not without the clinical word
    assert not lay_terms.present("thinner", ["aspirin", "paracetamol"], none)
    assert not lay_terms.present("prostate", ["warfarin", "inr"], none)
    assert not lay_terms.present("gallbladder", ["knee", "arthroplasti"], none)


def test_short_clinical_names_must_be_whole_words() -> None:
    """"hr" (heart rate) is not "hrs" (hours); "temp" is not "temporari"."""
    none = texts_of("")
    assert lay_terms.present("tachycardia", ["hr"], none)
    assert not lay_terms.present("tachycardia", ["hrs"], none)
    assert not lay_terms.present("fever", ["temporari"], none)
    assert lay_terms.present("fever", ["temp"], none)


def test_words_the_module_does_not_know_are_not_claimed() -> None:
    assert not lay_terms.knows("rivaroxaban")
    assert not lay_terms.knows("dialysis")
    assert lay_terms.knows("Toddler's") and lay_terms.knows("thinners")


def test_focus_keeps_the_sources_nearly_as_good_as_the_best_in_score_order() -> None:
    from medsearch_app.core.types import Hit

    hits = [Hit(n, n, f"/lib/{name}", None, None, 0.5, "text") for n, name in
            enumerate(["a.md", "b.md", "c.md", "c.md"], 1)]
    scored = [Unit(0.60, 3, 0, 10), Unit(0.55, 1, 0, 10), Unit(0.50, 3, 20, 30),
              Unit(0.30, 2, 0, 10), Unit(0.10, 1, 40, 50)]
    assert focus(scored, hits, 0.7) == [3, 1]  # 2 scores 0.30 < 0.42; 4 has no units
    assert focus(scored, hits, 0.0) == [3, 1, 2]
    assert focus([], hits[:3], 0.7) == [1, 2, 3]
    # another passage of the best source's document needs only 0.8 of the threshold
    scored.append(Unit(0.35, 4, 0, 10))  # c.md like source 3: 0.35 >= 0.8 * 0.42
    assert focus(scored, hits, 0.7) == [3, 1, 4]
    renumbered = renumber(scored, [3, 1])
    assert [(u.n, u.score) for u in renumbered] == [(1, 0.60), (2, 0.55), (1, 0.50), (2, 0.10)]


def test_a_lay_word_gives_the_keyword_search_its_clinical_names() -> None:
    alts = lay_terms.fts_alternatives("hypertension")
    assert '"bp"' in alts and '"blood pressur"*' in alts and '"hypertens"*' in alts
    assert '"temp"' in lay_terms.fts_alternatives("feverish")  # short names: whole words only
    assert '"glycaem"*' in lay_terms.fts_alternatives("sugar")
    assert lay_terms.fts_alternatives("toddler") == []  # ages are read, not searched for
    assert lay_terms.fts_alternatives("rivaroxaban") == []


def test_a_sentence_says_a_lay_word_under_its_clinical_name() -> None:
    def says(word: str, text: str) -> bool:
        return lay_terms.said_in(word, text, {w.strip(".,").lower() for w in text.split()})

    assert says("hypertension", "BP today 148/88 (home readings average 142/86).")
    assert says("kidney", "Refer to nephrology if eGFR falls below 30.")
    assert says("sugar", "Glycaemic control has worsened over the last six months.")
    assert says("reliever", "Using salbutamol 4 to 5 times a week.")
    assert says("gallbladder", "Laparoscopic cholecystectomy on 12 March 2025.")
    assert says("biliary", "Biliary colic since January.") is False  # not a word it knows
    assert says("toddler", "Patient: 18-month-old girl.")
    assert not says("hypertension", "Renal impairment first noted in 2020.")
    assert not says("fever", "Temporary rash on the arm.")
