"""Names of one medicine (core/text/drugs.py), read from the real dictionary; no model."""

from __future__ import annotations

from pathlib import Path

from medsearch_app.core.library.store import Store
from medsearch_app.core.text import drugs
from medsearch_app.core.types import Chunk


def test_brand_british_and_american_names_name_one_medicine() -> None:
    assert "paracetamol" in drugs.other_names("Calpol")
    assert "acetaminophen" in drugs.other_names("paracetamol")
    assert {"salbutamol", "albuterol"} <= set(drugs.other_names("Ventolin"))
    assert "warfarin" in drugs.other_names("coumadin")
    assert "calpol" not in drugs.other_names("calpol")  # itself left out
    assert drugs.is_drug("bisoprolol") and drugs.is_drug("Zofran")
    for word in ("tummy", "blocker", "pacemaker", "water", "pain", "omnipresence"):
        assert not drugs.is_drug(word) and drugs.other_names(word) == [], word
    assert drugs.count() > 20_000


def test_the_keyword_search_finds_a_medicine_under_another_name(tmp_path: Path) -> None:
    st = Store(tmp_path / "lib.sqlite3")
    texts = ["Paracetamol 15 mg/kg (160 mg) given for fever.", "Ibuprofen was given.",
             "Review in a week."]
    chunks = [Chunk(doc_id=0, page=1, page_label="1", start=0, end=len(t), text=t)
              for t in texts]
    st.save_document(path=str(tmp_path / "a.txt"), kind="note", sha256="x", size=1, mtime=0.0,
                     status="indexed", reason="", n_pages=1, chunks=chunks)
    try:
        found = st.keyword_search("How much Calpol was given?", 5)
        assert found and st.chunks([found[0][0]])[found[0][0]].text.startswith("Paracetamol")
        assert st.has_any_word(["acetaminophen", "paracetamol"])
        assert not st.has_any_word(["ondansetron"]) and not st.has_any_word([])
    finally:
        st.close()


def test_without_the_dictionary_a_medicine_has_only_its_own_name(monkeypatch) -> None:
    def missing() -> Path:
        raise drugs.DrugNamesMissing("the drug-name dictionary is not installed")

    drugs._tables.cache_clear()
    monkeypatch.setattr(drugs, "data_file", missing)
    try:
        assert drugs.other_names("Calpol") == [] and not drugs.is_drug("Calpol")
    finally:
        monkeypatch.undo()
        drugs._tables.cache_clear()
    assert "paracetamol" in drugs.other_names("Calpol")
