"""Locating a passage in another extraction of the same text."""

from __future__ import annotations

import unicodedata

from medsearch_app.core.text.textspan import locate


def test_exact_across_line_breaks_hyphenation_and_ligatures() -> None:
    hay = "Intro.\r\nThe surface traf-\r\nﬁcking of the chan-\nnel was reduced by 40%.\nEnd."
    span = locate("The surface trafficking of the channel was reduced by 40%.", hay)
    assert span is not None
    assert hay[span[0]:span[1]].startswith("The surface") and hay[span[0]:span[1]].endswith("by 40")


def test_case_ligatures_and_accent_forms() -> None:
    hay = "Pneumonia\nCONFIRMED BY THE ﬁrst RADIOGRAPH in the café.\n"
    needle = unicodedata.normalize("NFD", "confirmed by the first radiograph in the CAFÉ")
    span = locate(needle, hay)
    assert span is not None
    assert hay[span[0]:span[1]] == "CONFIRMED BY THE ﬁrst RADIOGRAPH in the café"


def test_markdown_markup_and_table_pipes_are_ignored() -> None:
    shown = "Plan\nHold two doses of warfarin, recheck INR in three days.\nDrug\tDose\n"
    assert locate("**Hold** two doses of *warfarin*, recheck INR in three days.", shown) == (
        5, 5 + len("Hold two doses of warfarin, recheck INR in three days"))
    assert locate("| Drug | Dose |", shown) is not None
    md = "# Plan\n\n* Give *high-flow* oxygen.\n"
    shown = "Plan\n• Give high-flow oxygen.\n"
    span = locate(md, shown)
    assert span is not None and shown[span[0]:span[1]] == "Plan\n• Give high-flow oxygen"


def test_head_and_tail_anchor_when_the_middle_differs() -> None:
    hay = ("Dexamethasone 0.15 mg/kg given orally once (see table 2 on page 4) before discharge "
           "from the emergency department today.")
    needle = ("Dexamethasone 0.15 mg/kg given orally once before discharge from the emergency "
              "department today.")
    span = locate(needle, hay)
    assert span is not None and span[0] == 0 and span[1] == len(hay) - 1


def test_a_repeated_head_anchors_on_the_occurrence_with_its_tail() -> None:
    summary = "Give oxygen to keep the saturation between 94% and 98% in adults. " + "x " * 400
    passage = ("Give oxygen to keep the saturation between 94% and 98% in most adults; aim for "
               "88% to 92% in people at risk of hypercapnic respiratory failure.")
    hay = summary + passage.replace("most adults", "most adults [12]") + " Next section."
    span = locate(passage, hay)
    assert span is not None and span[0] == len(summary)
    assert hay[span[0]:span[1]].endswith("respiratory failure")


def test_absent_or_implausible_text_is_none() -> None:
    assert locate("rivaroxaban twenty milligrams", "warfarin five milligrams daily") is None
    assert locate("", "anything") is None
    assert locate("anything", "") is None
    # head and tail both present, but far too far apart to be the passage
    head, tail = "Metformin is the first-line oral drug", "because of the risk of lactic acidosis"
    hay = head + " filler" * 200 + " " + tail
    assert locate(head + " for type 2 diabetes; stop it when eGFR is low " + tail, hay) is None
