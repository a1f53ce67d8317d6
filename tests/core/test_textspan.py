"""Locating a passage in another extraction of the same text."""

from __future__ import annotations

from medsearch_app.core.textspan import locate


def test_exact_across_line_breaks_hyphenation_and_ligatures() -> None:
    hay = "Intro.\r\nThe surface traf-\r\nﬁcking of the chan-\nnel was reduced by 40%.\nEnd."
    span = locate("The surface trafficking of the channel was reduced by 40%.", hay)
    assert span is not None
    assert hay[span[0]:span[1]].startswith("The surface") and hay[span[0]:span[1]].endswith("by 40")


def test_markdown_markup_and_table_pipes_are_ignored() -> None:
    shown = "Plan\nHold two doses of warfarin, recheck INR in three days.\nDrug\tDose\n"
    assert locate("**Hold** two doses of *warfarin*, recheck INR in three days.", shown) == (
        5, 5 + len("Hold two doses of warfarin, recheck INR in three days"))
    assert locate("| Drug | Dose |", shown) is not None


def test_head_and_tail_anchor_when_the_middle_differs() -> None:
    hay = ("Dexamethasone 0.15 mg/kg given orally once (see table 2 on page 4) before discharge "
           "from the emergency department today.")
    needle = ("Dexamethasone 0.15 mg/kg given orally once before discharge from the emergency "
              "department today.")
    span = locate(needle, hay)
    assert span is not None and span[0] == 0 and span[1] == len(hay) - 1


def test_absent_text_is_none() -> None:
    assert locate("rivaroxaban twenty milligrams", "warfarin five milligrams daily") is None
    assert locate("", "anything") is None
