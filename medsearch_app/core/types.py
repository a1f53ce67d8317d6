"""Small immutable value types shared by the core, the CLI and the UI (events from generators)."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class DocStatus(enum.StrEnum):
    """State of a document in the library (the `documents.status` column, FileIndexed.status).

    UNCHANGED is only reported by FileIndexed (a file skipped because its content is the same);
    it is never stored."""

    PENDING = "pending"
    INDEXED = "indexed"
    PARTIAL = "partial"
    FAILED = "failed"
    UNCHANGED = "unchanged"


class Stage(enum.StrEnum):
    """What an indexing run is doing (Progress.stage)."""

    READING = "reading"  # extracting a file's text
    EMBEDDING = "embedding"  # embedding passages of files read in this run
    RESUMING = "resuming"  # embedding passages left from an earlier, interrupted run
    WAITING = "waiting"  # another process is writing this library: waiting for its turn


class CitationMode(enum.StrEnum):
    """Where an answer's [n] citations come from (AnswerDone.citation_mode)."""

    MODEL = "model"  # the model cited every sentence itself
    ATTRIBUTED = "attributed"  # no citation by the model: all added by word overlap
    MIXED = "mixed"  # some by the model, the rest added by word overlap
    NONE = "none"  # no usable answer (the model stopped without content)


def printed_label(page: int | None, page_label: str | None) -> str:
    """' (printed X)' when a page's printed label differs from its physical number, else ''."""
    if page is None or not page_label or page_label == str(page):
        return ""
    return f" (printed {page_label})"


def page_ref(page: int | None, page_label: str | None = None) -> str:
    """The page part of a source reference: ', page 3 (printed iii)'; '' for notes (no page).

    The one rule for showing a page to a reader (CLI, answer pane, viewer, exports)."""
    if not page:
        return ""
    return f", page {page}{printed_label(page, page_label)}"


@dataclass(frozen=True)
class PageText:
    """Text of one physical page (1-based) of a document; notes have page None."""

    page: int | None
    label: str | None
    text: str


@dataclass(frozen=True)
class Chunk:
    """A passage to embed: where it comes from and its character span in the page text."""

    doc_id: int
    page: int | None
    page_label: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """One retrieved passage."""

    rank: int
    chunk_id: int
    path: str
    page: int | None
    page_label: str | None
    score: float
    text: str
    dense_score: float | None = None
    keyword_score: float | None = None
    start: int = 0  # character span of the passage in its page's text
    end: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Failure:
    """A file (or one page of it) that could not be indexed, with a reason a physician reads."""

    path: str
    reason: str
    page: int | None = None


# ---- events yielded by long-running generators -------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Progress of a long job: `done` of `total` units (files or chunks), with a message."""

    stage: Stage
    done: int
    total: int
    message: str = ""
    chunks_done: int = 0
    chunks_total: int = 0


@dataclass(frozen=True)
class FileIndexed:
    """A file finished indexing (status indexed, failed, partial or unchanged)."""

    path: str
    status: DocStatus
    pages: int = 0
    chunks: int = 0
    reason: str = ""


@dataclass(frozen=True)
class IndexDone:
    """Summary of one indexing run."""

    added: int
    updated: int
    removed: int
    unchanged: int
    failed: list[Failure]
    chunks: int
    seconds: float
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [asdict(f) for f in self.failed]
        return d


@dataclass(frozen=True)
class Evidence:
    """A sentence quoted verbatim from source [n]; start/end: its span in the page's text."""

    n: int
    text: str
    path: str
    page: int | None
    page_label: str | None
    chunk_id: int
    start: int
    end: int
    score: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Verdict(enum.StrEnum):
    """What the check of one answer sentence against its cited sources found."""

    SUPPORTED = "supported"
    NOT_FOUND = "not found in the cited source"
    UNCITED = "cites no source"
    NO_CLAIM = "no claim to check"


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of an answer: its span in the answer, the sources it cites, the verdict."""

    text: str
    start: int
    end: int
    cites: list[int]
    verdict: Verdict
    reason: str = ""

    @property
    def supported(self) -> bool | None:
        return None if self.verdict is Verdict.NO_CLAIM else self.verdict is Verdict.SUPPORTED

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "cites": self.cites, "supported": self.supported,
                "reason": self.reason}


@dataclass(frozen=True)
class Retrieved:
    """Retrieval finished: the retrieved passages numbered as the model's sources are (those it
    reads first, best first: rag.arrange; AnswerDone.sources says how many it read), and the
    sentences quoted from them as evidence (empty when the question is not supported)."""

    hits: list[Hit]
    retrieval_ms: float
    supported: bool
    reason: str = ""
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class Token:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True)
class Citation:
    """Source [n] of an answer, pointing at a file and page."""

    n: int
    path: str
    page: int | None
    page_label: str | None
    snippet: str
    chunk_id: int
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Timings:
    """Where an answer's time went."""

    retrieval_ms: float
    ttft_ms: float | None
    prompt_tokens: int
    prompt_tokens_per_s: float | None
    completion_tokens: int
    tokens_per_s: float | None
    total_ms: float


@dataclass(frozen=True)
class MemorySample:
    """Memory and CPU of this process and the machine at one moment (VRAM None: no GPU)."""

    rss_mb: float
    peak_rss_mb: float
    sys_used_mb: float
    sys_total_mb: float
    cpu_percent: float
    vram: list[tuple[str, float, float]] | None = None  # (gpu name, used MiB, total MiB)

    @property
    def vram_mb(self) -> float | None:
        if not self.vram:
            return None
        return sum(used for _, used, _ in self.vram)


@dataclass(frozen=True)
class AnswerDone:
    """The answer is complete (or was stopped / unsupported)."""

    answer: str
    citations: list[Citation]
    supported: bool
    timings: Timings
    model_file: str
    quant: str
    embedder: str
    precision: str
    memory: MemorySample | None = None
    stopped: bool = False
    citation_mode: CitationMode = CitationMode.MODEL
    sources: list[Hit] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    warning: str = ""

    def to_json(self) -> dict[str, Any]:
        mem = self.memory
        return {
            "answer": self.answer,
            "citations": [
                {"n": c.n, "path": c.path, "page": c.page, "page_label": c.page_label,
                 "snippet": c.snippet, "chunk_id": c.chunk_id}
                for c in self.citations
            ],
            "supported": self.supported,
            "stopped": self.stopped,
            "citation_mode": str(self.citation_mode),
            "warning": self.warning,
            "evidence": [e.to_json() for e in self.evidence],
            "sentences": [c.to_json() for c in self.sentences],
            "timings": asdict(self.timings),
            "model": {"file": self.model_file, "quant": self.quant},
            "embedder": {"name": self.embedder, "precision": self.precision},
            "memory": {
                "rss_mb": round(mem.rss_mb, 1) if mem else None,
                "peak_rss_mb": round(mem.peak_rss_mb, 1) if mem else None,
                "vram_mb": (round(mem.vram_mb, 1) if mem and mem.vram_mb is not None else None),
            },
        }
