"""Answer sentences checked against their cited sources: numbers, units, terms, overlap."""

from __future__ import annotations

from medsearch_app.core.answer.quantities import numbers
from medsearch_app.core.answer.verify import check_answer, summary_warning
from medsearch_app.core.types import Hit, Verdict

WARFARIN = ("INR today 4.6, above the target range of 2.0 to 3.0. No bleeding. Plan: hold two "
            "doses, recheck INR in three days.")
CROUP = "Croup, moderate. Given dexamethasone 0.15 mg/kg orally as a single dose (1.8 mg)."
AF = "Apixaban 2.5 mg twice daily because age over 80 and weight under 60 kg."
HITS = [Hit(1, 1, "/lib/warfarin.md", None, None, 0.9, WARFARIN),
        Hit(2, 2, "/lib/croup.txt", None, None, 0.8, CROUP),
        Hit(3, 3, "/lib/af.md", None, None, 0.7, AF)]


def _one(answer: str):
    checks = check_answer(answer, HITS)
    assert len(checks) == 1, checks
    return checks[0]


def test_a_changed_dose_is_caught() -> None:
    ok = _one("Apixaban 2.5 mg twice daily was chosen because of age and weight [3].")
    assert ok.verdict is Verdict.SUPPORTED and ok.supported is True and ok.cites == [3]
    bad = _one("Apixaban 5 mg twice daily was chosen because of age and weight [3].")
    assert bad.verdict is Verdict.NOT_FOUND and bad.supported is False
    assert "5 mg" in bad.reason


def test_a_number_present_with_another_unit_is_caught() -> None:
    # "0.15" is in the source, but as mg/kg, not mg: an invented dose.
    bad = _one("The infant was given dexamethasone 0.15 mg by mouth [2].")
    assert bad.supported is False and "0.15 mg" in bad.reason
    assert _one("The infant was given dexamethasone 0.15 mg/kg by mouth [2].").supported


def test_an_invented_dose_and_date_are_caught() -> None:
    assert _one("The croup was treated with dexamethasone 10 mg [2].").supported is False
    bad = _one("A review of the INR is scheduled for April 20, 2024 [1].")
    assert bad.supported is False and "20" in bad.reason


def test_spelled_numbers_in_the_source_match_digits_in_the_answer() -> None:
    assert _one("Hold two doses and recheck the INR in 3 days [1].").supported


def test_a_specific_term_missing_from_the_cited_source_is_caught() -> None:
    bad = _one("The INR rose because of rivaroxaban and no bleeding was seen [1].")
    assert bad.supported is False and "rivaroxaban" in bad.reason


def test_citing_the_wrong_source_is_caught() -> None:
    assert _one("Hold two doses and recheck the INR in three days [2].").supported is False


def test_uncited_sentences_and_sentences_without_a_claim() -> None:
    uncited = _one("Hold two doses and recheck the INR in three days.")
    assert uncited.verdict is Verdict.UNCITED and uncited.supported is False
    assert _one("The answer is:").supported is None


def test_warning_when_most_sentences_fail() -> None:
    checks = check_answer("Apixaban 5 mg [3]. Dexamethasone 10 mg [2]. Hold two doses of "
                          "and recheck the INR in three days [1].", HITS)
    assert [c.supported for c in checks] == [False, False, True]
    assert "2 of 3" in summary_warning(checks)
    assert summary_warning(checks[2:]) == ""


def test_numbers_keep_units_decimals_and_thousands() -> None:
    got = {(v, u) for v, u, _ in numbers("0.15 mg/kg, 2.0 to 3.0, 1,000 units, 10mg, 5%")}
    assert {("0.15", "mg/kg"), ("2", None), ("3", None), ("1000", "units"), ("10", "mg"),
            ("5", "%")} <= got
    assert numbers("CURB-65") == []


def test_a_repeated_source_label_is_not_a_claim() -> None:
    checks = check_answer("[6] (guideline.pdf, page 5)\nHold two doses and recheck the INR in "
                          "three days [1].", HITS)
    assert [c.supported for c in checks] == [None, True]
