"""eval-answers' answer-term judge: words by substring, quantities as quantities."""

from __future__ import annotations

import pytest

from medsearch_app.core.evaluation.answers import has_terms


@pytest.mark.parametrize(("answer", "terms"), [
    ("She may drive after the 6-week post-op period.", ["6 weeks"]),  # 1.5B, small library q11
    ("Hold 2 doses and recheck the INR in 3 days.", ["two doses", "three days"]),
    ("Amoxicillin 1 g twice daily.", ["1 g BD"]),
    ("Aspirin 150 mg once daily.", ["aspirin", "150 mg"]),
    ("BP today 148/88.", ["148/88"]),
    ("Paracetamol 0.15 mg/kg.", ["0.15 mg/kg"]),
    ("Croup was MILD.", ["mild"]),
])
def test_a_term_held_in_other_words_counts(answer: str, terms: list[str]) -> None:
    assert has_terms(answer, terms)


@pytest.mark.parametrize(("answer", "terms"), [
    ("Take 12 mg daily.", ["2 mg"]),  # a substring, not the dose
    ("Review in 6 days.", ["6 weeks"]),
    ("Amoxicillin 1 g three times daily.", ["1 g BD"]),
    ("Aspirin was started.", ["aspirin", "150 mg"]),
    ("Croup was moderate.", ["mild"]),
])
def test_a_term_not_held_does_not_count(answer: str, terms: list[str]) -> None:
    assert not has_terms(answer, terms)
