"""Settings: round trip under MEDSEARCH_HOME, migration of old files, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

from medsearch_app.core.settings import SCHEMA_VERSION, Settings, data_home, migrate


def test_home_comes_from_the_environment(home: Path) -> None:
    assert data_home() == home
    assert Settings.path() == home / "settings.json"


def test_defaults_without_a_file(home: Path) -> None:
    s = Settings.load()
    assert s == Settings()
    assert s.schema_version == SCHEMA_VERSION and s.precision == "fp32"
    assert not (home / "settings.json").exists()  # loading never writes


def test_round_trip(home: Path) -> None:
    s = Settings(model_path="/models/x.gguf", precision="int8", retrieval_mode="dense",
                 top_k=9, temperature=0.3, threads=3, models_folders=["/a", "/b"],
                 library_roots=["/docs"], demo_installed=True)
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


def test_damaged_file_falls_back_to_defaults(home: Path) -> None:
    (home / "settings.json").write_text("{ not json", encoding="utf-8")
    assert Settings.load() == Settings()


def test_atomic_write_leaves_no_temp_file(home: Path) -> None:
    Settings(top_k=3).save()
    Settings(top_k=4).save()
    assert sorted(p.name for p in home.iterdir()) == ["settings.json"]
    assert Settings.load().top_k == 4
