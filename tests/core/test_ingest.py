"""Ingestion: per-file statuses and reasons, pages and labels, encodings, chunk sizes and spans."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from fixtures_pdf import ASTHMA, HYPERTENSION, Corpus

from medsearch_app.core.embedding.base import whitespace_offsets
from medsearch_app.core.library.chunking import chunk_pages
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.library.notes import NoteError, decode_bytes, read_note
from medsearch_app.core.library.pdf import extract_pdf
from medsearch_app.core.retrieval.search import Retriever
from medsearch_app.core.types import FileIndexed, IndexDone, PageText

REPO = Path(__file__).resolve().parents[2]
SCIENCE_PDF = REPO.parent / "shared/evaldata/pdfs/litqa2/10.1126_science.abi9591.pdf"


def _norm(text: str) -> str:
    return " ".join(text.split())


# ---- statuses and reasons ------------------------------------------------------------------
@pytest.mark.slow
def test_good_files_index_and_bad_files_fail_without_stopping_the_run(indexed) -> None:
    docs: Corpus = indexed.docs
    done = indexed.done
    assert not done.cancelled
    assert done.added == len(docs.good)
    assert done.updated == 0 and done.removed == 0 and done.unchanged == 0
    assert {f.path for f in done.failed} == {str(p.resolve()) for p in docs.bad}
    for p in docs.good:
        ev = indexed.file_event(p)
        assert ev.status == "indexed", (p.name, ev.reason)
        assert ev.chunks > 0 and ev.reason == ""
    # The run is a stream: one FileIndexed per supported file, IndexDone last.
    files = [e for e in indexed.events if isinstance(e, FileIndexed)]
    assert len(files) == len(docs.good) + len(docs.bad)
    assert isinstance(indexed.events[-1], IndexDone)
    assert done.chunks == indexed.lib.store.chunk_count()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("encrypted_user", r"password|encrypted"),
        ("corrupt", r"corrupt"),
        ("truncated", r"corrupt"),
        ("image_only", r"no text layer|scanned"),
        ("empty_pdf", r"empty"),
        ("empty_note", r"empty"),
    ],
)
def test_failed_file_has_readable_reason(indexed, name: str, pattern: str) -> None:
    path: Path = getattr(indexed.docs, name)
    ev = indexed.file_event(path)
    assert ev.status == "failed"
    assert re.search(pattern, ev.reason, re.IGNORECASE), ev.reason
    assert "Traceback" not in ev.reason and "\n" not in ev.reason and len(ev.reason) <= 300
    failure = next(f for f in indexed.done.failed if f.path == str(path.resolve()))
    assert failure.reason == ev.reason
    row = indexed.lib.store.document(str(path.resolve()))
    assert row is not None and row.status == "failed" and row.reason == ev.reason
    assert row.n_chunks == 0 and indexed.chunks_of(path) == []


@pytest.mark.slow
def test_password_reason_tells_what_to_do(indexed) -> None:
    reason = indexed.file_event(indexed.docs.encrypted_user).reason
    assert "password" in reason.lower()


@pytest.mark.slow
def test_owner_password_only_pdf_is_readable(indexed) -> None:
    chunks = indexed.chunks_of(indexed.docs.encrypted_owner)
    assert chunks and "calcium gluconate" in chunks[0].text


# ---- pages, labels, text -------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_hit_keeps_its_page_number(indexed, mode: str) -> None:
    res = Retriever(indexed.lib).search("What INR target should warfarin aim for?", k=5,
                                        mode=mode)
    top = res.hits[0]
    assert top.path == str(indexed.docs.multipage.resolve())
    assert top.page == 2 and top.page_label == "2"
    assert "2.0 to 3.0" in top.text


@pytest.mark.slow
def test_pdf_chunks_have_pages_and_notes_have_none(indexed) -> None:
    d = indexed.docs
    pages = {c.page for c in indexed.chunks_of(d.multipage)}
    assert pages == {1, 2, 3}
    for note in (d.cp1252_note, d.md_note):
        assert {c.page for c in indexed.chunks_of(note)} == {None}
    row = indexed.lib.store.document(str(d.multipage.resolve()))
    assert row.n_pages == 3 and row.kind == "pdf"


@pytest.mark.slow
def test_page_labels_are_kept(indexed) -> None:
    labels = {c.page: c.page_label for c in indexed.chunks_of(indexed.docs.page_labels)}
    assert labels == {1: "i", 2: "ii", 3: "1", 4: "2"}


@pytest.mark.slow
def test_cp1252_note_is_decoded(indexed) -> None:
    text = " ".join(c.text for c in indexed.chunks_of(indexed.docs.cp1252_note))
    assert "39.2 °C" in text and "38.0 °C" in text
    assert "Fièvre" in text and "café" in text
    assert "\ufffd" not in text


@pytest.mark.slow
def test_utf8_markdown_note_is_indexed(indexed) -> None:
    text = " ".join(c.text for c in indexed.chunks_of(indexed.docs.md_note))
    assert "# Anaphylaxis" in text and "adrenaline 0.5 mg" in text


@pytest.mark.slow
def test_two_columns_are_read_one_after_the_other(indexed) -> None:
    text = _norm(" ".join(c.text for c in indexed.chunks_of(indexed.docs.two_column)))
    # Each column comes out whole, not interleaved line by line with the other one.
    assert _norm(ASTHMA) in text
    assert _norm(HYPERTENSION) in text


@pytest.mark.slow
def test_table_rows_are_extracted(indexed) -> None:
    text = " ".join(c.text for c in indexed.chunks_of(indexed.docs.table))
    assert "Amoxicillin 500 mg every 8 hours" in text
    assert "Clarithromycin 500 mg every 12 hours halve if eGFR below 30" in text


# ---- chunk sizes and spans -------------------------------------------------------------------
@pytest.mark.slow
def test_chunks_never_exceed_the_embedder_window(indexed, embedder) -> None:
    rows = indexed.lib.store.chunks(indexed.lib.store.chunk_ids())
    assert rows
    for r in rows.values():
        n = len(embedder.token_offsets(r.text))
        # Room for [CLS] and [SEP]: nothing is silently truncated by the embedder.
        assert n <= embedder.max_tokens - 2, (r.path, r.page, n)
    # The long third page needs several chunks; a chunk that ends a sentence is followed by the
    # next sentence, one cut mid-sentence overlaps the next; no text falls between them.
    p3 = [c for c in indexed.chunks_of(indexed.docs.multipage) if c.page == 3]
    assert len(p3) >= 2
    for a, b in itertools.pairwise(p3):
        assert b.start > a.start
        if b.start >= a.end:
            assert a.text.rstrip()[-1] in ".!?" and b.start - a.end <= 3, (a.text[-40:], b.start)


@pytest.mark.slow
def test_stored_chunk_spans_match_the_page_text(indexed) -> None:
    d = indexed.docs
    for pdf in (d.multipage, d.two_column, d.table, d.page_labels):
        pages = {p.page: p.text for p in extract_pdf(pdf).pages}
        chunks = indexed.chunks_of(pdf)
        assert chunks
        for c in chunks:
            assert pages[c.page][c.start:c.end] == c.text
    for note in (d.cp1252_note, d.md_note):
        text = read_note(note).text
        for c in indexed.chunks_of(note):
            assert text[c.start:c.end] == c.text


def _words(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i}." if i % 7 == 6 else f"{tag}{i}" for i in range(n))


def test_chunk_pages_with_whitespace_offsets() -> None:
    pages = [PageText(1, "i", _words(53, "a")), PageText(2, "ii", "   \n "),
             PageText(3, "1", _words(5, "c"))]
    chunks = chunk_pages(pages, doc_id=7, offsets=whitespace_offsets, max_tokens=12, overlap=4)
    by_page = {p.page: p.text for p in pages}
    assert {c.page for c in chunks} == {1, 3}  # the blank page yields nothing
    for c in chunks:
        assert by_page[c.page][c.start:c.end] == c.text
        assert c.doc_id == 7
        assert len(whitespace_offsets(c.text)) <= 12
        assert c.page_label == {1: "i", 3: "1"}[c.page]
    p1 = [c for c in chunks if c.page == 1]
    # Every word of page 1 is in some chunk; consecutive chunks meet at a sentence end, or
    # overlap where the window had no sentence end in its last quarter.
    covered = set()
    for c in p1:
        covered |= {w for w in c.text.split()}
    assert covered == set(by_page[1].split())
    kinds = set()
    for a, b in itertools.pairwise(p1):
        if a.text.endswith("."):
            assert b.start == a.end + 1
            kinds.add("meet")
        else:
            assert a.start < b.start < a.end
            kinds.add("overlap")
    assert kinds == {"meet", "overlap"}
    # A short page is one chunk spanning exactly its text.
    (c3,) = [c for c in chunks if c.page == 3]
    assert c3.text == by_page[3]


def test_chunk_pages_with_a_fake_subword_tokenizer() -> None:
    """Offsets from a tokenizer that splits words into 3-character pieces (like word pieces)."""

    def pieces(text: str) -> list[tuple[int, int]]:
        out = []
        for start, end in whitespace_offsets(text):
            out += [(i, min(i + 3, end)) for i in range(start, end, 3)]
        return out

    text = "Warfarin needs INR monitoring. " * 10 + "Target range is 2.0 to 3.0!"
    chunks = chunk_pages([PageText(4, None, text)], doc_id=1, offsets=pieces, max_tokens=16,
                         overlap=5)
    assert len(chunks) > 3
    words = set(text.split())
    for c in chunks:
        assert text[c.start:c.end] == c.text
        # A window may run a few pieces long to finish a word, never much more.
        assert len(pieces(c.text)) <= 16 + 8
        assert c.page == 4
        # Chunks start and end on word boundaries: no word is cut in two.
        assert set(c.text.split()) <= words, c.text
    assert chunks[-1].end == len(text)
    assert chunks[0].start == 0


def test_chunk_pages_prefers_sentence_ends() -> None:
    text = " ".join(["one two three four five six seven eight nine ten."] * 4)
    chunks = chunk_pages([PageText(1, "1", text)], doc_id=1, offsets=whitespace_offsets,
                         max_tokens=16, overlap=2)
    # The window holds 16 words; the sentence end after word 10 lies outside its last quarter,
    # so the first cut is at 16 words; later windows end on a full stop where one is close.
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert any(c.text.endswith("ten.") for c in chunks[:-1])


def test_chunk_pages_rejects_overlap_not_smaller_than_window() -> None:
    with pytest.raises(ValueError):
        chunk_pages([PageText(1, "1", "a b c")], doc_id=1, offsets=whitespace_offsets,
                    max_tokens=4, overlap=4)


def test_note_decoding_fallbacks(tmp_path: Path) -> None:
    assert decode_bytes("37 °C".encode("cp1252")) == ("37 °C", "cp1252")
    assert decode_bytes("\ufeffcafé".encode()) == ("café", "utf-8-sig")
    assert decode_bytes("café".encode("utf-16")) == ("café", "utf-16")
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(NoteError, match="binary"):
        read_note(binary)
    blank = tmp_path / "blank.md"
    blank.write_text("  \n\t\n", encoding="utf-8")
    with pytest.raises(NoteError, match="empty"):
        read_note(blank)


# ---- the real decompression-limit case -------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not SCIENCE_PDF.exists(),
                    reason=f"shared evaluation PDFs not present ({SCIENCE_PDF})")
def test_page_over_decompression_limit_gives_partial_document(home: Path,
                                                              hash_embedder) -> None:
    # Real tokenizer offsets for chunking, cheap vectors: embedding quality is not under test.
    lib = Library(home, hash_embedder)
    try:
        events = list(lib.index_paths([SCIENCE_PDF]))
        (ev,) = [e for e in events if isinstance(e, FileIndexed)]
        assert ev.status == "partial"
        assert ev.pages > 1
        failures = lib.store.page_failures(str(SCIENCE_PDF.resolve()))
        assert len(failures) >= 1
        bad_pages = {p for p, _ in failures}
        for page, reason in failures:
            assert f"page {page}" in ev.reason
            assert "limit" in reason
        done = events[-1]
        assert isinstance(done, IndexDone) and done.added == 1 and done.failed == []
        rows = lib.store.chunks(lib.store.chunk_ids()).values()
        good_pages = {r.page for r in rows}
        assert good_pages and not (good_pages & bad_pages)
        assert len(good_pages) >= ev.pages - len(bad_pages) - 2  # nearly every other page
        assert len(lib.index) == lib.store.chunk_count()
    finally:
        lib.close()


def test_passages_overlap_only_where_a_sentence_was_cut() -> None:
    """chunk_pages with a word tokenizer (a unit of logic): a window ending at a sentence end is
    followed by one starting with that sentence when it fits in `overlap` words, else right
    after it; a window cut mid-sentence shares `overlap` words with the next; a decimal point
    is not a sentence end; every word lands in some passage."""
    from medsearch_app.core.embedding.base import whitespace_offsets
    from medsearch_app.core.library.chunking import chunk_pages

    prose = " ".join(f"Sentence {i} says the dose is {i}.5 mg daily." for i in range(12))
    run_on = " ".join(f"word{i}" for i in range(60))
    pages = [PageText(1, "1", prose), PageText(2, "2", run_on)]
    chunks = chunk_pages(pages, doc_id=0, offsets=whitespace_offsets, max_tokens=20, overlap=5)
    p1 = [c for c in chunks if c.page == 1]
    p2 = [c for c in chunks if c.page == 2]
    assert len(p1) >= 3 and len(p2) >= 3
    for a, b in itertools.pairwise(p1):
        assert a.text.endswith("mg daily.") and b.start == a.end + 1
    for a, b in itertools.pairwise(p2):
        assert len(set(a.text.split()) & set(b.text.split())) == 5
    for page, mine in ((prose, p1), (run_on, p2)):
        covered = set().union(*(set(c.text.split()) for c in mine))
        assert covered == set(page.split())
    # With room for one 9-word sentence, the next passage repeats the last sentence.
    again = chunk_pages(pages[:1], doc_id=0, offsets=whitespace_offsets, max_tokens=20,
                        overlap=10)
    for a, b in itertools.pairwise(again):
        last = a.text[a.text.rindex("Sentence"):]
        assert b.text.startswith(last) and len(last.split()) == 9
