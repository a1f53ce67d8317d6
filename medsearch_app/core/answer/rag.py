"""Cited answers: retrieve, prompt the model with numbered sources, stream, attach citations.

answer() is a generator of typed events: Retrieved (with the evidence sentences quoted from the
passages, evidence.py), Token..., AnswerDone (with every sentence checked against the sources it
cites, verify.py). The prompt asks the
model to cite sources as [n]. Small models often forget to; every sentence that ends without a
citation is then attributed to the source it overlaps most (word overlap), and the answer says so
(`citation_mode`: CitationMode MODEL, ATTRIBUTED or MIXED; NONE when the model gave nothing
usable). When retrieval judges the question not supported by the library, the model is not asked
at all.

The prompt fits the question: only a yes/no question (asks_yes_no, a rule on the question's
English form, no model involved) gets "begin with Yes, No or Maybe"; told that for every
question, the 1.5B model began "What apixaban dose was chosen ...?" with "Yes, the ...". The
instruction sits in the closing line of the user message, not in the system prompt, so the
system prompt stays one text for every question: the prefix of the rendered prompt that
consecutive questions share (and whose KV cache llama.cpp keeps) does not change with it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..llm.runtime import GenStats, LlmRuntime
from ..retrieval.search import Mode, Retriever
from ..system import metrics
from ..text.query_words import query_terms
from ..text.question_form import asks_yes_no
from ..text.sentences import SENTENCE
from ..types import AnswerDone, Citation, CitationMode, Hit, Retrieved, Timings, Token
from . import evidence
from .verify import CITE, SOURCE_TALK, check_answer, summary_warning

# "If the sources do not contain the answer, say so", not "reply exactly: ...": with that
# sentence the 1.5B answer model refused "What should be done about the high INR?" from the
# warfarin note that answers it (greedy, AVX2 EPYC); questions about what the library never
# mentions are refused before the model is asked (core/retrieval/support.py).
SYSTEM_PROMPT = (
    "You are a careful clinical assistant. Answer the question using only the numbered "
    "sources. End each sentence with the number of its source in brackets, for example [2]. "
    "If the sources do not contain the answer, say so."
)
NOT_SUPPORTED = "Your documents do not support an answer to this question"
REFUSAL = re.compile(r"sources do not (answer|contain)|not (mentioned|found) in the sources",
                     re.IGNORECASE)
SOURCE_CHARS = 1200
AUTO = -1
# The wait for the first word of an answer that AUTO aims at (issue: at most 8 s on a 2-core
# CPU), and the excerpt sizes it tries, longest first.
FIRST_WORD_S = 8.0
EXCERPT_SIZES = (900, 700, 550, 450, 350, 280)
# evidence.focus's share for the app: on the project's small library (29 answerable questions
# the gate accepts, onnx-int8) the gold note's best sentence scored at least 0.81 of the best
# sentence of any source, and the share kept 2.7 of 5 sources on average.
FOCUS = 0.7
EMPTY_ANSWER = ("(The model gave no usable answer. The passages below are the most relevant in "
                "your documents; a larger model in the models folder answers better.)")


@dataclass
class AskOptions:
    k: int = 5
    mode: Mode = Mode.HYBRID
    max_tokens: int = 256
    temperature: float = 0.1
    # Characters of each source the model reads: 0 = the whole passage (up to SOURCE_CHARS);
    # N = its best sentences and their neighbours, about N characters (evidence.excerpts);
    # AUTO = whole passages when this model reads them within FIRST_WORD_S, else the longest
    # excerpts that it does (fit_time). Prompt reading is most of the wait for the first word.
    source_chars: int = 0
    # Sources whose best sentence scores below this share of the best one are not given to the
    # model (evidence.focus); 0 gives it all k. See FOCUS.
    focus: float = 0.0


def source_label(hit: Hit) -> str:
    name = Path(hit.path).name
    if hit.page is None:
        return name
    label = f", printed page {hit.page_label}" if hit.page_label and hit.page_label != str(
        hit.page) else ""
    return f"{name}, page {hit.page}{label}"


def build_messages(question: str, hits: list[Hit],
                   texts: list[str] | None = None) -> list[dict[str, str]]:
    """The chat messages; `texts`: what to show of each hit (default: its passage)."""
    shown = texts or [_clean(h.text)[:SOURCE_CHARS] for h in hits]
    parts = [f"[{i}] ({source_label(h)})\n{t}"
             for i, (h, t) in enumerate(zip(hits, shown, strict=True), 1)]
    # The question comes first and is restated last: small models otherwise drift after a long
    # block of sources (seen with the 135M default as empty "The answer is:" replies).
    user = (f"Question: {question}\n\nSources:\n\n" + "\n\n".join(parts)
            + f"\n\n{answer_instruction(question)}")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def answer_instruction(question: str) -> str:
    """The prompt's closing line; "begin with Yes, No or Maybe" only for a yes/no question."""
    if asks_yes_no(question):
        return (f'Answer the question "{question}": begin with Yes, No or Maybe, then explain in '
                "two or three sentences, using only the sources above and citing them like [1].")
    # "give the answer the sources state": without it (and without the yes/no sentence) the
    # 1.5B model refused questions its sources answer ("Which apixaban dose did the AF patient
    # get?"); "start with the answer itself" made it invent an answer the sources lack.
    # "Write nothing about the sources themselves": without it the 1.5B model added "This is
    # stated in the sources [3] and [4]." to half its answers, a sentence the check cannot
    # support.
    return (f'Answer the question "{question}": give the answer the sources above state, in one '
            "to three sentences, citing them like [1]. Write nothing about the sources "
            "themselves.")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fit_sources(llm: LlmRuntime, question: str, hits: list[Hit], max_tokens: int,
                texts: list[str] | None = None) -> list[Hit]:
    """Drop the lowest-ranked sources until the prompt leaves room for the answer."""
    keep = list(hits)
    while keep:
        shown = texts[:len(keep)] if texts else None
        prompt = llm.render(build_messages(question, keep, shown))
        if llm.count_tokens(prompt) + max_tokens < llm.n_ctx:
            return keep
        keep.pop()
    return keep


