"""Model packs IT installs for every user: the installed app's `models` folder and the folders
in MEDSEARCH_MODELS_PATH are searched for GGUF files, after the user's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medsearch_app.core.llm import models, packs


def test_models_path_folders_are_listed_by_the_cli(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copyfile(models.default_model_path(), pack / "clinic-pack.gguf")  # a file of its own
    env = {**os.environ, "MEDSEARCH_HOME": str(tmp_path / "home"),
           packs.MODELS_PATH_ENV: f"{tmp_path / 'missing'}{os.pathsep}{pack}"}
    r = subprocess.run([sys.executable, "-m", "medsearch_app", "models", "--json"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    paths = [m["path"] for m in json.loads(r.stdout)["models"]]
    assert str(pack / "clinic-pack.gguf") in paths, paths


def test_the_frozen_apps_models_folder_is_a_pack(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "medsearch"))
    monkeypatch.delenv(packs.MODELS_PATH_ENV, raising=False)
    assert packs.pack_folders() == [tmp_path / "models"]
    monkeypatch.setattr(sys, "frozen", False)
    assert packs.pack_folders() == []
