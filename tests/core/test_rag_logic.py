"""Answer post-processing in rag.answer with a scripted stand-in model (logic only; the real
model is exercised in test_search_ask.py and the UI tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from medsearch_app.core import rag
from medsearch_app.core.llm import GenStats
from medsearch_app.core.search import SearchResult
from medsearch_app.core.types import AnswerDone, Hit, Retrieved, Token

HITS = [Hit(1, 11, "/lib/af.md", None, None, 0.8,
            "Apixaban 2.5 mg twice daily because age over 80 and weight under 60 kg."),
        Hit(2, 12, "/lib/cap.pdf", 3, "3", 0.7,
            "High severity pneumonia: co-amoxiclav plus clarithromycin intravenously.")]


class ScriptedModel:
    """Streams a fixed reply; records the prompt it was given."""

    n_ctx = 4096
    path = Path("/models/x.Q4_K_M.gguf")
    quant = "Q4_K_M"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompt = ""

    def render(self, messages: list[dict[str, str]]) -> str:
        return "\n".join(m["content"] for m in messages)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, prompt: str, *, max_tokens: int, temperature: float,
               cancel: threading.Event, stats_out: list[GenStats]) -> Iterator[str]:
        self.prompt = prompt
        words = self.reply.split(" ")
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w
        stats_out.append(GenStats(100, len(words), 10.0, 1000.0, 50.0, 20.0, False))


def _bag_of_words(texts: list[str]) -> Any:
    """A stand-in embedder for the logic tests: normalised hashed word counts."""
    import numpy as np

    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, hash(w) % 64] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _run(reply: str, *, supported: bool = True) -> tuple[ScriptedModel, list[Any]]:
    res = SearchResult(HITS, 5.0, supported, "" if supported else "never mentions 'x'", 0.8, [])
    retriever: Any = SimpleNamespace(
        search=lambda q, k, mode: res,
        library=SimpleNamespace(embedder=SimpleNamespace(
            name="mini", precision=SimpleNamespace(value="fp32"), embed_batch=_bag_of_words)))
    model = ScriptedModel(reply)
    events = list(rag.answer("What apixaban dose?", retriever=retriever, llm=model,  # type: ignore[arg-type]
                             options=rag.AskOptions()))
    return model, events


def test_model_citations_are_kept_and_mapped_to_sources() -> None:
    model, events = _run("Apixaban 2.5 mg twice daily [1].")
    assert isinstance(events[0], Retrieved) and isinstance(events[-1], AnswerDone)
    assert next(e.text for e in events if isinstance(e, Token)) == "Apixaban"
    done = events[-1]
    assert done.citation_mode == "model" and done.supported
    assert [(c.n, c.path) for c in done.citations] == [(1, "/lib/af.md")]
    assert "[1] (af.md)" in model.prompt and "[2] (cap.pdf, page 3)" in model.prompt
    assert done.quant == "Q4_K_M" and done.timings.tokens_per_s == 50.0


def test_uncited_sentences_get_the_best_overlapping_source() -> None:
    _, events = _run("Give co-amoxiclav with clarithromycin for severe pneumonia.")
    done = events[-1]
    assert done.citation_mode == "attributed"
    assert done.answer.endswith("[2]") and [c.n for c in done.citations] == [2]


def test_refusal_is_not_supported() -> None:
    _, events = _run("The sources do not answer this question.")
    assert events[-1].supported is False and events[-1].citations == []


def test_empty_answer_says_so() -> None:
    _, events = _run("The answer is:")
    done = events[-1]
    assert done.citation_mode == "none" and rag.EMPTY_ANSWER in done.answer


def test_unsupported_retrieval_never_calls_the_model() -> None:
    model, events = _run("should not be generated", supported=False)
    assert model.prompt == "" and not any(isinstance(e, Token) for e in events)
    assert events[-1].supported is False and "never mentions" in events[-1].answer
