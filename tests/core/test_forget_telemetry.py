"""Delete all my data also removes the onnxruntime telemetry folder an older MedSearch let
onnxruntime write outside the data folder, and only when MedSearch made it."""

from __future__ import annotations

import os
from pathlib import Path

from medsearch_app.core.system.forget import forget_onnxruntime_telemetry


def _library(home: Path, mtime: float) -> None:
    home.mkdir(parents=True)
    (home / "library.sqlite3").write_bytes(b"x" * 10)
    os.utime(home / "library.sqlite3", (mtime, mtime))


def _telemetry(folder: Path, mtime: float) -> None:
    folder.mkdir(parents=True)
    for name in ("deviceid", "onnxruntime.db"):
        (folder / name).write_text("id")
        os.utime(folder / name, (mtime, mtime))


def test_a_telemetry_folder_made_after_the_library_is_removed(tmp_path: Path) -> None:
    home, ort = tmp_path / "data", tmp_path / "cache" / "Microsoft" / "DeveloperTools" / ".ort"
    _library(home, 1_700_000_000)
    _telemetry(ort, 1_700_000_500)  # written when the first index ran
    removed, note = forget_onnxruntime_telemetry(home, ort)
    assert removed is not None and removed.files == 2
    assert not ort.exists() and not (tmp_path / "cache" / "Microsoft").exists()
    assert "removed" in note and "older MedSearch" in note


def test_an_older_telemetry_folder_belongs_to_another_program_and_stays(tmp_path: Path) -> None:
    home, ort = tmp_path / "data", tmp_path / "cache" / ".onnxruntime"
    _library(home, 1_700_000_000)
    _telemetry(ort, 1_600_000_000)
    removed, note = forget_onnxruntime_telemetry(home, ort)
    assert removed is None and (ort / "deviceid").is_file()
    assert note.startswith("kept") and "another program" in note


def test_no_telemetry_folder_says_nothing(tmp_path: Path) -> None:
    home = tmp_path / "data"
    _library(home, 1_700_000_000)
    assert forget_onnxruntime_telemetry(home, tmp_path / "absent") == (None, "")
