"""The sentence check measured against a physician's reading (tests/data/small_library/
labelled_sentences.jsonl): answer sentences the 1.5B answer model wrote over the project's small
library, each labelled by reading its cited passages (kept beside it) as "supported" or "not
supported", with why. The check's job is to mark "not found" what the sources do not say.

Precision: of the sentences the check marks, the share a reader also rejects. Recall: of the
sentences a reader rejects, the share the check marks. README, "The sentence check, measured".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.answer.verify import check_answer
from medsearch_app.core.types import Hit, Verdict

LABELS = Path(__file__).resolve().parents[1] / "data" / "small_library" / "labelled_sentences.jsonl"


def _load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LABELS.read_text("utf-8").splitlines() if line.strip()]


def flagged(rec: dict[str, Any]) -> bool:
    """Whether the check marks the sentence "not found" against its own cited passages."""
    sources = {int(n): t for n, t in rec["sources"].items()}
    hits = [Hit(n, n, f"/lib/{rec['files'].get(str(n), 'x.md')}", None, None, 0.5,
                sources.get(n, "")) for n in range(1, max(sources, default=0) + 1)]
    checks = check_answer(rec["sentence"], hits, rec["question"])
    return any(c.verdict in (Verdict.NOT_FOUND, Verdict.UNCITED) for c in checks)


def test_the_labelled_set_is_large_enough_and_labelled_both_ways() -> None:
    recs = _load()
    assert len(recs) >= 60
    assert {r["label"] for r in recs} == {"supported", "not supported"}
    assert all(r["why"] for r in recs if r["label"] == "not supported")


def test_precision_and_recall_of_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    recs = _load()
    tp = sum(flagged(r) and r["label"] == "not supported" for r in recs)
    fp = sum(flagged(r) and r["label"] == "supported" for r in recs)
    fn = sum(not flagged(r) and r["label"] == "not supported" for r in recs)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    with capsys.disabled():
        print(f"\n[sentence check] {len(recs)} labelled sentences: precision {precision:.2f} "
              f"({tp} of {tp + fp} marked), recall {recall:.2f} ({tp} of {tp + fn} unsupported)")
        for r in recs:
            if flagged(r) != (r["label"] == "not supported"):
                print(f"  {'marked, but right' if flagged(r) else 'missed'}: {r['id']} "
                      f"{r['sentence'][:90]}")
    # Measured 2026-12-06: 0.95 and 0.68 (README; the check before these labels: 0.75 and 0.75).
    # A fall below these means the check changed.
    assert precision >= 0.9 and recall >= 0.65


def test_words_taken_from_the_question_are_not_the_models_claim() -> None:
    src = [Hit(1, 1, "/lib/ckd.txt", None, None, 0.5,
               "Plan: Increase ramipril from 2.5 mg to 5 mg OD to improve BP control.")]
    s = "The CKD lady's ramipril was increased from 2.5 mg to 5 mg OD. [1]"
    assert check_answer(s, src, "What ramipril change was made for the CKD lady?")[0].supported
    assert not check_answer(s, src, "What ramipril change was made?")[0].supported
    # a number is checked whoever wrote it first
    wrong = "The CKD lady's ramipril was increased to 10 mg OD. [1]"
    assert not check_answer(wrong, src, "Was ramipril increased to 10 mg for the CKD lady?")[
        0].supported


def test_an_everyday_word_counts_when_the_source_uses_its_clinical_name() -> None:
    src = [Hit(1, 1, "/lib/gb.txt", None, None, 0.5,
               "Laparoscopic cholecystectomy on 12 March 2025 for biliary colic.")]
    ok = "Her gallbladder was removed on 12 March 2025. [1]"
    assert check_answer(ok, src, "When was her operation?")[0].supported
    assert not check_answer("Her appendix was removed on 12 March 2025. [1]", src,
                            "When was her operation?")[0].supported
