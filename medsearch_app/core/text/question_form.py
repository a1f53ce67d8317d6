"""Whether a question asks for a yes or a no, judged on its English form (no model involved).

rag.py gives only such a question the "begin with Yes, No or Maybe" instruction: told that for
every question, the 1.5B answer model began "What apixaban dose was chosen ...?" with "Yes".
"""

from __future__ import annotations

import re


# The form of an English question, for asks_yes_no. Words are lower-cased, with ' for ’.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


AUXILIARIES = _words(
    "am is are was were be do does did have has had can could shall should will would may "
    "might must ought isn't aren't wasn't weren't don't doesn't didn't haven't hasn't hadn't "
    "can't cannot couldn't shan't shouldn't won't wouldn't mightn't mustn't")
WH_WORDS = _words(
    "what which who whom whose when where why how what's whats how's who's where's when's "
    "why's")
# Words before the question proper: "So, is ...", "And what ...", "Please, could ...".
LEAD_WORDS = _words("and or but so then also please well now ok okay")
# "Can you explain ...?" asks for an explanation, not for a yes or a no.
REQUEST_VERBS = _words(
    "tell explain describe summarise summarize list outline show help clarify define compare "
    "find provide write draft suggest recommend name identify walk remind know")
# A verbless question that names a piece of information asks for it: "Dose of X for Y?".
INFO_NOUNS = _words(
    "dose doses dosage dosing regimen management treatment treatments therapy therapies "
    "options choice cause causes signs symptoms criteria definition differential mechanism "
    "target targets range duration interval frequency timing guidance guideline guidelines "
    "recommendation recommendations steps step approach workup work-up investigations tests "
    "complications contraindications indications interactions effects prognosis risk risks "
    "rate rates incidence prevalence level levels threshold cutoff cut-off score route amount "
    "number names list types classification stages examples summary overview plan "
    "monitoring half-life")
PREPOSITIONS = _words(
    "of for in on with without after before during to from at by as versus vs between among "
    "per under over within about against")
TAGS = ("right", "correct", "true", "agreed", "yes or no", "yes/no")
_WORD = re.compile(r"[a-z0-9]+(?:['/-][a-z0-9]+)*")


def asks_yes_no(question: str) -> bool:
    """Whether the question asks for a yes or a no, judged on its form (English).

    Yes/no: it starts with an auxiliary or modal verb ("Is warfarin safe in pregnancy?",
    "Should we admit a CURB-65 of 3?"), also after a leading phrase or a topic ("In pregnancy,
    is ...", "Warfarin in pregnancy: is it safe?"); it ends in "or not?" or a tag ("..., isn't
    it?", "..., right?"); it asks whether; or it is a verbless question that names no piece of
    information (PubMedQA's "X: a risk factor for Y?", "Warfarin safe in pregnancy?").
    Not yes/no: a wh-question ("What should be done about the high INR?", also after a leading
    phrase), a request ("Can you explain how ...?"), "Dose of amoxicillin for otitis media?",
    a statement or a few key words. With several questions, every one must be yes/no."""
    text = " ".join(question.replace("’", "'").replace("‘", "'").split())
    # A sentence ends at ? or !, or at a full stop before a capital ("U.S. states" goes on).
    sentences = [s.lower() for s in re.split(r"(?<=[?!])\s+|(?<=\.)\s+(?=[A-Z])", text)
                 if s.strip(" .!?")]
    asked = [s for s in sentences if s.endswith("?")]
    return bool(sentences) and all(_yes_no_sentence(s) for s in asked or [text.lower()])


def _yes_no_sentence(sentence: str) -> bool:
    if re.search(r"\bor (not|no)\W*$", sentence):
        return True
    clauses = [_WORD.findall(c) for c in re.split(r"[,;:()]|\.\s|\s[-–—]+\s|--", sentence)]
    clauses = [words for words in clauses if words]
    for words in clauses:
        while words and words[0] in LEAD_WORDS:
            words = words[1:]
        if not words:
            continue
        if words[0] in WH_WORDS:
            return False
        if words[0] in AUXILIARIES:
            wanted = _request_object(words)
            return wanted is None or wanted[:1] in (["whether"], ["if"])
    if _embedded_yes_no(sentence):
        return True
    if any(w in WH_WORDS for words in clauses for w in words) or not clauses:
        return False
    if " ".join(clauses[-1]) in TAGS:
        return True
    if not sentence.endswith("?"):
        return False
    last = clauses[-1]
    # "Warfarin is safe in pregnancy?" (a statement asked); "X: a risk factor for Y?"
    if last[0] in ("a", "an", "another") or any(w in AUXILIARIES for w in last):
        return True
    head = []
    for w in last:
        if w in PREPOSITIONS:
            break
        head.append(w)
    return not any(w in INFO_NOUNS for w in head)


def _request_object(words: list[str]) -> list[str] | None:
    """What "Can you (please) tell me ...", "Could you list ...", "Do you know ..." ask for;
    None when the words are not such a request ("Can you give aspirin with warfarin?")."""
    if len(words) < 3 or words[1] not in ("you", "u"):
        return None
    rest = [w for w in words[2:] if w != "please"]
    if not rest:
        return None
    verb, rest = rest[0], rest[1:]
    if verb not in REQUEST_VERBS and not (verb == "give" and rest[:1] in (["me"], ["us"])):
        return None
    return rest[1:] if rest[:1] in (["me"], ["us"]) else rest


def _embedded_yes_no(text: str) -> bool:
    """"... whether ...", "tell me if ...", "I wonder if ..."."""
    return bool(re.search(r"\bwhether\b|\b(wonder|know|tell me|tell us|ask|sure|check|see) "
                          r"if\b", text))
