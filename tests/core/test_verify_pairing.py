"""A dose, frequency or duration must be given in the source for the drug or test the answer
gives it for: numbers swapped between drugs, changed frequencies and borrowed durations."""

from __future__ import annotations

from medsearch_app.core.answer.verify import check_answer
from medsearch_app.core.types import Hit, SentenceCheck, Verdict

HEART_FAILURE = (
    "Heart failure with reduced ejection fraction. Start bisoprolol 1.25 mg once daily and "
    "double the dose every 2 weeks as tolerated. Ramipril 2.5 mg twice daily; check potassium "
    "and creatinine after 1 to 2 weeks.\n"
    "Spironolactone 25 mg once daily if potassium is below 5.0 mmol/L.")
INFECTIONS = (
    "Cellulitis: flucloxacillin 500 mg four times daily for 7 days.\n"
    "Lower urinary tract infection in women: nitrofurantoin 100 mg modified-release twice "
    "daily for 3 days.\n"
    "Penicillin allergy: clarithromycin 500 mg twice daily for 5 days.")
WARFARIN = ("INR 6.2 without bleeding. Withhold warfarin for two doses and give phytomenadione "
            "1 mg by mouth. Recheck the INR in 24 hours.")
DIABETES = ("Type 2 diabetes\n"
            "Start metformin 500 mg once daily with the evening meal. Increase to 500 mg twice "
            "daily after 1 week if tolerated. Check HbA1c after 3 months.")
PNEUMONIA = ("Community-acquired pneumonia (CAP)\n"
             "Low severity: amoxicillin 500 mg three times daily for 5 days.\n"
             "Atypical cover: doxycycline 100 mg twice daily.")
ERADICATION = (
    "H. pylori eradication: omeprazole 20 mg twice daily, amoxicillin 1 g twice daily and "
    "clarithromycin 500 mg twice daily, all for 7 days.\n"
    "Penicillin allergy: omeprazole 20 mg twice daily, metronidazole 400 mg twice daily and "
    "clarithromycin 500 mg twice daily for 14 days.\n"
    "Rheumatoid arthritis: methotrexate 10 mg weekly, with folic acid 5 mg once a week on "
    "another day.\n"
    "Gout flare: colchicine 500 micrograms b.d. until the pain settles.")
HITS = [Hit(1, 1, "/lib/heart_failure.pdf", 3, None, 0.9, HEART_FAILURE),
        Hit(2, 2, "/lib/antibiotics.md", None, None, 0.8, INFECTIONS),
        Hit(3, 3, "/lib/anticoagulation.md", None, None, 0.7, WARFARIN),
        Hit(4, 4, "/lib/diabetes.txt", None, None, 0.7, DIABETES),
        Hit(5, 5, "/lib/pneumonia.pdf", 12, None, 0.6, PNEUMONIA),
        Hit(6, 6, "/lib/formulary.md", None, None, 0.6, ERADICATION)]


def _one(answer: str) -> SentenceCheck:
    checks = check_answer(answer, HITS)
    assert len(checks) == 1, checks
    return checks[0]


def _supported(answer: str) -> None:
    check = _one(answer)
    assert check.verdict is Verdict.SUPPORTED, (answer, check.reason)


def test_doses_swapped_between_two_drugs_of_one_passage_are_caught() -> None:
    bad = _one("Bisoprolol 25 mg once daily and spironolactone 1.25 mg once daily are "
               "started [1].")
    assert bad.verdict is Verdict.NOT_FOUND and bad.supported is False
    assert bad.reason == ("“25 mg” is given for Bisoprolol in the answer but not in the source "
                          "sentence that names it")
    # The same swap written dose first: "1.25 mg of spironolactone".
    bad = _one("The patient takes 1.25 mg of spironolactone with bisoprolol 25 mg [1].")
    assert bad.supported is False and "“1.25 mg” is given for spironolactone" in bad.reason


