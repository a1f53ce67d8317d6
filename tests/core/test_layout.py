"""The layout rules of README's contributor section, checked on the source: no import cycle
(lazy imports inside functions count), no module over 400 lines, no private name imported from
another module, and every room of core/ says what it holds. import-linter (`.ci/run`) checks the
order of the rooms."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "medsearch_app"
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_import_cycle() -> None:
    spec = importlib.util.spec_from_file_location("check_cycles",
                                                  REPO / "scripts" / "check_cycles.py")
    assert spec is not None and spec.loader is not None
    check_cycles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_cycles)
    assert check_cycles.cycles() == []


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(REPO)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_private_name_is_imported_from_another_module() -> None:
    found = []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                found += [f"{p.relative_to(REPO)}: from {'.' * node.level}{node.module or ''} "
                          f"import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []


def test_each_room_of_core_says_what_it_holds() -> None:
    rooms = [d for d in (APP / "core").iterdir() if d.is_dir() and d.name != "__pycache__"]
    assert len(rooms) >= 5
    loose = [p.name for p in (APP / "core").glob("*.py") if p.name != "__init__.py"]
    assert len(loose) <= 5, loose  # a handful of shared modules; the rest live in rooms
    for room in rooms:
        doc = ast.get_docstring(ast.parse((room / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 8, room.name
