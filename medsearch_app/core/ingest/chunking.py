"""Split page text into overlapping windows measured in the embedder's own tokens.

Windows are sized to fit the embedder's max sequence length (all-MiniLM-L6-v2 truncates at 256
word pieces, silently dropping a longer chunk's tail), and each chunk keeps its character span
so a citation can point at the exact passage on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..types import Chunk, PageText

# text -> list of (start, end) character offsets of each token
TokenOffsets = Callable[[str], list[tuple[int, int]]]

SENTENCE_END = ".!?\n"


def chunk_pages(
    pages: Iterable[PageText],
    *,
    doc_id: int,
    offsets: TokenOffsets,
    max_tokens: int = 200,
    overlap: int = 40,
) -> list[Chunk]:
    """Chunk every page separately (a chunk never spans two pages, so its page is exact)."""
    if overlap >= max_tokens:
        raise ValueError("overlap must be smaller than max_tokens")
    out: list[Chunk] = []
    for page in pages:
        text = page.text
        if not text.strip():
            continue
        toks = offsets(text)
        if not toks:
            continue
        i = 0
        while i < len(toks):
            j = min(i + max_tokens, len(toks))
            # End on a sentence boundary when one lies in the last quarter of the window.
            if j < len(toks):
                for k in range(j - 1, i + (3 * max_tokens) // 4, -1):
                    if text[toks[k][1] - 1 : toks[k][1]] in SENTENCE_END:
                        j = k + 1
                        break
            # Never cut a word in two: word pieces of one word touch (no gap between them).
            while j < len(toks) and toks[j][0] == toks[j - 1][1] and j - i < max_tokens + 8:
                j += 1
            start, end = toks[i][0], toks[j - 1][1]
            piece = text[start:end]
            if piece.strip():
                out.append(
                    Chunk(doc_id=doc_id, page=page.page, page_label=page.label,
                          start=start, end=end, text=piece)
                )
            if j >= len(toks):
                break
            nxt = max(j - overlap, i + 1)
            while nxt > i + 1 and toks[nxt][0] == toks[nxt - 1][1]:
                nxt -= 1
            i = nxt
    return out


def whitespace_offsets(text: str) -> list[tuple[int, int]]:
    """A tokenizer-free fallback: one token per whitespace-separated word."""
    import re

    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
