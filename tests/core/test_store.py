"""Keyword side of the store: BM25 search and the missing-term check behind "not supported"."""

from __future__ import annotations

from pathlib import Path

from medsearch_app.core.library.store import Store
from medsearch_app.core.text.query_words import query_terms
from medsearch_app.core.types import Chunk


def _store(tmp_path: Path, texts: list[str]) -> Store:
    st = Store(tmp_path / "lib.sqlite3")
    chunks = [Chunk(doc_id=0, page=1, page_label="1", start=0, end=len(t), text=t) for t in texts]
    st.save_document(path=str(tmp_path / "a.txt"), kind="note", sha256="x", size=1, mtime=0.0,
                     status="indexed", reason="", n_pages=1, chunks=chunks)
    return st


def test_missing_terms_tolerate_spelling_variants(tmp_path: Path) -> None:
    st = _store(tmp_path, ["The international normalized ratio guides warfarin dosing.",
                           "Transient tachypnoea of the newborn resolves within 72 hours.",
                           "Oligometastatic prostate cancer was treated with radiotherapy."])
    try:
        counts = st.term_chunk_counts(["normalised", "tachypnea", "oligometastases",
                                       "natalizumab", "paracetamol", "warfarin"])
        assert counts["normalised"] == 1 and counts["tachypnea"] == 1
        assert counts["oligometastases"] == 1 and counts["warfarin"] == 1
        assert counts["natalizumab"] == 0 and counts["paracetamol"] == 0
    finally:
        st.close()


def test_keyword_search_ranks_the_matching_chunk_first(tmp_path: Path) -> None:
    st = _store(tmp_path, ["Apixaban 2.5 mg twice daily when two dose-reduction criteria apply.",
                           "Amoxicillin 500 mg three times daily for five days."])
    try:
        hits = st.keyword_search("What apixaban dose?", 5)
        rows = st.chunks([hits[0][0]])
        assert "Apixaban" in rows[hits[0][0]].text and hits[0][1] > 0
        assert st.keyword_search("the and of", 5) == []  # stopwords only: no query at all
    finally:
        st.close()


def test_query_terms_drop_stopwords_and_split_double_hyphens() -> None:
    assert query_terms("Is the Lloyd-Davies position with Trendelenburg--a disaster?") == [
        "lloyd-davies", "position", "trendelenburg", "disaster"]


def test_terms_in_half_the_library_are_left_out_of_the_ranking(tmp_path: Path) -> None:
    """In a large library a word in every other passage weighs nothing in BM25 (FTS5 clamps its
    IDF) but made SQLite score every passage: it is left out, and the ranking of the passages
    the informative words find is the same as without it."""
    import random

    from medsearch_app.core.library import keyword_query

    rnd = random.Random(1)
    filler = ["review", "clinic", "weight", "sleep", "mood", "diet", "knee", "hip", "iron"]
    texts = []
    for i in range(keyword_query.SMALL_LIBRARY + 500):
        words = [rnd.choice(filler) for _ in range(12)] + ["dose"]  # "dose" in every passage
        if i % 97 == 0:
            words += ["apixaban"] * (1 + i % 3)
        texts.append(" ".join(words))
    st = _store(tmp_path, texts)
    try:
        with_common = st.keyword_search("apixaban dose", 20)
        alone = st.keyword_search("apixaban", 20)
        assert [c for c, _ in with_common] == [c for c, _ in alone]
        assert with_common[0][1] > 0
        rows = st.chunks([c for c, _ in with_common])
        assert all("apixaban" in rows[c].text for c, _ in with_common)
        assert st.keyword_search("dose", 20) == []  # nothing left that can rank
    finally:
        st.close()


def test_small_libraries_keep_every_term(tmp_path: Path) -> None:
    st = _store(tmp_path, ["dose of apixaban", "dose of warfarin", "dose of heparin"])
    try:
        assert len(st.keyword_search("dose", 5)) == 3
    finally:
        st.close()


def test_a_lay_word_finds_the_chunk_that_uses_its_clinical_name(tmp_path: Path) -> None:
    """"How is her hypertension today?" finds "BP today 148/88" though the note never writes
    "hypertension" there; "sugar control" finds "Glycaemic control" (core/text/lay_terms.py)."""
    st = _store(tmp_path, ["BP today 148/88, home readings average 142/86.",
                           "Seen today.",  # shorter: BM25 ranks it first on "today" alone
                           "Glycaemic control has worsened over the last six months.",
                           "Pain control good.",
                           "Knee flexion to 85 degrees."])
    try:
        found = st.keyword_search("How is her hypertension today?", 5)
        assert found and st.chunks([found[0][0]])[found[0][0]].text.startswith("BP today")
        sugar = st.keyword_search("How is the sugar control?", 5)
        assert sugar and st.chunks([sugar[0][0]])[sugar[0][0]].text.startswith("Glycaemic")
        # a word without clinical names finds only itself
        knee = st.keyword_search("knee", 5)
        assert [st.chunks([c])[c].text for c, _ in knee] == ["Knee flexion to 85 degrees."]
    finally:
        st.close()


def test_a_drug_class_the_library_names_is_not_searched_by_its_members(tmp_path: Path) -> None:
    """"antibiotic" is in the library: a table of three antibiotics must not outrank the note
    the question is about because its drug names would each count as "antibiotic"."""
    st = _store(tmp_path, ["Antibiotic table: amoxicillin, doxycycline and clarithromycin.",
                           "Febrile neutropenia: start piperacillin-tazobactam, an antibiotic, "
                           "within one hour when the temperature is above 38.0 C."])
    try:
        found = st.keyword_search("Which antibiotic for febrile neutropenia?", 5)
        assert st.chunks([found[0][0]])[found[0][0]].text.startswith("Febrile neutropenia")
    finally:
        st.close()


def test_a_drug_class_word_is_read_as_written_not_as_its_stem(tmp_path: Path) -> None:
    """The index stems "preventer" and "prevention" alike: a library that speaks of the
    prevention of falls does not name the class, so "preventer" still finds its members."""
    st = _store(tmp_path, ["Prevention of falls: review at home.",
                           "Beclometasone 100 micrograms inhaler, 2 puffs BD."])
    try:
        found = st.keyword_search("Which preventer is she on?", 5)
        texts = [t.text for t in st.chunks([c for c, _ in found]).values()]
        assert any(t.startswith("Beclometasone") for t in texts), texts
    finally:
        st.close()
