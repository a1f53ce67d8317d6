"""The data folder and everything in it are owner-only, also when an older version made them."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from medsearch_app.core.library.indexing import Library
from medsearch_app.core.settings import data_home
from medsearch_app.core.system import permissions

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def test_an_old_world_readable_folder_is_repaired_and_new_files_are_private(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Any) -> None:
    old_umask = os.umask(0o022)
    try:
        home = tmp_path / "home"
        (home / "indexes" / "x").mkdir(parents=True)
        (home / "library.sqlite3").write_bytes(b"")
        (home / "indexes" / "x" / "meta.json").write_text("{}")
        tool = home / "tool.sh"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
        outside = tmp_path / "shared.txt"
        outside.write_text("not ours")
        (home / "link").symlink_to(outside)
        assert _mode(home) == 0o755 and _mode(home / "library.sqlite3") == 0o644

        monkeypatch.setenv("MEDSEARCH_HOME", str(home))
        assert data_home() == home
        assert _mode(home) == _mode(home / "indexes") == _mode(home / "indexes" / "x") == 0o700
        assert _mode(home / "library.sqlite3") == _mode(home / "indexes" / "x" / "meta.json") \
            == 0o600
        assert _mode(tool) == 0o700  # the owner keeps its execute bit
        assert _mode(outside) == 0o644  # a link is not followed out of the folder
        assert permissions.make_private(home) == 0  # once per process and folder

        # What the library writes from now on is owner-only from the start.
        (home / "library.sqlite3").unlink()
        lib = Library(home, embedder)
        try:
            for _ in lib.index_paths([NOTES / "ckd_review.txt"]):
                pass
        finally:
            lib.close()
        written = [p for p in home.rglob("*") if not p.is_symlink()]
        assert any(p.name.startswith("index-") for p in written)
        for p in written:
            assert _mode(p) & 0o077 == 0, f"{p} is {oct(_mode(p))}"
    finally:
        os.umask(old_umask)
