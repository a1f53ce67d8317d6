"""Engine: builds and owns the parts one session uses (embedder, library, retriever, model).

The CLI and the UI both go through it, so a question asked in the window and on the command
line runs the same code. Parts are created on first use and closed by close().

Two locks, so that loading a model never blocks the library: `_parts_lock` guards the embedder
and library (the GUI thread reads `engine.library`), `_llm_lock` only guards swapping the model
reference and is never held while a model loads. The model itself is used on one owner thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .answer.rag import AskOptions, answer
from .embedding.base import Embedder, Precision
from .embedding.embed import load_embedder
from .library.indexing import Library
from .llm.models import choose_default_model, resolve_model
from .llm.runtime import LlmRuntime
from .retrieval.search import Mode, Retriever
from .settings import Settings, data_home, effective_threads
from .system import metrics
from .types import AnswerDone, Retrieved, Token


@dataclass(frozen=True)
class SwitchReport:
    """What a quant-level switch did: the levels and the memory released and taken."""

    old_quant: str | None
    quant: str
    file: str
    size_bytes: int
    released_mb: float
    taken_mb: float
    rss_mb: float


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
        self._parts_lock = threading.RLock()  # embedder and library
        self._llm_lock = threading.Lock()  # the model reference only; never held during a load

    @property
    def home(self) -> Path:
        return data_home()

    @property
    def embedder(self) -> Embedder:
        with self._parts_lock:
            if self._embedder is None:
                # torch's thread count is process-wide: load_embedder sets it for the torch
                # precisions (an ONNX session takes its own); decided here, for the session.
                self._embedder = load_embedder(self.settings.embedder_path or None,
                                               self.precision,
                                               threads=effective_threads(self.settings))
            return self._embedder

    def embedder_needs_preparing(self) -> bool:
        """The first use of an ONNX precision exports it (seconds): callers can say so."""
        from .embedding.embed import needs_preparing

        return self._embedder is None and needs_preparing(self.settings.embedder_path or None,
                                                          self.precision)

    @property
    def library(self) -> Library:
        with self._parts_lock:
            if self._library is None:
                self._library = Library(self.home, self.embedder)
            return self._library

    @property
    def retriever(self) -> Retriever:
        return Retriever(self.library)

    def model_path(self) -> Path:
        return resolve_model(self.settings, model=self._model_arg, quant=self._quant_arg)

    def model_reason(self) -> str:
        """Why the answer model is the one it is (for the window's status bar)."""
        if self._model_arg or self._quant_arg:
            return "chosen for this session"
        if self.settings.model_path:
            return "chosen in the settings"
        return choose_default_model(self.settings).reason

    @property
    def llm(self) -> LlmRuntime:
        with self._llm_lock:
            if self._llm is None:
                self._llm = self._runtime(self.model_path())
            return self._llm

    def _runtime(self, path: Path) -> LlmRuntime:
        return LlmRuntime(path, n_ctx=self.settings.context_size,
                          n_threads=effective_threads(self.settings),
                          n_gpu_layers=self.settings.gpu_layers)

    def ask_options(self, *, k: int | None = None, mode: str | None = None,
                    max_tokens: int | None = None) -> AskOptions:
        s = self.settings
        return AskOptions(k=k or s.top_k, mode=Mode.parse(mode or s.retrieval_mode),
                          max_tokens=max_tokens or s.max_tokens, temperature=s.temperature,
                          source_chars=s.source_chars, focus=s.source_focus)

    def ask(self, question: str, *, options: AskOptions | None = None,
            cancel: threading.Event | None = None) -> Iterator[Retrieved | Token | AnswerDone]:
        """Generator of Retrieved, Token..., AnswerDone for one question."""
        return answer(question, retriever=self.retriever, llm=self.llm,
                      options=options or self.ask_options(), cancel=cancel)

    def held_model_bytes(self) -> int:
        """Memory the loaded model gives back when it is closed (its file size; 0 when none is
        loaded): what a level switch counts as free, in memory_fit's `held_bytes`."""
        with self._llm_lock:
            cur = self._llm
        if cur is None or not cur.loaded:
            return 0
        try:
            return cur.path.stat().st_size
        except OSError:
            return 0

    def switch_model(self, path: Path) -> SwitchReport:
        """Close the loaded model and load another (call on the model's owner thread).

        The new file's memory need is checked (memory_fit, counting the memory the loaded model
        releases) before the old model is closed, so a level that will not fit is refused with
        NotEnoughMemory and the current one keeps answering. No lock is held while the model
        loads, so the library stays usable from other threads meanwhile."""
        new = self._runtime(path)
        with self._llm_lock:
            cur = self._llm
        new.check_fits(held_bytes=self.held_model_bytes())
        before = metrics.sample(with_vram=False).rss_mb
        old = cur.quant if cur is not None else None
        self.close_llm()
        after_close = metrics.sample(with_vram=False).rss_mb
        new.load()
        with self._llm_lock:
            self._llm = new
            self._model_arg, self._quant_arg = str(path), None
            self.settings.model_path = str(path)
        after = metrics.sample(with_vram=False).rss_mb
        return SwitchReport(old_quant=old, quant=new.quant, file=path.name,
                            size_bytes=path.stat().st_size,
                            released_mb=round(before - after_close, 1),
                            taken_mb=round(after - after_close, 1), rss_mb=round(after, 1))

    def replace_library(self, embedder: Embedder, library: Library) -> None:
        """Swap in a library opened with another embedder precision; closes the old one."""
        with self._parts_lock:
            old_lib, old_emb = self._library, self._embedder
            self._embedder, self._library = embedder, library
            self.precision = embedder.precision
            self.settings.precision = embedder.precision.value
        if old_lib is not None:
            old_lib.close()
        if old_emb is not None:
            old_emb.close()

    def close_llm(self) -> None:
        """Close the loaded model (on its owner thread); the next `llm` use makes a new one."""
        with self._llm_lock:
            llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()

    def close(self) -> None:
        self.close_llm()
        with self._parts_lock:
            if self._library is not None:
                self._library.close()
                self._library = None
            if self._embedder is not None:
                self._embedder.close()
                self._embedder = None
