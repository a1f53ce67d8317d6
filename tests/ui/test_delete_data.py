"""File > Delete all my data: jobs stopped, library closed, the user's data gone, window closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import shutdown_window
from ui_support import ModelEvents, UiSession


@pytest.mark.slow
def test_delete_all_data_from_the_window(qapp: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MEDSEARCH_HOME", str(home))
    from medsearch_app.ui.main_window import MainWindow

    win = MainWindow()
    win.show()
    try:
        UiSession(win, home, ModelEvents(), []).wait_ready()
        assert (home / "library.sqlite3").exists() and any((home / "indexes").iterdir())
        text = b"CURB-65"  # in the demo guideline's passages
        assert any(text in p.read_bytes() for p in home.rglob("*") if p.is_file())
        removed = win.delete_all_data()
        assert {"library.sqlite3", "indexes", "demo"} <= {r.name for r in removed}
        assert win.closed and not win.isVisible()
        assert sorted(p.name for p in home.iterdir()) in ([], ["models"])
        assert not any(text in p.read_bytes() for p in home.rglob("*") if p.is_file())
    finally:
        shutdown_window(win)
