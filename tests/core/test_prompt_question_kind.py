"""The prompt fits the question: "begin with Yes, No or Maybe" only where a yes or a no is asked.

rag.asks_yes_no judges the question's form; rag.build_messages puts the instruction in the
closing line of the user message only for yes/no questions, and keeps the system prompt one text
for every question (the prompt prefix that consecutive questions share)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medsearch_app.core.answer import rag
from medsearch_app.core.evaluation.answers import load_questions, predicted_decision
from medsearch_app.core.types import Hit

PUBMEDQA = Path(__file__).resolve().parents[3] / "shared" / "evaldata" / "pubmedqa" / \
    "queries.jsonl"
YES_NO_INSTRUCTION = "Yes, No or Maybe"

YES_NO = [
    "Is warfarin safe in pregnancy?",
    "Should we admit a CURB-65 of 3?",
    "Does apixaban need dose reduction in an 81-year-old woman weighing 57 kg?",
    "Are DOACs preferred over warfarin in AF?",
    "Do we stop aspirin when apixaban is started?",
    "Did the INR rise because of clarithromycin?",
    "Can amoxicillin be given in penicillin allergy?",
    "Could this be sepsis?",
    "May I stop the aspirin?",
    "Was the HbA1c above target?",
    "Were blood cultures taken?",
    "Has she had a stroke before?",
    "Have we checked renal function?",
    "Will aspirin add stroke protection in AF?",
    "Would you start anticoagulation in this patient?",
    "Isn't aspirin enough for stroke prevention in AF?",
    "Can’t we just continue the aspirin?",
    "is warfarin safe in pregnancy",  # typed without a question mark
    "Restart warfarin at the usual dose or not?",
    "In pregnancy, is warfarin safe?",
    "For a patient with an INR of 4.6 and no bleeding, should we give vitamin K?",
    "So, is oral amoxicillin enough for a CURB-65 of 1?",
    "Warfarin in pregnancy: is it safe?",
    "My patient is 82 and weighs 55 kg. Should she get the reduced apixaban dose?",
    "Apixaban is the right choice here, isn't it?",
    "The reduced apixaban dose applies here, right?",
    "Warfarin is safe in pregnancy?",
    "Warfarin safe in pregnancy?",
    "Can you tell me whether warfarin is safe in pregnancy?",
    "Do you know if metformin should be stopped before contrast?",
    "Can you give aspirin together with apixaban?",  # "give" a drug, not "give me"
    # PubMedQA's title-like questions
    "Double balloon enteroscopy: is it efficacious and safe in a community setting?",
    "Syncope during bathing in infants, a pediatric form of water-induced urticaria?",
    "Cold knife conization vs. LEEP. Are they the same procedure?",
    "Do some U.S. states have higher/lower injury mortality rates than others?",
]

NOT_YES_NO = [
    "What should be done about the high INR?",
    "What CURB-65 score needs hospital admission?",
    "Which antibiotic for severe community-acquired pneumonia?",
    "How is the apixaban dose chosen?",
    "When should the INR be rechecked?",
    "Why was the aspirin stopped?",
    "Who should receive the reduced apixaban dose?",
    "Where should a patient with a CURB-65 of 3 be treated?",
    "Whom do I call if the INR is above 8?",
    "What's the target INR?",
    "In a patient with an INR of 4.6, what should be done?",
    "Warfarin in pregnancy: what are the risks?",
    "And how long should antibiotics be given?",
    "Can you explain how the apixaban dose is chosen?",
    "Could you list the CURB-65 criteria?",
    "Could you please summarise the plan for the AF patient?",
    "Can you tell me what to do if the INR is high?",
    "Do you know the dose of amoxicillin for pneumonia?",
    "Dose of amoxicillin for community-acquired pneumonia?",
    "Management of a high INR without bleeding?",
    "Side effects of metformin?",
    "Tell me how to manage a high INR.",
    "Summarise the anticoagulation plan.",
    "warfarin pregnancy",
    "The patient has an INR of 6. What now?",
    "Is warfarin safe in pregnancy? If so, what dose?",  # not every question is yes/no
    "",
]


@pytest.mark.parametrize("question", YES_NO)
def test_yes_no_questions(question: str) -> None:
    assert rag.asks_yes_no(question)


@pytest.mark.parametrize("question", NOT_YES_NO)
def test_other_questions(question: str) -> None:
    assert not rag.asks_yes_no(question)


HIT = Hit(1, 7, "/lib/warfarin_clinic.md", None, None, 0.9,
          "INR today 4.6, above the target range of 2.0 to 3.0. Plan: hold two doses.")


def _prompt(question: str) -> list[dict[str, str]]:
    return rag.build_messages(question, [HIT])


def test_the_instruction_is_given_only_for_yes_no_questions() -> None:
    wh = _prompt("What should be done about the high INR?")
    yn = _prompt("Is warfarin safe in pregnancy?")
    assert not any(YES_NO_INSTRUCTION in m["content"] for m in wh)
    assert not any(m["content"].lstrip().startswith("Yes") for m in wh)
    assert YES_NO_INSTRUCTION not in yn[0]["content"]
    closing = yn[-1]["content"].rsplit("\n\n", 1)[-1]
    assert closing.startswith('Answer the question "Is warfarin safe in pregnancy?"')
    assert YES_NO_INSTRUCTION in closing and "[1]" in closing
    # Both still ask for a short, cited answer from the sources.
    for messages in (wh, yn):
        assert re.search(r"(two|one) (or|to) three sentences", messages[-1]["content"])
        assert "[1] (warfarin_clinic.md)" in messages[-1]["content"]


def test_the_system_prompt_is_one_text_for_every_question() -> None:
    """The shared prompt prefix (template + system prompt) does not depend on the question."""
    systems = {_prompt(q)[0]["content"] for q in YES_NO[:5] + NOT_YES_NO[:5]}
    assert systems == {rag.SYSTEM_PROMPT}
    assert YES_NO_INSTRUCTION not in rag.SYSTEM_PROMPT


def test_messages_are_plain_roles_for_the_models_own_template() -> None:
    """No model family's special tokens: the GGUF's chat template adds its own."""
    for q in ("Is warfarin safe in pregnancy?", "What should be done about the high INR?"):
        messages = _prompt(q)
        assert [m["role"] for m in messages] == ["system", "user"]
        text = "".join(m["content"] for m in messages)
        for token in ("<|", "|>", "[INST]", "<s>", "</s>", "<start_of_turn>", "<<SYS>>"):
            assert token not in text


def test_a_yes_no_answer_is_still_scored_as_a_decision() -> None:
    """eval_answers / compare read the decision from the answer's first word."""
    assert predicted_decision("Yes, warfarin is contraindicated in pregnancy [1].") == "yes"
    assert predicted_decision("No. The sources advise against it [1].") == "no"
    assert predicted_decision("Maybe: the evidence is inconclusive [1].") == "maybe"


@pytest.mark.skipif(not PUBMEDQA.exists(), reason="PubMedQA questions not in shared/evaldata")
def test_pubmedqa_questions_are_yes_no_questions() -> None:
    """PubMedQA labels every question yes/no/maybe; nearly all must get the instruction, or the
    decision accuracy of eval-answers and compare would fall for a reason that is not the
    model's. (The few misses are verbless titles such as "X: cause of Y?".)"""
    questions = [q.question for q in load_questions(PUBMEDQA)]
    missed = [q for q in questions if not rag.asks_yes_no(q)]
    assert len(questions) >= 100
    assert len(missed) <= len(questions) // 100, missed[:10]
