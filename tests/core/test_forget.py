"""`medsearch delete-data`: the user's text is gone from the data folder, the models stay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"
SECRET = "hold two doses, recheck INR in three days"  # a sentence of warfarin_clinic.md


def _files_holding(home: Path, text: bytes) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and text in p.read_bytes()]


def test_delete_data_removes_the_library_and_keeps_the_models(home: Path,
                                                              medsearch: Any) -> None:
    assert SECRET in (NOTES / "warfarin_clinic.md").read_text(encoding="utf-8")
    out = medsearch(home, "index", str(NOTES), "-q", "--json")
    assert out.returncode == 0, out.stderr
    (home / "comparisons" / "run1").mkdir(parents=True)
    (home / "comparisons" / "run1" / "report.json").write_text(json.dumps({"q": SECRET}))
    (home / "models").mkdir(exist_ok=True)
    (home / "models" / "extra.Q8_0.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    assert _files_holding(home, b"recheck INR in three days")

    refused = medsearch(home, "delete-data")  # no terminal to ask, no --yes: nothing happens
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert (home / "library.sqlite3").exists()

    done = medsearch(home, "delete-data", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    rep = json.loads(done.stdout)
    names = {r["name"] for r in rep["removed"]}
    assert {"library.sqlite3", "indexes", "comparisons"} <= names and "models" not in names
    assert rep["models_kept"] is True
    assert sorted(p.name for p in home.iterdir()) == ["models"]
    assert (home / "models" / "extra.Q8_0.gguf").exists()
    assert _files_holding(home, b"recheck INR in three days") == []
    lib = json.loads(medsearch(home, "library", "--json").stdout)
    assert lib["documents"] == [] and lib["chunks"] == 0 and lib["consistent"]
