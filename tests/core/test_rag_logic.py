"""Answer post-processing in rag.answer with a scripted stand-in model (logic only; the real
model is exercised in test_search_ask.py and the UI tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles import HashEmbedder

from medsearch_app.core.answer import rag
from medsearch_app.core.library.indexing import Library
from medsearch_app.core.llm.runtime import GenStats, LlmRuntime
from medsearch_app.core.retrieval.search import Mode, Retriever, SearchResult
from medsearch_app.core.types import AnswerDone, Hit, Retrieved, Token

HITS = [Hit(1, 11, "/lib/af.md", None, None, 0.8,
            "Apixaban 2.5 mg twice daily because age over 80 and weight under 60 kg."),
        Hit(2, 12, "/lib/cap.pdf", 3, "3", 0.7,
            "High severity pneumonia: co-amoxiclav plus clarithromycin intravenously.")]


class ScriptedModel(LlmRuntime):
    """Streams a fixed reply; records the prompt it was given. No model file is read."""

    def __init__(self, reply: str) -> None:
        super().__init__(Path("/models/x.Q4_K_M.gguf"), n_ctx=4096)
        self.reply = reply
        self.prompt = ""

    @property
    def quant(self) -> str:
        return "Q4_K_M"

    def render(self, messages: list[dict[str, str]]) -> str:
        return "\n".join(m["content"] for m in messages)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, prompt: str, *, max_tokens: int = 256, temperature: float = 0.1,
               cancel: threading.Event | None = None,
               stats_out: list[GenStats] | None = None) -> Iterator[str]:
        self.prompt = prompt
        words = self.reply.split(" ")
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w
        if stats_out is not None:
            stats_out.append(GenStats(100, len(words), 10.0, 1000.0, 50.0, 20.0, False))


class ScriptedRetriever(Retriever):
    """Returns a fixed search result; its library (a real one, empty) supplies the embedder."""

    def __init__(self, library: Library, result: SearchResult) -> None:
        super().__init__(library)
        self.result = result

    def search(self, question: str, *, k: int = 10,
               mode: Mode | str = Mode.HYBRID) -> SearchResult:
        return self.result


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    """An empty library on the stand-in embedder (normalised hashed word counts)."""
    lib = Library(tmp_path, HashEmbedder(dim=64))
    yield lib
    lib.close()


def _run(library: Library, reply: str, *,
         supported: bool = True) -> tuple[ScriptedModel, list[Any]]:
    res = SearchResult(HITS, 5.0, supported, "" if supported else "never mentions 'x'", 0.8, [])
    model = ScriptedModel(reply)
    events = list(rag.answer("What apixaban dose?", retriever=ScriptedRetriever(library, res),
                             llm=model, options=rag.AskOptions()))
    return model, events


def test_model_citations_are_kept_and_mapped_to_sources(library: Library) -> None:
    model, events = _run(library, "Apixaban 2.5 mg twice daily [1].")
    assert isinstance(events[0], Retrieved) and isinstance(events[-1], AnswerDone)
    assert next(e.text for e in events if isinstance(e, Token)) == "Apixaban"
    done = events[-1]
    assert done.citation_mode == "model" and done.supported
    assert [(c.n, c.path) for c in done.citations] == [(1, "/lib/af.md")]
    assert "[1] (af.md)" in model.prompt and "[2] (cap.pdf, page 3)" in model.prompt
    assert done.quant == "Q4_K_M" and done.timings.tokens_per_s == 50.0


def test_uncited_sentences_get_the_best_overlapping_source(library: Library) -> None:
    _, events = _run(library, "Give co-amoxiclav with clarithromycin for severe pneumonia.")
    done = events[-1]
    assert done.citation_mode == "attributed"
    assert done.answer.endswith("[2]") and [c.n for c in done.citations] == [2]


def test_refusal_is_not_supported(library: Library) -> None:
    _, events = _run(library, "The sources do not answer this question.")
    assert events[-1].supported is False and events[-1].citations == []


def test_empty_answer_says_so(library: Library) -> None:
    _, events = _run(library, "The answer is:")
    done = events[-1]
    assert done.citation_mode == "none" and rag.EMPTY_ANSWER in done.answer


def test_unsupported_retrieval_never_calls_the_model(library: Library) -> None:
    model, events = _run(library, "should not be generated", supported=False)
    assert model.prompt == "" and not any(isinstance(e, Token) for e in events)
    assert events[-1].supported is False and "never mentions" in events[-1].answer


def test_sentences_that_only_point_at_the_sources_are_dropped() -> None:
    reply = ("The usual warfarin dose is 5 mg daily. [1] This information can be found in [1]. "
             "The sources [1] and [2] provide this information.")
    assert rag.drop_source_talk(reply) == "The usual warfarin dose is 5 mg daily. [1]"
    # a sentence with a fact of its own stays, and so does an answer that is nothing else
    kept = ("Driving is allowed after 6 weeks. [2] This is stated in [2], which says no driving "
            "until at least 6 weeks post-op.")
    assert rag.drop_source_talk(kept) == kept
    assert rag.drop_source_talk("This is stated in [1].") == "This is stated in [1]."


class TimedModel(ScriptedModel):
    """A stand-in that reads `speed` words per second (count_tokens counts words)."""

    def __init__(self, speed: float) -> None:
        super().__init__("")
        self.speed = speed

    def reading_speed(self) -> float:
        return self.speed


def test_automatic_source_text_fits_the_models_reading_speed() -> None:
    from medsearch_app.core.answer import evidence

    def filler(n: int) -> str:
        return " ".join(f"Line {j} of letter {n} says nothing about treatment at all."
                        for j in range(30))

    hits = [Hit(i, 10 + i, f"/lib/n{i}.md", None, None, 0.8 - i / 10,
                f"{filler(i)} Apixaban {i + 2}.5 mg twice daily because age over 80. "
                f"{filler(i + 10)}") for i in range(3)]
    embedder = HashEmbedder(dim=64)
    q = "What apixaban dose?"
    units = evidence.score_units(q, hits, embedder)

    def words(model: TimedModel, texts: list[str] | None) -> int:
        return model.count_tokens(model.render(rag.build_messages(q, hits, texts)))

    whole = words(TimedModel(1.0), None)
    fast = TimedModel(speed=2 * whole / rag.FIRST_WORD_S)
    assert rag.fit_time(fast, q, hits, units) is None
    slow = TimedModel(speed=0.5 * whole / rag.FIRST_WORD_S)
    cut = rag.fit_time(slow, q, hits, units)
    assert cut is not None and words(slow, cut) <= 0.5 * whole
    assert all(f"Apixaban {i + 2}.5 mg twice daily" in t for i, t in enumerate(cut))
    hopeless = TimedModel(speed=1.0)  # nothing fits: the shortest excerpts
    shortest = rag.fit_time(hopeless, q, hits, units)
    assert shortest == evidence.excerpts(units, hits, rag.EXCERPT_SIZES[-1])


class _SameVector(HashEmbedder):
    """Every text the same vector: a unit's score is then its share of the question's words."""

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def test_evidence_counts_a_lay_word_said_clinically_but_once_per_word() -> None:
    """"hypertension" is said by "BP today 148/88"; the question's number counts too ("over
    80"); "the diabetic's HbA1c" is not matched twice by one "HbA1c"."""
    from medsearch_app.core.answer import evidence

    note = ("Attributed to long-standing hypertension and vascular disease. BP today 148/88. "
            "Start with 3 mg daily if aged over 80. Review in three months.")
    hits = [Hit(1, 1, "/lib/ckd.txt", None, None, 0.8, note)]
    emb = _SameVector(dim=8)

    def score(question: str, start: str) -> float:
        units = evidence.score_units(question, hits, emb)
        return next(u.score for u in units if note[u.start:u.end].startswith(start))

    q = "How is the hypertension today?"
    assert score(q, "BP today") > score(q, "Attributed")
    assert score("What dose for a patient over 80?", "Start with") > score(
        "What dose for a patient over 80?", "Review")
    diabetes = [Hit(1, 1, "/lib/dm.md", None, None, 0.8,
                    "HbA1c 68 mmol/mol. Metformin increased for the diabetic.")]
    units = evidence.score_units("What was the diabetic's HbA1c?", diabetes, emb)
    by_text = {diabetes[0].text[u.start:u.end]: u.score for u in units}
    # "HbA1c 68" holds hba1c but not "diabetic" (only through the question's own HbA1c)
    assert by_text["HbA1c 68 mmol/mol."] == pytest.approx(by_text[
        "Metformin increased for the diabetic."])


def test_a_title_or_abbreviation_does_not_end_a_sentence() -> None:
    """"St. John's wort" stays one name: split after "St.", the uncited half got a citation of
    its own ("is St. [2] John's Wort")."""
    from medsearch_app.core.text.sentences import split_sentences

    text = "The remedy is St. John's wort. Seen by Dr. Patel, e.g. for 7.5 mg. The answer is No."
    assert [text[a:b].strip() for a, b in split_sentences(text)] == [
        "The remedy is St. John's wort.", "Seen by Dr. Patel, e.g. for 7.5 mg.",
        "The answer is No."]
    hits = [Hit(1, 1, "/lib/p.pdf", 3, None, 0.9,
                "Medicines that lower the INR: carbamazepine, rifampicin and St John's wort.")]
    out, _mode = rag.attribute("The herbal remedy that lowers the INR is St. John's wort.", hits)
    assert out == "The herbal remedy that lowers the INR is St. John's wort. [1]"
