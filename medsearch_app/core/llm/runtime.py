"""LlmRuntime: the one owner of a llama.cpp model — load, stream, cancel, close.

Model-agnostic: the prompt is rendered with the chat template stored in the GGUF itself
(ChatML as a fallback for files without one), so stronger 7-8B models added by IT work unchanged.
Before loading, the memory a file needs (weights + KV cache) is compared with what is free and
the load is refused with a message if it will not fit: memory_fit() is the one rule for that,
used here, by Engine.switch_model and by the settings panel's estimate. Not thread-safe
(llama.cpp contexts are not): the caller keeps one owner thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from ..errors import MedSearchError, ResourceProblem
from .gguf import GgufError, GgufInfo, estimate_memory_bytes, read_gguf

log = logging.getLogger(__name__)
_llama_log = logging.getLogger("llama_cpp")

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class ModelLoadError(MedSearchError):
    """The model file cannot be used (broken, unsupported); message is for the user."""


class NotEnoughMemory(ResourceProblem):
    """The model needs more memory than is free."""


@dataclass(frozen=True)
class MemoryFit:
    """Whether a model fits in memory: bytes needed and available, and why not if it does not.

    `available` already counts `held`, the bytes of a loaded model that would be released first.
    `message` is empty when it fits, otherwise the refusal shown to the user."""

    need: int
    available: int
    fits: bool
    n_ctx: int
    held: int = 0
    message: str = ""


def memory_fit(info: GgufInfo, n_ctx: int, gpu_layers: int, held_bytes: int = 0) -> MemoryFit:
    """The one rule for "will this model fit": weights + KV cache for the context it will get
    (n_ctx, capped at the model's trained length) against the RAM free now plus `held_bytes`
    (the loaded model that is closed before this one loads).

    With layers offloaded to a GPU (`gpu_layers` > 0) the RAM need is unknown, so the load is
    not refused here; llama.cpp reports a failed allocation itself."""
    ctx = min(n_ctx, info.context_length or n_ctx)
    need = estimate_memory_bytes(info, ctx)
    avail = int(psutil.virtual_memory().available) + held_bytes
    fits = gpu_layers > 0 or need <= avail
    message = "" if fits else (
        f"{info.path.name} needs about {need / 2**30:.1f} GiB (weights + context of {ctx} "
        f"tokens) but only {avail / 2**30:.1f} GiB "
        f"{'would be free' if held_bytes else 'is free'}; choose a smaller quant level or a "
        "shorter context")
    return MemoryFit(need=need, available=avail, fits=fits, n_ctx=ctx, held=held_bytes,
                     message=message)


@dataclass(frozen=True)
class GenStats:
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float | None
    prompt_tokens_per_s: float | None
    tokens_per_s: float | None
    total_ms: float
    stopped: bool


_log_cb: Any = None
# ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 continuation of the previous line.
_GGML_LEVELS = {2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}


def route_llama_logs() -> None:
    """Send llama.cpp's native log to Python logging instead of the process's stderr.

    (Llama(verbose=False) redirects the whole process's stdout/stderr file descriptors while it
    loads, which would swallow output from every other thread.)
    """
    global _log_cb
    if _log_cb is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _cb(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        msg = text.decode("utf-8", errors="replace").rstrip()
        if msg:
            _llama_log.log(_GGML_LEVELS.get(level, logging.DEBUG), "%s", msg)

    _log_cb = _cb
    llama_cpp.llama_log_set(_cb, ctypes.c_void_p(0))


def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can offload layers to a GPU."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError):
        return False


# Read by reading_speed(): ordinary clinical prose, the kind of text a prompt's sources hold.
SPEED_PROBE = (
    "Patient reviewed in clinic today with her daughter. She reports better sleep and less "
    "breathlessness on exertion since the last visit, and no chest pain, palpitations or ankle "
    "swelling. Blood pressure was 138 over 84, pulse 76 and regular, weight unchanged. The plan "
    "is to continue the current tablets, repeat the kidney blood tests in three months and "
    "review again after the results, sooner if her symptoms return or get worse."
)


class LlmRuntime:
    """Owns one loaded GGUF model and its context."""

    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: int = 2,
                 n_gpu_layers: int = 0, seed: int = 1234) -> None:
        self.path = Path(path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.seed = seed
        self.info: GgufInfo | None = None
        self._llm: Any = None
        self._template: Any = None
        self._speed: float | None = None
        self._lock = threading.Lock()

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def quant(self) -> str:
        try:
            return self._read_info().quant
        except ModelLoadError:
            return "unknown"

    def memory_fit(self, held_bytes: int = 0) -> MemoryFit:
        """memory_fit() for this file with this runtime's context and GPU layers."""
        return memory_fit(self._read_info(), self.n_ctx, self.n_gpu_layers, held_bytes)

    def check_fits(self, held_bytes: int = 0) -> MemoryFit:
        """The memory fit; raises NotEnoughMemory (with the message for the user) if it will
        not fit. `held_bytes`: a loaded model that is closed before this one loads."""
        fit = self.memory_fit(held_bytes)
        if not fit.fits:
            raise NotEnoughMemory(fit.message)
        return fit

    def _read_info(self) -> GgufInfo:
        if self.info is None:
            if not self.path.exists():
                raise ModelLoadError(f"model file not found: {self.path}")
            try:
                self.info = read_gguf(self.path)
            except GgufError as exc:
                raise ModelLoadError(f"{self.path.name} is not a usable model: {exc}") from exc
        return self.info

    def load(self) -> None:
        """Load the model (refusing broken files and files too large for memory)."""
        if self._llm is not None:
            return
        self.check_fits()
        info = self._read_info()
        route_llama_logs()
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        n_ctx = min(self.n_ctx, info.context_length or self.n_ctx)
        # llama-cpp-python prints its verbose load report with print(); keep it in the log.
        sink = io.StringIO()
        try:
            with contextlib.redirect_stderr(sink):
                self._llm = llama_cpp.Llama(
                    model_path=str(self.path), n_ctx=n_ctx, n_threads=self.n_threads,
                    n_threads_batch=self.n_threads, n_gpu_layers=self.n_gpu_layers,
                    seed=self.seed, verbose=True, logits_all=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {self.path.name} ({exc}); the file may be damaged "
                "or of an architecture this build does not support"
            ) from exc
        finally:
            _llama_log.debug("%s", sink.getvalue())
        # After the load: generate() would print each prompt-cache hit to stderr.
        self._llm.verbose = False
        meta = self._llm.metadata
        template = meta.get("tokenizer.chat_template") or CHATML
        eos = self._token_text(self._llm.token_eos())
        bos = self._token_text(self._llm.token_bos())
        self._template = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self.n_ctx = n_ctx

    def _token_text(self, tok: int) -> str:
        if tok < 0:
            return ""
        return self._llm.detokenize([tok], special=True).decode("utf-8", errors="ignore")

    def close(self) -> None:
        """Free the model and its context now (never left to the garbage collector)."""
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
                self._template = None
                self._speed = None

    # ---- generation ------------------------------------------------------------------------
    def render(self, messages: list[dict[str, str]]) -> str:
        """The prompt text for these chat messages, through the model's own template."""
        if self._llm is None:
            self.load()
        result = self._template(messages=messages)
        return str(result.prompt)

    def tokenize(self, text: str) -> list[int]:
        """The model's tokens for rendered prompt text (special tokens kept, no extra BOS)."""
        if self._llm is None:
            self.load()
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def next_token_logits(self, prompt: list[int], *, follow: list[int] | None = None,
                          n: int = 0, cancel: threading.Event | None = None,
                          ) -> tuple[list[int], Any]:
        """The model's logits for the next token at each step after `prompt`.

        With `follow`, the steps follow those tokens (teacher forcing: the logits at step i are
        those after prompt + follow[:i]); without it, the model's own greedy choice is taken for
        up to `n` steps, ending after the end-of-text token. Returns the tokens of the steps and
        their logits as a float32 array (steps x vocabulary). Used to compare quant levels on
        the same text (core/quant/compare/); no sampling, no penalties. When the context already
        holds `prompt` (an answer to it was just streamed), its cache is reused."""
        import llama_cpp
        import numpy as np

        if self._llm is None:
            self.load()
        llm = self._llm
        steps = len(follow) if follow is not None else n
        if len(prompt) + steps > self.n_ctx:
            raise ValueError(f"{len(prompt)} + {steps} tokens exceed the context of {self.n_ctx}")
        vocab = int(llm.n_vocab())
        eos = int(llm.token_eos())
        toks: list[int] = []
        rows: list[Any] = []
        with self._lock:
            n = len(prompt)
            if n and llm.n_tokens >= n and list(llm.input_ids[:n]) == list(prompt):
                # The context already holds this prompt (an answer to it was just streamed):
                # keep its cache and evaluate only its last token again, for that token's logits.
                llm.n_tokens = n - 1
                llm.eval(prompt[-1:])
            else:
                llm.reset()
                llm.eval(prompt)
            for i in range(steps):
                if cancel is not None and cancel.is_set():
                    break
                ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)  # the last output's logits
                row = np.ctypeslib.as_array(ptr, shape=(vocab,)).astype(np.float32, copy=True)
                tok = follow[i] if follow is not None else int(np.argmax(row))
                toks.append(tok)
                rows.append(row)
                if i == steps - 1 or (follow is None and tok == eos):
                    break
                llm.eval([tok])
            llm.reset()
        out = np.stack(rows) if rows else np.zeros((0, vocab), dtype=np.float32)
        return toks, out

    def reading_speed(self) -> float:
        """Prompt tokens this model reads per second on this machine, measured once per load
        (a fixed English text of about 100 tokens, about 2 s for a 1.5B model on two cores);
        rag.py uses it to fit the sources to the time a physician waits for the first word."""
        if self._llm is None:
            self.load()
        toks = self.tokenize(SPEED_PROBE)
        with self._lock:
            if self._speed is None:
                if self._llm is None:
                    raise ModelLoadError(f"{self.path.name} was closed")
                self._llm.reset()
                self._llm.eval(toks[:16])  # warm-up: the weights paged in, buffers allocated
                self._llm.reset()
                t0 = time.perf_counter()
                self._llm.eval(toks)
                seconds = time.perf_counter() - t0
                self._llm.reset()
                self._speed = len(toks) / max(seconds, 1e-6)
                _llama_log.info("%s reads %.0f prompt tokens/s", self.path.name, self._speed)
            return self._speed

    def clear_cache(self) -> None:
        """Forget the KV cache of the last prompt: the next stream() reads its whole prompt
        (benchmarks that repeat one prompt use it; the app keeps the shared prefix)."""
        with self._lock:
            if self._llm is not None:
                self._llm.reset()

    def stream(self, prompt: str, *, max_tokens: int = 256, temperature: float = 0.1,
               cancel: threading.Event | None = None,
               stats_out: list[GenStats] | None = None) -> Iterator[str]:
        """Stream completion text for a rendered prompt; stops between tokens on `cancel`."""
        import llama_cpp

        if self._llm is None:
            self.load()
        cancel = cancel or threading.Event()
        n_prompt = self.count_tokens(prompt)
        max_tokens = max(1, min(max_tokens, self.n_ctx - n_prompt - 1))
        stop_crit = llama_cpp.StoppingCriteriaList([lambda _ids, _logits: cancel.is_set()])
        t0 = time.perf_counter()
        t_first: float | None = None
        n_out = 0
        stopped = False
        with self._lock:
            # No reset(): llama-cpp-python keeps the KV cache of the longest prefix this prompt
            # shares with the last one (the template and system prompt of every RAG prompt) and
            # reads only the rest; it falls back to a full read where a model cannot drop part
            # of its cache. bench/bench_ttft.py measures the saving.
            gen = self._llm.create_completion(
                prompt, max_tokens=max_tokens, temperature=temperature, top_p=0.9,
                repeat_penalty=1.1, stream=True, stopping_criteria=stop_crit,
            )
            try:
                for part in gen:
                    choice = part["choices"][0]
                    text = choice["text"]
                    # The stream ends with an empty chunk carrying finish_reason: not a token.
                    if choice.get("finish_reason") is None:
                        n_out += 1
                        if t_first is None:
                            t_first = time.perf_counter()
                    if text:
                        yield text
                    if cancel.is_set():
                        stopped = True
                        break
            finally:
                gen.close()
        t_end = time.perf_counter()
        stopped = stopped or cancel.is_set()
        if stats_out is not None:
            ttft = (t_first - t0) if t_first else None
            decode = (t_end - t_first) if t_first else None
            stats_out.append(GenStats(
                prompt_tokens=n_prompt, completion_tokens=n_out,
                ttft_ms=round(ttft * 1000, 2) if ttft else None,
                prompt_tokens_per_s=round(n_prompt / ttft, 1) if ttft else None,
                tokens_per_s=round((n_out - 1) / decode, 1) if decode and n_out > 1 else None,
                total_ms=round((t_end - t0) * 1000, 2), stopped=stopped,
            ))
