"""Engine: builds and owns the parts one session uses (embedder, library, retriever, model).

The CLI and the UI both go through it, so a question asked in the window and on the command
line runs the same code. Parts are created on first use and closed by close().
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from .embed import Embedder, Precision, load_embedder
from .library import Library
from .llm import LlmRuntime
from .models import resolve_model
from .rag import AskOptions, answer
from .search import Mode, Retriever
from .settings import Settings, data_home, effective_threads
from .types import AnswerDone, Retrieved, Token


class Engine:
    """Owner of one session's native resources. Not for sharing across owner threads."""

    def __init__(self, settings: Settings | None = None, *, precision: str | None = None,
                 model: str | None = None, quant: str | None = None) -> None:
        self.settings = settings or Settings.load()
        self.precision = Precision.parse(precision or self.settings.precision)
        self._model_arg, self._quant_arg = model, quant
        self._embedder: Embedder | None = None
        self._library: Library | None = None
        self._llm: LlmRuntime | None = None
        self._lock = threading.RLock()

    @property
    def home(self) -> Path:
        return data_home()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.embedder_path or None,
                                               self.precision,
                                               threads=effective_threads(self.settings))
            return self._embedder

    @property
    def library(self) -> Library:
        with self._lock:
            if self._library is None:
                self._library = Library(self.home, self.embedder)
            return self._library

    @property
    def retriever(self) -> Retriever:
        return Retriever(self.library)

    def model_path(self) -> Path:
        return resolve_model(self.settings, model=self._model_arg, quant=self._quant_arg)

    @property
    def llm(self) -> LlmRuntime:
        with self._lock:
            if self._llm is None:
                self._llm = LlmRuntime(
                    self.model_path(), n_ctx=self.settings.context_size,
                    n_threads=effective_threads(self.settings),
                    n_gpu_layers=self.settings.gpu_layers,
                )
            return self._llm

    def ask_options(self, *, k: int | None = None, mode: str | None = None,
                    max_tokens: int | None = None) -> AskOptions:
        s = self.settings
        return AskOptions(k=k or s.top_k, mode=Mode.parse(mode or s.retrieval_mode),
                          max_tokens=max_tokens or s.max_tokens, temperature=s.temperature)

    def ask(self, question: str, *, options: AskOptions | None = None,
            cancel: threading.Event | None = None) -> Iterator[Retrieved | Token | AnswerDone]:
        """Generator of Retrieved, Token..., AnswerDone for one question."""
        return answer(question, retriever=self.retriever, llm=self.llm,
                      options=options or self.ask_options(), cancel=cancel)

    def close_llm(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    def close(self) -> None:
        with self._lock:
            self.close_llm()
            if self._library is not None:
                self._library.close()
                self._library = None
            if self._embedder is not None:
                self._embedder.close()
                self._embedder = None
