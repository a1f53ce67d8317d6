"""Support judgement: everyday words never refuse; absent drugs and abbreviations always do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.library.indexing import Library
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.text.terms import is_drug_name, is_specific_word, specific_terms

NOTE = """Anticoagulation clinic note (fictional patient)

Warfarin for a mechanical mitral valve. INR today 4.6, above the target range of 2.0 to 3.0.
No bleeding or bruising. Plan: hold two doses, recheck INR in three days.

Atrial fibrillation noted on the ECG in 2023. HELLP syndrome in her second pregnancy.
Autorefraction at the optician was normal; refraction checked yearly.
"""


def test_everyday_words_are_not_specific_and_drugs_are() -> None:
    for w in ("done", "high", "treated", "drug", "changed", "treatment", "kidney", "thinner",
              "infant", "3-year", "2nd", "follow-up"):
        assert not is_specific_word(w), w
    for w in ("warfarin", "rivaroxaban", "dexamethasone", "croup", "HbA1c", "CURB-65"):
        assert is_specific_word(w), w
    assert [t.text for t in specific_terms("Did the AF patient's MRI show HbA1c?")] == [
        "AF", "MRI", "HbA1c"]
    assert is_drug_name("natalizumab") and is_drug_name("budesonide")
    assert not is_drug_name("omnipresence")


@pytest.fixture(scope="module")
def note_library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    folder = tmp_path_factory.mktemp("notes")
    (folder / "warfarin.txt").write_text(NOTE, encoding="utf-8")
    lib = Library(tmp_path_factory.mktemp("home"), embedder)
    for _ in lib.index_paths([folder]):
        pass
    yield lib
    lib.close()


@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "What should be done about the high INR?",
    "Was the dose changed after the INR result?",
    "Does the patient with atrial fibrillation take an anticoagulant?",
    "Did the AF patient have bleeding?",           # AF: the note writes "atrial fibrillation"
    "Did she have HELPP syndrome?",                # a typing slip
    "Was her auto-refraction normal?",
    "Is she still on Coumadin?",                   # a brand of warfarin (core/text/drugs.py)
])
def test_plain_questions_on_one_note_are_supported(note_library: Any, question: str) -> None:
    res = Retriever(note_library).search(question, k=3)
    assert res.supported, res.reason
    assert Path(res.hits[0].path).name == "warfarin.txt"


@pytest.mark.slow
@pytest.mark.parametrize(("question", "term"), [
    ("What rivaroxaban dose was the warfarin patient switched to?", "rivaroxaban"),
    ("What did the MRI of the valve show?", "MRI"),
    ("Was the INR high because of clarithromycin?", "clarithromycin"),
    ("Did Zofran help her nausea?", "Zofran"),  # a brand (ondansetron) under no name here
])
def test_absent_drugs_and_abbreviations_are_refused_by_name(note_library: Any, question: str,
                                                            term: str) -> None:
    res = Retriever(note_library).search(question, k=3)
    assert not res.supported
    assert term in res.missing_terms and term in res.reason


@pytest.mark.slow
def test_a_question_about_nothing_in_the_library_is_refused(note_library: Any) -> None:
    res = Retriever(note_library).search("What is the capital of Australia?", k=3)
    assert not res.supported and "about this question" in res.reason