def fit_time(llm: LlmRuntime, question: str, hits: list[Hit],
             units: list[evidence.Unit]) -> list[str] | None:
    """What AUTO shows the model of each source: None (whole passages) when the model reads
    that prompt within FIRST_WORD_S at its measured speed (LlmRuntime.reading_speed), else the
    longest EXCERPT_SIZES excerpts that fit (the shortest when none does).

    The 1.5B answer model reads about 55 tokens/s on two AVX2 cores, so five whole passages
    (about 1,100 tokens) kept a physician waiting 20 s; the 135M model reads about 1,000
    tokens/s and keeps whole passages; a GPU reads whole passages of any model in time."""
    budget = llm.reading_speed() * FIRST_WORD_S

    def tokens(texts: list[str] | None) -> int:
        return llm.count_tokens(llm.render(build_messages(question, hits, texts)))

    if not hits or tokens(None) <= budget:
        return None
    texts: list[str] = []
    for chars in EXCERPT_SIZES:
        texts = evidence.excerpts(units, hits, chars)
        if tokens(texts) <= budget:
            break
    return texts


@dataclass(frozen=True)
class AnswerSource:
    """What an answer comes from: the model file and its level, the embedder and precision."""

    model_file: str
    quant: str
    embedder: str
    precision: str


def attribute(answer: str, hits: list[Hit]) -> tuple[str, CitationMode]:
    """Give every uncited sentence the [n] of its best-overlapping source (>= 2 shared words)."""
    if not hits:
        return answer, CitationMode.MODEL
    src_terms = [set(query_terms(h.text)) for h in hits]
    out: list[str] = []
    added = had = 0
    last = 0
    for m in SENTENCE.finditer(answer):
        sent = m.group(0)
        out.append(answer[last:m.start()])
        last = m.end()
        if CITE.search(sent):
            had += 1
            out.append(sent)
            continue
        words = set(query_terms(sent))
        if len(words) < 2:
            out.append(sent)
            continue
        overlaps = [len(words & t) for t in src_terms]
        best = max(range(len(hits)), key=lambda i: overlaps[i])
        if overlaps[best] >= 2:
            stripped = sent.rstrip()
            out.append(f"{stripped} [{best + 1}]" + sent[len(stripped):])
            added += 1
        else:
            out.append(sent)
    out.append(answer[last:])
    if added == 0:
        mode = CitationMode.MODEL
    else:
        mode = CitationMode.ATTRIBUTED if had == 0 else CitationMode.MIXED
    return "".join(out), mode


def drop_source_talk(answer: str) -> str:
    """The answer without sentences that only point at the sources (they keep no fact)."""
    out: list[str] = []
    last = 0
    for m in SENTENCE.finditer(answer):
        sent = m.group(0)
        words = query_terms(CITE.sub(" ", sent))
        negated = re.search(r"\b(?:not|no|never|cannot|can't|doesn't|don't)\b", sent, re.I)
        talk = not negated and bool(words) and all(w in SOURCE_TALK for w in words) and (
            "source" in sent.lower() or CITE.search(sent) is not None)
        out.append(answer[last:m.start()])
        if not talk:
            out.append(sent)
        last = m.end()
    out.append(answer[last:])
    kept = "".join(out).strip()
    return re.sub(r"[ \t]{2,}", " ", kept) if kept else answer


def citations_for(answer: str, hits: list[Hit]) -> list[Citation]:
    seen: dict[int, None] = {}
    for m in CITE.finditer(answer):
        n = int(m.group(1))
        if 1 <= n <= len(hits):
            seen.setdefault(n, None)
    out = []
    for n in sorted(seen):
        h = hits[n - 1]
        out.append(Citation(n=n, path=h.path, page=h.page, page_label=h.page_label,
                            snippet=_clean(h.text)[:300], chunk_id=h.chunk_id))
    return out


