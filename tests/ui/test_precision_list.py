"""The embedder precision list in an install without torch: the torch precisions are listed,
greyed out, with the reason; the ONNX ones stay selectable."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from medsearch_app.core.embedding.base import Precision
from medsearch_app.core.embedding.embed import DEVELOPER_INSTALL
from medsearch_app.core.settings import Settings
from medsearch_app.ui.widgets import settings_panel
from medsearch_app.ui.widgets.settings_panel import SettingsPanel


def _no_torch(_path: Any, precision: Any) -> str | None:
    p = Precision(precision)
    return None if p.onnx else f"{p.value} {DEVELOPER_INSTALL}"


@pytest.mark.parametrize("torch_here", [True, False])
def test_precisions_without_torch_are_shown_with_the_reason(
        qtbot: Any, monkeypatch: pytest.MonkeyPatch, torch_here: bool) -> None:
    if not torch_here:
        monkeypatch.setattr(settings_panel, "unavailable", _no_torch)
    panel = SettingsPanel(Settings())
    qtbot.addWidget(panel)
    model = panel.precision.model()
    enabled = {panel.precision.itemText(i): model.item(i).isEnabled()  # type: ignore[attr-defined]
               for i in range(panel.precision.count())}
    assert list(enabled) == [p.value for p in Precision]
    if torch_here:
        assert all(enabled.values()) and panel.precision_missing.isHidden()
    else:
        assert enabled == {"fp32": False, "int8": False, "onnx-fp32": True, "onnx-int8": True}
        assert not panel.precision_missing.isHidden()
        assert panel.precision_missing.text().startswith("fp32 and int8: not in this install")
        tip = panel.precision.itemData(0, Qt.ItemDataRole.ToolTipRole)
        assert "developer install" in tip
    assert panel.precision.currentText() == "onnx-int8"
