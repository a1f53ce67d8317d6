"""Plain-text and Markdown notes: decode with UTF-8 first, then sensible fallbacks."""

from __future__ import annotations

from pathlib import Path

from ..errors import MedSearchError
from ..types import PageText

NOTE_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
MAX_NOTE_MB = 50


class NoteError(MedSearchError):
    """A note that cannot be indexed; the message is the reason shown to the user."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 (with or without BOM), UTF-16 by BOM, then cp1252/latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def read_note(path: Path, *, max_mb: int = MAX_NOTE_MB) -> PageText:
    """Read a note as one page (page None). Raises NoteError with a readable reason."""
    try:
        size = path.stat().st_size
        if size > max_mb * 1_000_000:
            raise NoteError(f"too large ({size / 1e6:.0f} MB; the limit is {max_mb} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise NoteError(f"cannot be opened ({exc.strerror})") from exc
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NoteError("not a text file (binary content)")
    text, _ = decode_bytes(data)
    if not text.strip():
        raise NoteError("empty file (no text)")
    return PageText(page=None, label=None, text=text)
