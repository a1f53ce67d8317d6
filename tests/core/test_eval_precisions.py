"""Embedder precisions side by side (`eval-retrieval --precisions`), with the real embedders on a
small PubMedQA-format corpus written here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.evaluation.retrieval import overlap_at

TOPICS = {
    "warf": "Warfarin dosing is guided by the INR; the usual target range is 2.0 to 3.0.",
    "curb": "The CURB-65 score grades pneumonia severity; a score of 3 to 5 means admission.",
    "croup": "Croup in children is treated with a single oral dose of dexamethasone.",
    "gout": "Colchicine or an NSAID treats an acute gout flare; allopurinol prevents them.",
    "asth": "Asthma control is reviewed by symptoms, reliever use and peak flow.",
    "ckd": "Chronic kidney disease is staged by eGFR and the urine albumin to creatinine ratio.",
    "af": "Atrial fibrillation raises stroke risk; CHA2DS2-VASc guides anticoagulation.",
    "thy": "Levothyroxine doses are adjusted to keep TSH within the reference range.",
}
QUESTIONS = {
    "warf": "What INR range is targeted with warfarin?",
    "curb": "Which CURB-65 scores need hospital admission?",
    "croup": "What steroid treats croup?",
    "ckd": "How is chronic kidney disease staged?",
}


def test_overlap_of_rankings() -> None:
    a = [["1", "2", "3", "4"], ["5", "6", "7", "8"]]
    assert overlap_at(a, a, k=4) == 1.0
    assert overlap_at(a, [["1", "2", "9", "9"], ["0", "0", "0", "0"]], k=4) == 0.25
    short = [["1", "2"], ["5"]]  # fewer hits than k: still identical to itself
    assert overlap_at(short, short, k=4) == 1.0
    assert overlap_at(short, [["1", "3"], ["6"]], k=4) == 0.25


@pytest.mark.slow
def test_precisions_side_by_side(tmp_path: Path, medsearch: Any) -> None:
    data = tmp_path / "pubmedqa"
    data.mkdir()
    with (data / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for key, text in TOPICS.items():
            for part in (0, 1):
                fh.write(json.dumps({"id": f"{key}_{part}", "text": f"{text} (part {part})"})
                         + "\n")
    with (data / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for key, q in QUESTIONS.items():
            fh.write(json.dumps({"id": key, "question": q,
                                 "relevant_ids": [f"{key}_0", f"{key}_1"]}) + "\n")
    r = medsearch(tmp_path / "home", "eval-retrieval", "--pubmedqa", str(data), "--precisions",
                  "fp32,int8", "--modes", "dense,hybrid", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["reference"] == "fp32" and set(rep["precisions"]) == {"fp32", "int8"}
    for p in ("fp32", "int8"):
        pq = rep["precisions"][p]["pubmedqa"]
        assert pq["chunks"] == 16 and pq["index_mb"] > 0 and pq["chunks_per_s"] > 0
        modes = [k for k in pq if k.split("@")[0] in ("dense", "hybrid")]
        assert len(modes) == 2  # dense and hybrid@<weight>
        for mode in modes:
            m = pq[mode]
            # Every question has 2 relevant passages of 16: the best top 5 holds both of them.
            assert m["set_recall@5"] == 1.0 and m["precision@5"] == 0.4
            assert m["f1@5"] == pytest.approx(2 * 0.4 * 1.0 / 1.4, abs=1e-3)
            assert 0.0 < m["overlap@10"] <= 1.0
    assert rep["precisions"]["fp32"]["pubmedqa"]["dense"]["overlap@10"] == 1.0
