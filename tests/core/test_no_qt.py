"""The core and the CLI never import Qt (they must run headless, without PySide6)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import pkgutil
    import sys


    class BlockQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "PySide6" or name.startswith("PySide6."):
                raise ImportError(f"Qt import blocked in a headless test: {name}")
            return None


    sys.meta_path.insert(0, BlockQt())
    import medsearch_app.cli
    import medsearch_app.core

    names = []
    for mod in pkgutil.walk_packages(medsearch_app.core.__path__, "medsearch_app.core."):
        importlib.import_module(mod.name)
        names.append(mod.name)
    parser = medsearch_app.cli.build_parser()
    args = parser.parse_args(["search", "warfarin", "--json", "--mode", "keyword"])
    assert args.mode == "keyword" and args.json
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    ui = sorted(m for m in sys.modules if m.startswith("medsearch_app.ui"))
    assert not qt and not ui, (qt, ui)
    print(len(names))
    print("\\n".join(names))
    """
)


def test_core_and_cli_import_without_qt() -> None:
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                       timeout=240, cwd=str(REPO))
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.split()
    count, names = int(lines[0]), set(lines[1:])
    assert count == len(names) >= 15
    for expected in ("medsearch_app.core.engine", "medsearch_app.core.library.indexing",
                     "medsearch_app.core.library.pdf", "medsearch_app.core.llm.runtime"):
        assert expected in names


def test_the_blocker_really_blocks() -> None:
    """Guard against a vacuous pass: the same finder makes a Qt import fail."""
    script = SCRIPT.split("import medsearch_app.cli")[0] + "import PySide6.QtCore\n"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=60, cwd=str(REPO))
    assert r.returncode != 0 and "Qt import blocked" in r.stderr
