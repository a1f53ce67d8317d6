"""SIGKILL `medsearch index` at random moments: after each kill the library is consistent, and
the next run finishes the work with nothing lost and nothing twice (bench/bench_kill.py does the
same 20 times on 300 notes; its figure is in the README)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from bench_kill import kill_loop, library, medsearch, write_notes  # noqa: E402


@pytest.mark.slow
def test_killed_indexing_leaves_a_consistent_library_that_resumes(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    write_notes(notes, 60, seed=7)
    # The default (ONNX) embedder is exported once per cache: not inside the timed run.
    from medsearch_app.core.embedding.embed import load_embedder
    from medsearch_app.core.settings import Settings

    load_embedder(None, Settings().precision, threads=1).close()
    t0 = time.monotonic()
    clean = medsearch(tmp_path / "clean", "index", str(notes), "-q", "--json")
    clean_s = time.monotonic() - t0
    assert clean.returncode == 0, clean.stderr
    expected = library(tmp_path / "clean")
    assert expected["consistent"] and expected["totals"]["documents"] == 60

    # Kills land inside a run: between 40 % and 90 % of the clean run's own wall time (it was
    # 4-12 s fixed, and indexing got faster than 4 s).
    rounds = kill_loop(tmp_path / "home", notes, kills=3, seed=7, min_s=0.4 * clean_s,
                       max_s=0.9 * clean_s, log=False)
    for r in rounds:
        assert r.consistent, r.problems
        assert r.documents <= 60 and set(r.statuses) <= {"indexed", "pending"}
    assert any(r.killed for r in rounds), (clean_s, rounds)

    final = medsearch(tmp_path / "home", "index", str(notes), "-q", "--json")
    assert final.returncode == 0, final.stderr
    lib = library(tmp_path / "home")
    assert lib["consistent"] and lib["pending"] == 0
    assert lib["totals"] == expected["totals"] and lib["chunks"] == expected["chunks"]
    by_path = {d["path"]: d["chunks"] for d in lib["documents"]}
    assert by_path == {d["path"]: d["chunks"] for d in expected["documents"]}
    hit = medsearch(tmp_path / "home", "search", "allopurinol for gout", "-k", "3", "--json")
    assert hit.returncode == 0 and json.loads(hit.stdout)["hits"]