def test_a_changed_frequency_is_caught() -> None:
    bad = _one("Ramipril is started at 2.5 mg once daily [1].")
    assert bad.supported is False
    assert bad.reason == ("“once daily” is given for Ramipril in the answer but not in the "
                          "source sentence that names it")
    bad = _one("Flucloxacillin 500 mg is given twice daily for cellulitis [2].")
    assert bad.supported is False and "“twice daily” is given for Flucloxacillin" in bad.reason


def test_a_frequency_in_no_cited_sentence_is_reported_as_missing() -> None:
    bad = _one("Amoxicillin 500 mg is given every 6 hours for 5 days [5].")
    assert bad.supported is False and bad.reason == "“every 6 hours” is not in the cited source"
    # Weekly methotrexate given daily: "daily" right after a dose is a frequency.
    bad = _one("Methotrexate 10 mg daily is used in rheumatoid arthritis [6].")
    assert bad.supported is False and bad.reason == "“daily” is not in the cited source"
    _supported("Methotrexate 10 mg once weekly is used in rheumatoid arthritis [6].")


def test_a_duration_taken_from_another_line_is_caught() -> None:
    bad = _one("Nitrofurantoin 100 mg modified-release is taken twice daily for 7 days [2].")
    assert bad.supported is False
    assert bad.reason == ("“7 days” is given for Nitrofurantoin in the answer but not in the "
                          "source sentence that names it")
    bad = _one("The HbA1c is checked after 1 week [4].")
    assert bad.supported is False and "“1 week” is given for HbA1c" in bad.reason
    # Same frequency for every drug of a regimen, the duration of the other regimen.
    bad = _one("Amoxicillin 1 g twice daily is given for 14 days [6].")
    assert bad.supported is False and "“14 days” is given for Amoxicillin" in bad.reason
    assert _one("Metronidazole 400 mg twice daily for 7 days [6].").supported is False


def test_correct_pairings_pass() -> None:
    _supported("Start bisoprolol 1.25 mg once daily and spironolactone 25 mg once daily if "
               "potassium is below 5.0 mmol/L [1].")
    _supported("Ramipril 2.5 mg twice daily is started and potassium is checked after 1 to 2 "
               "weeks [1].")
    _supported("Cellulitis is treated with flucloxacillin 500 mg four times daily for 7 days, "
               "and a lower urinary tract infection in women with nitrofurantoin 100 mg "
               "modified-release twice daily for 3 days [2].")


def test_paraphrased_pairings_pass() -> None:
    # Dose before the drug, frequency and duration in words.
    _supported("For cellulitis, give 500 mg of flucloxacillin four times a day for seven "
               "days [2].")
    # "milligrams" for "mg", a frequency as an interval ("every 12 hours" is twice daily).
    _supported("Women with a lower urinary tract infection take 100 milligrams of "
               "nitrofurantoin modified-release every 12 hours for 3 days [2].")
    # A frequency abbreviation and a changed word order.
    _supported("For 5 days and twice daily, clarithromycin 500 mg is the choice in penicillin "
               "allergy [2].")
    _supported("Flucloxacillin 500 mg QDS for 7 days treats cellulitis [2].")
    _supported("Folic acid 5 mg is taken one day a week, on another day than methotrexate "
               "10 mg weekly [6].")
    _supported("For a gout flare, colchicine 500 mcg is taken twice a day [6].")
    # One dose given for a whole regimen; a condition written between a drug and its dose.
    _supported("Eradication uses omeprazole 20 mg, amoxicillin 1 g and clarithromycin 500 mg, "
               "each twice daily for 7 days [6].")
    _supported("Bisoprolol is started in heart failure with reduced ejection fraction at "
               "1.25 mg once daily [1].")
    # Number words: "2 doses" for the source's "two doses", and "two doses" in the answer.
    _supported("Warfarin is withheld for 2 doses and phytomenadione 1 mg is given orally [3].")
    _supported("Withhold two doses of warfarin and recheck the INR in 24 hours [3].")


def test_a_sentence_without_a_drug_continues_the_one_before() -> None:
    # "Increase to 500 mg twice daily after 1 week" names no drug: it is about metformin.
    _supported("Metformin is increased to 500 mg twice daily after 1 week [4].")
    _supported("Metformin 500 mg is started once daily with the evening meal [4].")


