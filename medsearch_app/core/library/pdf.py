"""PDF text extraction with pypdf, page by page, in a child process with time and memory limits.

pypdf has known denial-of-service inputs (endless loops, memory blow-ups), so every PDF is read
in a spawned child that streams pages back one at a time. A page that fails is reported and the
other pages are kept; a child that runs out of time or memory is killed, and the pages it had
already sent are kept with the reason. The parent also watches a cancel event while it waits and
stops the child at once when it is set (the result then says `cancelled`, and holds no verdict).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ..types import PageText

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_MB = 2048
POLL_S = 0.25  # how often the parent looks at the cancel event and the child while it waits
MAX_FILE_MB = 200
# A text page with fewer characters than this is treated as having no text layer.
MIN_TEXT_CHARS = 20


@dataclass
class PdfResult:
    """What came out of one PDF: its pages, page-level problems, and a file-level error."""

    pages: list[PageText] = field(default_factory=list)
    page_errors: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None
    n_pages: int = 0
    cancelled: bool = False  # stopped by the caller: pages and error are not a verdict


def _child(path: str, conn: Connection, memory_mb: int) -> None:
    """Runs in the child: open, decrypt, extract each page, send tuples over `conn`."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        from pypdf import PdfReader
        from pypdf.errors import FileNotDecryptedError, PdfReadError

        try:
            reader = PdfReader(path, strict=False)
        except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
            conn.send(("error", f"corrupt or not a PDF ({type(exc).__name__}: {exc})"[:300]))
            return
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - any decrypt failure means locked
                conn.send(("error", f"encrypted and cannot be opened ({exc})"[:300]))
                return
            if not ok:
                conn.send(("error", "encrypted with a password; remove the password and re-add"))
                return
        try:
            n = len(reader.pages)
            labels: list[str] = list(reader.page_labels)
        except FileNotDecryptedError:
            conn.send(("error", "encrypted with a password; remove the password and re-add"))
            return
        except Exception as exc:  # noqa: BLE001 - a broken page tree
            conn.send(("error", f"corrupt PDF: page list unreadable ({type(exc).__name__})"))
            return
        conn.send(("count", n))
        for i in range(n):
            label = labels[i] if i < len(labels) else str(i + 1)
            try:
                text = reader.pages[i].extract_text() or ""
            except MemoryError:
                conn.send(("page_error", i + 1, "page too large to read within the memory limit"))
                continue
            except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds per page
                conn.send(("page_error", i + 1, _page_reason(exc)))
                continue
            conn.send(("page", i + 1, label, text))
        conn.send(("done",))
    except MemoryError:
        conn.send(("error", "ran out of memory while reading (file too complex)"))
    except Exception as exc:  # noqa: BLE001 - last resort: keep the parent informed
        conn.send(("error", f"could not be read ({type(exc).__name__}: {exc})"[:300]))
    finally:
        conn.close()


HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")


def clean_page_text(text: str) -> str:
    """Undo print layout that hides words from search: ligatures ("ﬁ" -> "fi", NFKC) and words
    hyphenated across a line break ("traf-\nficking" -> "trafficking")."""
    return HYPHEN_BREAK.sub("", unicodedata.normalize("NFKC", text))


def _page_reason(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "LimitReachedError":
        return "page content exceeds the PDF reader's safety limit (decompression bomb guard)"
    return f"page could not be read ({name}: {exc})"[:300]


def extract_pdf(
    path: Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    max_file_mb: int = MAX_FILE_MB,
    cancel: threading.Event | None = None,
) -> PdfResult:
    """Extract a PDF's pages in a guarded child process. Never raises for bad input.

    If `cancel` is set while the child works, the child is killed and the result comes back
    promptly with `cancelled` True."""
    res = PdfResult()
    try:
        size_mb = path.stat().st_size / 1e6
    except OSError as exc:
        res.error = f"cannot be opened ({exc.strerror})"
        return res
    if size_mb > max_file_mb:
        res.error = f"too large ({size_mb:.0f} MB; the limit is {max_file_mb} MB)"
        return res
    if size_mb == 0:
        res.error = "empty file (0 bytes)"
        return res
    if cancel is not None and cancel.is_set():
        res.cancelled = True
        return res
    ctx = _reader_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(str(path), child, memory_mb), daemon=True)
    proc.start()
    child.close()
    collect(proc, parent, res, timeout_s=timeout_s, memory_mb=memory_mb, cancel=cancel)
    if res.cancelled:
        return res
    if res.error is None and res.n_pages == 0:
        res.error = "the PDF has no pages"
    elif res.error is None and not any(len(p.text.strip()) >= MIN_TEXT_CHARS for p in res.pages):
        if res.pages:
            res.error = "no text layer (scanned or image-only PDF); run OCR on it first"
    return res


_CTX_LOCK = threading.Lock()
_CTX: list[Any] = []  # the multiprocessing context chosen on first use


def _reader_context() -> Any:
    """Where PDF readers come from: a fork server that has imported this module and pypdf once
    (Linux), so that each reader is a fork of it — a fresh, killable, memory-limited process
    without Python's start-up and imports (0.4–0.5 s of CPU per PDF when each reader was
    spawned); elsewhere, and in the frozen app, spawned processes."""
    with _CTX_LOCK:
        if not _CTX:
            import sys

            if "forkserver" in mp.get_all_start_methods() and not getattr(sys, "frozen", False):
                server = mp.get_context("forkserver")
                server.set_forkserver_preload([__name__, "pypdf"])
                _CTX.append(server)
            else:
                _CTX.append(mp.get_context("spawn"))
        return _CTX[0]


def collect(proc: BaseProcess, parent: Connection, res: PdfResult, *, timeout_s: float,
            memory_mb: int, cancel: threading.Event | None = None) -> None:
    """Receive the child's messages into `res` until it is done, fails, runs out of time or
    `cancel` is set; then make sure the child is gone and close the connection."""
    deadline = time.monotonic() + timeout_s
    finished = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                res.cancelled = True
                break
            left = deadline - time.monotonic()
            if left <= 0:
                res.error = f"timed out after {timeout_s:.0f} s (the PDF is too complex to read)"
                break
            if not parent.poll(min(left, POLL_S)):
                if not proc.is_alive() and not parent.poll(0):
                    res.error = _died_reason(proc.exitcode, memory_mb)
                    break
                continue
            try:
                msg = parent.recv()
            except EOFError:
                if not finished:
                    res.error = _died_reason(proc.exitcode, memory_mb)
                break
            kind = msg[0]
            if kind == "count":
                res.n_pages = int(msg[1])
            elif kind == "page":
                res.pages.append(PageText(page=msg[1], label=msg[2], text=clean_page_text(msg[3])))
            elif kind == "page_error":
                res.page_errors.append((msg[1], msg[2]))
            elif kind == "error":
                res.error = msg[1]
                finished = True
            elif kind == "done":
                finished = True
                break
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


def _died_reason(exitcode: int | None, memory_mb: int) -> str:
    if exitcode is not None and exitcode < 0:
        return f"the PDF reader crashed (signal {-exitcode}); the file is likely corrupt"
    return f"the PDF reader stopped unexpectedly (exceeded {memory_mb} MB or crashed)"