def arrange(units: list[evidence.Unit], found: list[Hit],
            fraction: float) -> tuple[list[Hit], list[evidence.Unit], int]:
    """The retrieved hits in the order the model reads them: the focused sources first, best
    first (evidence.focus), then the rest; the units renumbered to match; and how many the model
    reads. One numbering for the window's source list, the quoted evidence and the answer's
    [n]."""
    order = (evidence.focus(units, found, fraction) if fraction > 0
             else list(range(1, len(found) + 1)))
    full = order + [n for n in range(1, len(found) + 1) if n not in order]
    return [found[n - 1] for n in full], evidence.renumber(units, full), len(order)


def model_prompt(question: str, shown: list[Hit], units: list[evidence.Unit], llm: LlmRuntime,
                 options: AskOptions) -> tuple[list[Hit], str]:
    """The sources the model reads (numbered as in its prompt) and the rendered prompt: `shown`
    (arrange()'s first ones) cut to the setting's source text (whole, excerpts, AUTO:
    fit_time) and fitted to the context (fit_sources)."""
    mine = [u for u in units if u.n <= len(shown)]
    if options.source_chars == AUTO:
        texts = fit_time(llm, question, shown, mine)
    else:
        texts = (evidence.excerpts(mine, shown, options.source_chars)
                 if options.source_chars > 0 else None)
    hits = fit_sources(llm, question, shown, options.max_tokens, texts)
    return hits, llm.render(build_messages(question, hits, texts[:len(hits)] if texts else None))


def answer(question: str, *, retriever: Retriever, llm: LlmRuntime, options: AskOptions,
           cancel: threading.Event | None = None) -> Iterator[Retrieved | Token | AnswerDone]:
    """Answer a question from the library with citations; yields events as they happen."""
    cancel = cancel or threading.Event()
    t0 = time.perf_counter()
    cpu = metrics.CpuMeter()  # the CPU this answer used, not shared with the window's gauges
    res = retriever.search(question, k=options.k, mode=options.mode)
    emb = retriever.library.embedder
    units = evidence.score_units(question, res.hits, emb) if res.supported else []
    found, units, n_read = arrange(units, res.hits, options.focus)
    quoted = evidence.pick(units, found)
    yield Retrieved(found, res.elapsed_ms, res.supported, res.reason, quoted)
    src = AnswerSource(model_file=llm.path.name, quant=llm.quant, embedder=emb.name,
                       precision=emb.precision.value)
    if not res.supported:
        text = f"{NOT_SUPPORTED}: {res.reason}."
        yield AnswerDone(
            answer=text, citations=[], supported=False,
            timings=Timings(res.elapsed_ms, None, 0, None, 0, None,
                            round((time.perf_counter() - t0) * 1000, 2)),
            memory=metrics.sample(cpu), sources=res.hits, model_file=src.model_file,
            quant=src.quant, embedder=src.embedder, precision=src.precision,
        )
        return
    hits, prompt = model_prompt(question, found[:n_read], units, llm, options)
    stats: list[GenStats] = []
    pieces: list[str] = []
    for piece in llm.stream(prompt, max_tokens=options.max_tokens,
                            temperature=options.temperature, cancel=cancel, stats_out=stats):
        pieces.append(piece)
        yield Token(piece)
    raw = drop_source_talk("".join(pieces).strip())
    st = stats[0] if stats else None
    refused = bool(REFUSAL.search(raw)) and len(raw) < 200
    final, mode = (raw, CitationMode.MODEL) if refused else attribute(raw, hits)
    stopped = bool(st and st.stopped)
    if not refused and not stopped and len(query_terms(raw)) < 2:
        # Small models sometimes stop after "The answer is:"; say so instead of showing nothing.
        final = (raw + "\n\n" if raw else "") + EMPTY_ANSWER
        mode = CitationMode.NONE
    cits = [] if refused else citations_for(final, hits)
    checks = [] if refused else check_answer(final, hits, question)
    yield AnswerDone(
        answer=final, citations=cits, supported=not refused and bool(raw),
        timings=Timings(
            retrieval_ms=res.elapsed_ms, ttft_ms=st.ttft_ms if st else None,
            prompt_tokens=st.prompt_tokens if st else 0,
            prompt_tokens_per_s=st.prompt_tokens_per_s if st else None,
            completion_tokens=st.completion_tokens if st else 0,
            tokens_per_s=st.tokens_per_s if st else None,
            total_ms=round((time.perf_counter() - t0) * 1000, 2)),
        memory=metrics.sample(cpu), stopped=stopped, citation_mode=mode,
        sources=hits, evidence=quoted, sentences=checks, warning=summary_warning(checks),
        model_file=src.model_file, quant=src.quant, embedder=src.embedder,
        precision=src.precision,
    )
