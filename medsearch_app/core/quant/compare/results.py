"""What a comparison produces: each level's measurements (LevelResult, QuestionRun), the events a
run yields, and FIELDS, the one table of result columns (key, heading, tooltip, decimals) that
the report, the window's table and the command line's table all read.

A column added here (and to LevelResult) appears in the report's CSV and HTML; list its key in
WINDOW_COLUMNS or TERMINAL_COLUMNS to show it in the window or on the terminal as well.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class QuestionRun:
    n: int
    answer: str
    ttft_ms: float | None
    prompt_tokens_per_s: float | None
    tokens_per_s: float | None
    kld_mean: float | None
    same_top_pct: float | None
    # the answer evaluator's verdict, where the question is labelled
    refused: bool | None = None
    cites_gold: bool | None = None
    sentences_checked: int = 0
    sentences_supported: int = 0
    decision: str | None = None
    predicted: str | None = None


@dataclass
class LevelResult:
    quant: str
    file: str
    path: str
    file_mb: float
    reference: bool
    load_s: float
    rss_mb: float  # process RSS with the model loaded
    model_rss_mb: float  # RSS taken by loading it
    peak_rss_mb: float  # highest RSS sampled while this level ran
    vram_mb: float | None
    ttft_ms: float | None  # medians over the questions
    prompt_tokens_per_s: float | None
    tokens_per_s: float | None
    kld_mean: float | None
    same_top_pct: float | None
    ref_tail_mass: float | None
    answer_same_pct: float | None
    answer_similarity: float | None
    bandwidth_share_pct: float | None
    questions: list[QuestionRun] = field(default_factory=list)
    # with labelled questions (eval_answers.summarize, as percentages); None without labels
    labelled: int = 0
    answered_pct: float | None = None
    cites_gold_pct: float | None = None
    sentences_supported_pct: float | None = None
    decision_accuracy_pct: float | None = None

    def to_json(self, *, with_questions: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not with_questions:
            d.pop("questions")
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LevelResult:
        qs = [QuestionRun(**q) for q in d.get("questions", [])]
        return cls(**{**d, "questions": qs})


# ---- the events of a run -----------------------------------------------------------------------
@dataclass(frozen=True)
class CompareProgress:
    level: str
    step: str  # "retrieval", "load", "level"
    done: int
    total: int
    eta_s: float | None


@dataclass(frozen=True)
class LevelDone:
    result: LevelResult
    resumed: bool


@dataclass(frozen=True)
class CompareDone:
    levels: list[LevelResult]
    reference: str
    skipped: list[tuple[str, str]]  # (question, why)
    bandwidth_gbs: float
    out_dir: Path
    stopped: bool


# ---- the result columns ------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One result column. `heading` is the report's; `label` the window's (short, two lines)
    and `short` the terminal's, where they show it; `decimals` are the digits shown after the
    point in the report and the window."""

    key: str
    heading: str
    tooltip: str = ""
    decimals: int = 1
    label: str = ""
    short: str = ""
    labelled: bool = False  # an answer score: it has values only with labelled questions

    def text(self, value: Any) -> str:
        """The value as the report and the window show it ("—" for none)."""
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:,.{self.decimals}f}"
        return str(value)


F = Field
FIELDS: list[Field] = [
    F("quant", "level", label="Level", short="level"),
    F("file", "file"),
    F("file_mb", "file MiB", "Size of the GGUF file: the weights held in memory",
      label="File\nMiB", short="MiB"),
    F("load_s", "load s", decimals=2, label="Load\ns"),
    F("rss_mb", "RSS MiB", "Process memory with this level loaded", short="RSS"),
    F("model_rss_mb", "model RSS MiB", "Process memory taken by loading this level",
      label="Load adds\nMiB"),
    F("peak_rss_mb", "peak RSS MiB", "Highest process memory while this level answered",
      label="Peak RSS\nMiB"),
    F("vram_mb", "VRAM MiB", "GPU memory in use after this level answered"),
    F("ttft_ms", "first token ms",
      "Median time to the first answer token (reading the prompt included)",
      label="First token\nms", short="ttft ms"),
    F("prompt_tokens_per_s", "prompt tok/s", "Median speed of reading the prompt"),
    F("tokens_per_s", "tok/s", "Median generation speed", label="Tokens/s", short="tok/s"),
    F("bandwidth_share_pct", "% of bandwidth limit",
      "Tokens/s x file size / this machine's memory bandwidth: how close generation runs to "
      "the physical limit", label="% of band-\nwidth limit"),
    F("kld_mean", "KLD", "Mean KL divergence of the next-token distribution from the "
      "reference's", decimals=4, label="KLD", short="KLD"),
    F("same_top_pct", "same top %",
      "Positions where the most likely next token is the reference's",
      label="Same top\n%", short="same-top"),
    F("ref_tail_mass", "ref. tail mass", "The reference's probability mass outside the top "
      "tokens kept: how much the KLD may fall short of the full one", decimals=4),
    F("answer_same_pct", "same answer %", "Answers word for word the reference's",
      label="Same\nanswer %"),
    F("answer_similarity", "answer similarity",
      "Mean word-level similarity of the answers to the reference's", decimals=3),
    F("answered_pct", "answered %", "Labelled questions this level answered",
      labelled=True),
    F("cites_gold_pct", "cites gold source %",
      "Labelled questions whose answer cites the gold source",
      label="Cites gold\nsource %", labelled=True),
    F("sentences_supported_pct", "sentences supported %",
      "Answer sentences that their cited sources support",
      label="Sentences\nsupported %", labelled=True),
    F("decision_accuracy_pct", "yes/no/maybe right %",
      "Yes/no/maybe questions whose answer states the right decision",
      label="Yes/no\nright %", labelled=True),
]
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}

# The report (CSV and HTML) has every field, in FIELDS' order; the window and the terminal a few.
WINDOW_COLUMNS = ["quant", "file_mb", "model_rss_mb", "peak_rss_mb", "load_s", "ttft_ms",
                  "tokens_per_s", "bandwidth_share_pct", "kld_mean", "same_top_pct",
                  "answer_same_pct", "cites_gold_pct", "sentences_supported_pct",
                  "decision_accuracy_pct"]
# The terminal's table: (key, alignment, width, format of the value); the heading is `short`.
TERMINAL_COLUMNS = [("quant", "<", 8, ""), ("file_mb", ">", 7, ""), ("rss_mb", ">", 6, ".0f"),
                    ("tokens_per_s", ">", 7, ""), ("ttft_ms", ">", 8, ".0f"),
                    ("kld_mean", ">", 8, ".4f"), ("same_top_pct", ">", 7, "")]
PERCENT_SIGN = {"same_top_pct"}  # terminal values followed by "%"