def test_a_heading_names_the_condition_of_the_lines_under_it() -> None:
    _supported("Low-severity CAP is treated for 5 days with amoxicillin 500 mg three times "
               "daily [5].")
    _supported("Amoxicillin 500 mg every 8 hours for 5 days treats low-severity CAP [5].")
    bad = _one("Doxycycline 100 mg three times daily gives atypical cover in CAP [5].")
    assert bad.supported is False and "“three times daily” is given for Doxycycline" in bad.reason


def test_a_quantity_given_for_no_term_is_checked_for_presence_only() -> None:
    _supported("The usual course is 500 mg three times daily for 5 days [5].")
    bad = _one("The usual course is 500 mg three times daily for 10 days [5].")
    assert bad.supported is False and bad.reason == "“10 days” is not in the cited source"


def test_a_drug_heading_covers_the_bullet_lines_under_it() -> None:
    formulary = ("Amoxicillin\n- Adults: 500 mg three times daily for 5 days\n"
                 "- Children 1 to 4 years: 250 mg three times daily\n"
                 "Clarithromycin\n- Adults: 500 mg twice daily for 5 days")
    hits = [Hit(1, 1, "/lib/formulary.md", None, None, 0.9, formulary)]
    ok = check_answer("Adults take amoxicillin 500 mg three times daily for 5 days [1]. Children "
                      "aged 1 to 4 get 250 mg of amoxicillin three times a day [1]. Adults take "
                      "clarithromycin 500 mg twice daily for five days [1].", hits)
    assert [c.supported for c in ok] == [True, True, True], [c.reason for c in ok]
    bad = check_answer("Clarithromycin 500 mg three times daily is given to adults [1].", hits)
    assert bad[0].supported is False and "“three times daily” is given for" in bad[0].reason


def test_a_duration_in_a_clause_of_its_own_is_not_the_drugs() -> None:
    """"..., review in 4 weeks" after a dose change is not given for the drug; a dose written
    in the clause after the drug's ("amoxicillin is given, at 500 mg") still is."""
    note = [Hit(1, 1, "/lib/depression.txt", None, None, 0.8,
                "Plan: 1. Sertraline increased from 50 mg to 100 mg once daily. 2. Continue "
                "guided self-help. 3. Review in 4 weeks with repeat PHQ-9.")]
    plan = ("The plan was to increase sertraline from 50 mg to 100 mg once daily, continue "
            "guided self-help, and review in 4 weeks. [1]")
    assert check_answer(plan, note)[0].supported
    swapped = "Nitrofurantoin is used, at 500 mg four times daily. [2]"
    assert not check_answer(swapped, HITS)[0].supported


def test_a_quantity_before_the_drug_or_after_a_frequency_still_pairs() -> None:
    """"For 10 days, amoxicillin ..." and "..., three times daily, for 10 days": the 10 days
    is amoxicillin's, and the pneumonia guideline gives amoxicillin 5 days."""
    for s in ("For 10 days, amoxicillin 500 mg three times daily. [5]",
              "Amoxicillin 500 mg was given, three times daily, for 10 days. [5]"):
        assert not check_answer(s, HITS)[0].supported, s
    right = "Amoxicillin 500 mg was given, three times daily, for 5 days. [5]"
    assert check_answer(right, HITS)[0].supported


def test_a_drug_named_in_the_question_is_still_checked() -> None:
    src = [Hit(1, 1, "/lib/af.md", None, None, 0.8, "Apixaban 20 mg daily started.")]
    s = "She got rivaroxaban 20 mg daily. [1]"
    assert not check_answer(s, src, "What dose of rivaroxaban did she get?")[0].supported


def test_a_yes_is_checked_with_the_question_it_answers() -> None:
    src = [Hit(1, 1, "/lib/af.md", None, None, 0.8, "Warfarin continued at 5 mg daily.")]
    assert not check_answer("Yes, the aspirin was stopped. [1]", src,
                            "Was the aspirin stopped?")[0].supported
