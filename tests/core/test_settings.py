"""Settings: round trip under MEDSEARCH_HOME, migration of old files, atomic writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from medsearch_app.core.settings import SCHEMA_VERSION, Settings, data_home, migrate


def test_home_comes_from_the_environment(home: Path) -> None:
    assert data_home() == home
    assert Settings.path() == home / "settings.json"


def test_defaults_without_a_file(home: Path) -> None:
    s = Settings.load()
    assert s == Settings()
    assert s.schema_version == SCHEMA_VERSION and s.precision == "onnx-int8"
    assert not (home / "settings.json").exists()  # loading never writes


def test_round_trip(home: Path) -> None:
    s = Settings(model_path="/models/x.gguf", precision="int8", retrieval_mode="dense",
                 top_k=9, temperature=0.3, threads=3, models_folders=["/a", "/b"],
                 demo_installed=True)
    s.save()
    assert (home / "settings.json").exists()
    assert Settings.load() == s
    raw = json.loads((home / "settings.json").read_text(encoding="utf-8"))
    assert raw["schema_version"] == SCHEMA_VERSION and raw["top_k"] == 9


def test_migrates_a_v1_file(home: Path) -> None:
    (home / "settings.json").write_text(json.dumps({"schema_version": 1, "model": "x", "k": 7}),
                                        encoding="utf-8")
    s = Settings.load()
    assert s.model_path == "x" and s.top_k == 7
    assert s.schema_version == SCHEMA_VERSION


def test_migrate_dict_without_version_is_v1() -> None:
    out = migrate({"model": "m.gguf", "k": 3, "precision": "int8"})
    assert out == {"model_path": "m.gguf", "top_k": 3, "precision": "int8",
                   "schema_version": SCHEMA_VERSION}


def test_current_file_is_not_rewritten_by_migration() -> None:
    raw = {"schema_version": SCHEMA_VERSION, "model_path": "a", "top_k": 4}
    assert migrate(dict(raw)) == raw


def test_unknown_keys_are_ignored(home: Path) -> None:
    (home / "settings.json").write_text(
        json.dumps({"schema_version": SCHEMA_VERSION, "top_k": 6, "from_the_future": 1}),
        encoding="utf-8")
    assert Settings.load().top_k == 6


def test_damaged_file_is_kept_aside_and_reported(home: Path) -> None:
    (home / "settings.json").write_text("{ not json", encoding="utf-8")
    s = Settings.load()
    assert s == Settings()  # defaults
    aside = sorted(home.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and re.fullmatch(r"settings\.json\.corrupt-\d{8}-\d{6}",
                                            aside[0].name)
    assert aside[0].read_text(encoding="utf-8") == "{ not json"  # the old file, untouched
    assert not (home / "settings.json").exists()
    assert s.load_warning and str(aside[0]) in s.load_warning and "damaged" in s.load_warning
    # Saving writes fresh settings and never the warning; the kept file stays.
    s.top_k = 8
    s.save()
    raw = json.loads((home / "settings.json").read_text(encoding="utf-8"))
    assert "load_warning" not in raw and raw["top_k"] == 8
    assert aside[0].exists()
    again = Settings.load()
    assert again.load_warning is None and again.top_k == 8


def test_a_json_value_that_is_not_an_object_is_damaged(home: Path) -> None:
    (home / "settings.json").write_text("[1, 2]", encoding="utf-8")
    s = Settings.load()
    assert s == Settings() and s.load_warning
    assert len(list(home.glob("settings.json.corrupt-*"))) == 1


def test_two_damaged_files_in_one_second_are_both_kept(home: Path) -> None:
    for text in ("{ one", "{ two"):
        (home / "settings.json").write_text(text, encoding="utf-8")
        assert Settings.load().load_warning
    kept = sorted(p.read_text(encoding="utf-8") for p in home.glob("settings.json.corrupt-*"))
    assert kept == ["{ one", "{ two"]


def test_a_good_file_has_no_warning(home: Path) -> None:
    Settings(top_k=2).save()
    assert Settings.load().load_warning is None


def test_library_roots_is_dropped_from_a_v2_file(home: Path) -> None:
    (home / "settings.json").write_text(
        json.dumps({"schema_version": 2, "library_roots": ["/docs"], "top_k": 6}),
        encoding="utf-8")
    s = Settings.load()
    assert s.top_k == 6 and s.load_warning is None
    assert not hasattr(s, "library_roots")
    s.save()
    raw = json.loads((home / "settings.json").read_text(encoding="utf-8"))
    assert "library_roots" not in raw and raw["schema_version"] == SCHEMA_VERSION == 4


def test_migrate_v2_drops_library_roots() -> None:
    assert migrate({"schema_version": 2, "library_roots": ["/d"], "top_k": 4}) == {
        "schema_version": SCHEMA_VERSION, "top_k": 4}


def test_v3_whole_passages_becomes_automatic_and_a_chosen_size_stays() -> None:
    """v3 saved its default source_chars 0 with every setting; v4's default is automatic."""
    assert migrate({"schema_version": 3, "source_chars": 0})["source_chars"] == -1
    assert migrate({"schema_version": 3, "source_chars": 600})["source_chars"] == 600
    assert migrate({"schema_version": 4, "source_chars": 0})["source_chars"] == 0


def test_atomic_write_leaves_no_temp_file(home: Path) -> None:
    Settings(top_k=3).save()
    Settings(top_k=4).save()
    assert sorted(p.name for p in home.iterdir()) == ["settings.json"]
    assert Settings.load().top_k == 4
