"""A damaged settings file: the window says so, the file is kept aside, nothing is overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gui


def test_window_reports_a_damaged_settings_file(qtbot: Any, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    damaged = b'{"top_k": 7, "precision": "int8", '  # cut off mid-write
    (home / "settings.json").write_bytes(damaged)
    monkeypatch.setenv("MEDSEARCH_HOME", str(home))
    from PySide6.QtWidgets import QMessageBox

    from medsearch_app.ui.main_window import MainWindow

    win = MainWindow(install_demo=False)
    try:
        kept = sorted(home.glob("settings.json.corrupt-*"))
        assert len(kept) == 1 and kept[0].read_bytes() == damaged
        assert "damaged" in win.statusBar().currentMessage()
        boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
        assert len(boxes) == 1 and str(kept[0]) in boxes[0].text()
        assert win.settings.top_k == 5  # defaults in use
        # A change saved afterwards writes a fresh file; the damaged one stays kept aside.
        win.settings.top_k = 6
        win.settings.save()
        assert kept[0].read_bytes() == damaged
        assert '"top_k": 6' in (home / "settings.json").read_text(encoding="utf-8")
    finally:
        win.shutdown()
        win.close()
