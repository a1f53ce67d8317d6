"""Shared fixtures: an isolated MEDSEARCH_HOME, one real embedder per session, the test corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fixtures_pdf import Corpus, make_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _never_the_real_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Even a test that forgets `home` never writes to the user's real data folder."""
    old = os.environ.get("MEDSEARCH_HOME")
    os.environ["MEDSEARCH_HOME"] = str(tmp_path_factory.mktemp("default-home"))
    # The ONNX embedder is exported once for the whole run (and its subprocesses), not once per
    # test home; tests/core/test_embed_onnx.py exports into a data folder of its own.
    os.environ.setdefault("MEDSEARCH_EMBEDDER_CACHE",
                          str(tmp_path_factory.mktemp("embedder-cache")))
    # Tests that do not judge answers run on the small model (quick, and what they check does
    # not depend on the model); tests/core/test_answer_model.py uses the answer model itself.
    # MEDSEARCH_DEFAULT_MODEL=auto runs the whole suite on the default a user gets.
    os.environ.setdefault("MEDSEARCH_DEFAULT_MODEL", "small")
    yield
    if old is None:
        os.environ.pop("MEDSEARCH_HOME", None)
    else:
        os.environ["MEDSEARCH_HOME"] = old


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data home for one test (MEDSEARCH_HOME points at it)."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("MEDSEARCH_HOME", str(h))
    return h


@pytest.fixture(scope="session")
def embedder() -> Iterator[Any]:
    """The real all-MiniLM-L6-v2 fp32 embedder, loaded once (do not close it in a test)."""
    from medsearch_app.core.embedding.embed import load_embedder

    emb = load_embedder(None, "fp32", threads=2)
    yield emb
    emb.close()


@pytest.fixture(scope="session")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The generated corpus (PDFs and notes), written once per session. Treat as read-only."""
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def run_medsearch(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the `medsearch` command (python -m medsearch_app) with `home` as MEDSEARCH_HOME."""
    env = dict(os.environ)
    env["MEDSEARCH_HOME"] = str(home)
    env.setdefault("OMP_NUM_THREADS", "2")
    return subprocess.run([sys.executable, "-m", "medsearch_app", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=str(REPO))


@pytest.fixture(scope="session")
def medsearch() -> Callable[..., subprocess.CompletedProcess]:
    """`medsearch(home, *args)` runs the CLI in a subprocess and returns the CompletedProcess."""
    return run_medsearch


@dataclass
class Indexed:
    """The corpus indexed once into its own library (read-only for tests)."""

    lib: Any
    home: Path
    events: list[Any]
    docs: Corpus

    @property
    def done(self) -> Any:
        from medsearch_app.core.types import IndexDone

        return next(e for e in self.events if isinstance(e, IndexDone))

    def file_event(self, path: Path) -> Any:
        from medsearch_app.core.types import FileIndexed

        return next(e for e in self.events
                    if isinstance(e, FileIndexed) and e.path == str(path.resolve()))

    def chunks_of(self, path: Path) -> list[Any]:
        rows = self.lib.store.chunks(self.lib.store.chunk_ids())
        return sorted((r for r in rows.values() if r.path == str(path.resolve())),
                      key=lambda r: (r.page or 0, r.start))


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder: Any, docs: Corpus
            ) -> Iterator[Indexed]:
    """Library over the whole generated corpus (good and bad files), indexed once."""
    from medsearch_app.core.library.indexing import Library

    h = tmp_path_factory.mktemp("indexed-home")
    lib = Library(h, embedder)
    events = list(lib.index_paths([docs.folder]))
    yield Indexed(lib, h, events, docs)
    lib.close()


@pytest.fixture(scope="session")
def hash_embedder(embedder: Any) -> Any:
    """A HashEmbedder (an Embedder subclass, tests/doubles.py) on the real tokenizer."""
    from doubles import HashEmbedder

    return HashEmbedder(embedder)
