"""Bounded fuzzing (hypothesis) of what reads untrusted bytes: the GGUF header reader, note
decoding, chunking, and PDF extraction. Each must answer with a result or its own readable
error for any input, never hang (the PDF reader has its own time limit, given here; a hang
anywhere else is ended by pytest-timeout). How fast they are is measured in bench/, not here.

CI runs the "ci" profile (derandomized, so a run is reproducible); `HYPOTHESIS_PROFILE=long`
runs 25x more cases (the figure in the README's Reliability section).
"""

from __future__ import annotations

import io
import itertools
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsearch_app.core.embedding.base import whitespace_offsets
from medsearch_app.core.library.chunking import chunk_pages
from medsearch_app.core.library.notes import NoteError, decode_bytes, read_note
from medsearch_app.core.library.pdf import PdfResult, extract_pdf
from medsearch_app.core.llm.gguf import GgufError, GgufInfo, read_gguf
from medsearch_app.core.types import PageText

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
_names = itertools.count()


# ---- GGUF headers ---------------------------------------------------------------------------
def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_header() -> bytes:
    """A small, valid GGUF v3 header: scalars, strings, arrays and two tensors."""
    kv = [
        (_s("general.architecture"), 8, _s("llama")),
        (_s("general.name"), 8, _s("fuzz")),
        (_s("llama.context_length"), 4, struct.pack("<I", 2048)),
        (_s("llama.embedding_length"), 4, struct.pack("<I", 64)),
        (_s("general.file_type"), 4, struct.pack("<I", 2)),
        (_s("tokenizer.ggml.tokens"), 9,
         struct.pack("<IQ", 8, 3) + _s("a") + _s("b") + _s("c")),
        (_s("tokenizer.ggml.scores"), 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0, 1, 2)),
        (_s("llama.rope.freq_base"), 6, struct.pack("<f", 10000.0)),
    ]
    out = b"GGUF" + struct.pack("<IQQ", 3, 2, len(kv))
    for key, vtype, value in kv:
        out += key + struct.pack("<I", vtype) + value
    for name, dims in (("token_embd.weight", (64, 16)), ("output.weight", (64,))):
        out += _s(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 2, 0)
    return out + b"\0" * (-len(out) % 32) + b"\1" * 64  # aligned tensor data follows


def test_the_seed_header_reads() -> None:
    path = Path(os.environ["MEDSEARCH_HOME"]) / "seed.gguf"
    path.write_bytes(gguf_header())
    info = read_gguf(path)
    assert info.arch == "llama" and info.name == "fuzz" and info.n_params == 64 * 16 + 64


def _read_bytes(data: bytes, folder: Path) -> GgufInfo | None:
    path = folder / f"f{next(_names)}.gguf"  # a new name each time: read_gguf caches per file
    path.write_bytes(data)
    try:
        return read_gguf(path)
    except GgufError as exc:
        assert str(exc)  # a readable reason
        return None
    finally:
        path.unlink()


@given(edits=st.lists(st.tuples(st.integers(0, 500), st.binary(min_size=1, max_size=8)),
                      max_size=6),
       cut=st.integers(0, 520))
def test_a_damaged_gguf_header_is_refused_with_a_reason(tmp_path: Path,
                                                        edits: list[tuple[int, bytes]],
                                                        cut: int) -> None:
    data = bytearray(gguf_header())
    for pos, chunk in edits:
        data[pos:pos + len(chunk)] = chunk
    _read_bytes(bytes(data[:cut] if cut < len(data) else data), tmp_path)


@given(counts=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
       lengths=st.integers(0, 2**64 - 1), tail=st.binary(max_size=64))
def test_absurd_counts_and_lengths_are_refused_quickly(tmp_path: Path,
                                                       counts: tuple[int, int], lengths: int,
                                                       tail: bytes) -> None:
    n_tensors, n_kv = counts
    data = b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv) + struct.pack("<Q", lengths) + tail
    _read_bytes(data, tmp_path)


def test_deeply_nested_arrays_are_refused(tmp_path: Path) -> None:
    nest = struct.pack("<IQ", 9, 1) * 100_000  # an array of an array of ... 100,000 deep
    data = (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _s("x") + struct.pack("<I", 9) + nest
            + struct.pack("<IQ", 4, 0))
    path = tmp_path / "nested.gguf"
    path.write_bytes(data)
    with pytest.raises(GgufError, match="nested"):
        read_gguf(path)


# ---- notes and chunking ----------------------------------------------------------------------
@given(st.binary(max_size=4096))
def test_any_bytes_decode_to_text(data: bytes) -> None:
    text, encoding = decode_bytes(data)
    assert isinstance(text, str) and encoding


@given(st.binary(max_size=2048))
def test_any_note_file_is_read_or_refused_with_a_reason(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / f"n{next(_names)} é.txt"
    path.write_bytes(data)
    try:
        page = read_note(path)
        assert page.text.strip()
    except NoteError as exc:
        assert str(exc)


@given(pages=st.lists(st.text(max_size=3000), min_size=1, max_size=4),
       window=st.integers(2, 60), overlap_share=st.floats(0, 0.9))
def test_chunks_cover_every_word_and_point_at_their_text(pages: list[str], window: int,
                                                        overlap_share: float) -> None:
    overlap = min(window - 1, int(window * overlap_share))
    texts = [PageText(page=i + 1, label=None, text=t) for i, t in enumerate(pages)]
    chunks = chunk_pages(texts, doc_id=1, offsets=whitespace_offsets, max_tokens=window,
                         overlap=overlap)
    for c in chunks:
        page = pages[(c.page or 1) - 1]
        assert 0 <= c.start < c.end <= len(page) and c.text == page[c.start:c.end]
        assert c.text.strip()
    for i, page in enumerate(pages):
        covered = [(c.start, c.end) for c in chunks if c.page == i + 1]
        for a, b in whitespace_offsets(page):
            assert any(s <= a and b <= e for s, e in covered), (page[a:b], covered)


# ---- PDFs ------------------------------------------------------------------------------------
def _small_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Warfarin: hold two doses and recheck the INR in three days.")
    buf = io.BytesIO()
    pdf.output(buf)
    return buf.getvalue()


SEED_PDF = _small_pdf()


@settings(max_examples=500 if LONG else 20)
@given(edits=st.lists(st.tuples(st.integers(0, len(SEED_PDF) - 1),
                                st.binary(min_size=1, max_size=16)), max_size=8),
       cut=st.integers(0, len(SEED_PDF)))
def test_a_damaged_pdf_gives_pages_or_a_reason(tmp_path: Path, edits: list[tuple[int, bytes]],
                                               cut: int) -> None:
    data = bytearray(SEED_PDF)
    for pos, chunk in edits:
        data[pos:pos + len(chunk)] = chunk
    path = tmp_path / f"p{next(_names)}.pdf"
    path.write_bytes(bytes(data[:cut]))
    res = extract_pdf(path, timeout_s=20)
    assert isinstance(res, PdfResult)
    assert res.pages or res.error or res.page_errors


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7", b"%PDF-1.4\n" + b"0" * 5000,
                                  b"GGUF" + b"\xff" * 100])
def test_edge_cases_of_the_pdf_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "edge.pdf"
    path.write_bytes(data)
    res = extract_pdf(path, timeout_s=20)
    assert not res.pages and res.error
