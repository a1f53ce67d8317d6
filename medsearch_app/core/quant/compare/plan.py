"""What to compare: the level files, the questions and how each is asked (ComparePlan), the
labelled lines of a question file, and the prompts fixed once for every level (Case).

The plan's fingerprint names a run: the same reference, questions and settings resume in the
same output folder, and another plan is refused there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ...evaluation.answers import LabelledQuestion, load_questions
from ...llm.gguf import NOMINAL_BITS, read_gguf
from ...retrieval.search import Mode

RUN_VERSION = 2


def labelled_questions(path: Path) -> list[LabelledQuestion]:
    """The labelled lines of a JSONL question file (a gold source or a yes/no/maybe decision);
    none for other files."""
    if path.suffix.lower() not in (".jsonl", ".json"):
        return []
    return [q for q in load_questions(path) if q.gold or q.decision]


@dataclass(frozen=True)
class ComparePlan:
    """What to compare: level files (any order; the highest precision is the reference), the
    questions, and how each is asked."""

    levels: list[Path]
    questions: list[str]
    k: int = 5
    mode: Mode = Mode.HYBRID
    max_tokens: int = 64  # answer length for the timings
    score_tokens: int = 32  # positions of the reference continuation scored per question
    n_ctx: int = 2048
    n_threads: int = 2
    labels: list[LabelledQuestion] = field(default_factory=list)  # by question text

    def label(self, question: str) -> LabelledQuestion | None:
        return next((q for q in self.labels if q.question == question), None)

    def ordered(self) -> list[Path]:
        """The levels, reference (highest bits per weight) first."""
        def bits(p: Path) -> float:
            return NOMINAL_BITS.get(read_gguf(p).quant, 0.0)
        return sorted(dict.fromkeys(Path(p) for p in self.levels), key=lambda p: -bits(p))

    def fingerprint(self) -> str:
        ref = self.ordered()[0]
        h = hashlib.sha256(json.dumps({
            "v": RUN_VERSION, "ref": [ref.name, ref.stat().st_size], "q": self.questions,
            "k": self.k, "mode": str(self.mode), "max": self.max_tokens,
            "score": self.score_tokens, "ctx": self.n_ctx,
            "labels": [[q.question, q.gold, q.decision, q.answerable] for q in self.labels]},
        ).encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Case:
    """One question's prompt, retrieved and tokenized once; every level gets these tokens."""

    n: int
    question: str
    prompt: str
    tokens: list[int]
    sources: list[str]
