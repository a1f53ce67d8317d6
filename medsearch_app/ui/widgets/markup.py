"""Markdown markup out of the text a physician reads: quotes, passages and the model's answer.

Notes are often Markdown ("**Patient:**", "## Plan", "- Aspirin 75 mg") and small models answer
in Markdown too ("**Yes**, ..."); shown as text, the markup is noise. markup_spans() finds the
markup characters of a text once; plain() gives any slice of the text without them, so
the answer can still be cut at the sentence offsets that core/answer/verify.py computed on the
raw answer.
Emphasis markers go, so do heading hashes, quote marks, rule lines, code ticks and link
targets (the link text stays); a list bullet becomes "• ". Lone asterisks (footnote marks, "p <
0.05*") and snake_case names are left alone. Plain text, no Qt.
"""

from __future__ import annotations

import re

BULLET = "• "
# Each rule names the groups that are markup: o and c are dropped, b becomes a bullet.
_RULES = [
    re.compile(r"(?m)^[ \t]*(?P<o>([-*_])(?:[ \t]*\2){2,}[ \t]*)$"),  # a rule line: ---
    re.compile(r"(?P<o>\*{2,})"),  # bold markers, even unpaired (a quote may cut a bold phrase)
    re.compile(r"(?<![\w_])(?P<o>__)(?=\S)[^\n]*?(?<=\S)(?P<c>__)(?![\w_])"),
    re.compile(r"(?<![\w*])(?P<o>\*)(?=[^\s*])[^*\n]*?(?<=[^\s*])(?P<c>\*)(?![\w*])"),
    re.compile(r"(?<![\w_])(?P<o>_)(?=[^\s_])[^_\n]*?(?<=[^\s_])(?P<c>_)(?![\w_])"),
    re.compile(r"(?P<o>`+)[^`\n]+?(?P<c>(?P=o))"),
    re.compile(r"(?P<o>!?\[)(?!\d{1,2}\])[^\]\n]+(?P<c>\]\([^)\s]*(?:\s+\"[^\"\n]*\")?\))"),
    re.compile(r"(?m)^[ \t]*(?P<o>#{1,6}[ \t]+)"),
    re.compile(r"(?<=\s)(?P<o>#{2,6}[ \t]+)(?=\S)"),  # a heading inside text joined into one line
    re.compile(r"(?m)^[ \t]*(?P<o>>[ \t]+)"),
    re.compile(r"(?m)^[ \t]*(?P<b>[-*+][ \t]+)(?=\S)"),
]

Span = tuple[int, int, str]  # start, end, replacement


def markup_spans(text: str) -> list[Span]:
    """The markup in `text`: (start, end, replacement) spans, sorted and not overlapping."""
    found: list[Span] = []
    for rule in _RULES:
        for m in rule.finditer(text):
            for name, value in (("o", ""), ("c", ""), ("b", BULLET)):
                if name in rule.groupindex and m.start(name) >= 0 and m.end(name) > m.start(name):
                    found.append((m.start(name), m.end(name), value))
    out: list[Span] = []
    end = 0
    for span in sorted(found, key=lambda f: (f[0], -f[1])):
        if span[0] >= end:  # of spans that overlap, the one that starts first (longest) counts
            out.append(span)
            end = span[1]
    return out


def plain(text: str, spans: list[Span] | None = None, start: int = 0,
          end: int | None = None) -> str:
    """text[start:end] with its markup taken out (`spans`: markup_spans(text), if known)."""
    spans = markup_spans(text) if spans is None else spans
    end = len(text) if end is None else end
    out: list[str] = []
    pos = start
    for s, e, repl in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(text[pos:s])
        out.append(repl)
        pos = e
    out.append(text[pos:end])
    return "".join(out)


def quote(text: str) -> str:
    """One line of a document shown as a quote: markup out, whitespace joined, no bullet."""
    flat = " ".join(plain(text).split())
    return flat[len(BULLET):] if flat.startswith(BULLET) else flat
