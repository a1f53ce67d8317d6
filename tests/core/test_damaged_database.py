"""A damaged library database is detected at open, kept aside, and the library rebuilt; the
user is told what happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parents[1] / "data" / "small_library" / "notes"


def test_a_damaged_database_is_kept_aside_and_the_library_rebuilt(home: Path,
                                                                  medsearch: Any) -> None:
    assert medsearch(home, "index", str(NOTES), "-q").returncode == 0
    db = home / "library.sqlite3"
    db.write_bytes(b"\x13" * 64 + db.read_bytes()[64:4096])  # header and first page destroyed

    broken = json.loads(medsearch(home, "library", "--json").stdout)
    assert broken["consistent"] is False and "cannot be read" in broken["problems"][0]

    out = medsearch(home, "index", str(NOTES), "-q", "--json")
    assert out.returncode == 0, out.stderr
    assert "[index] repairing: the library database was damaged" in out.stderr
    assert "kept aside as library.sqlite3.damaged-" in out.stderr
    assert list(home.glob("library.sqlite3.damaged-*"))  # the damaged file is not deleted
    assert json.loads(out.stdout)["added"] == len(list(NOTES.iterdir()))
    lib = json.loads(medsearch(home, "library", "--json").stdout)
    assert lib["consistent"] and lib["pending"] == 0 and lib["indexes"][0]["stale"] == 0
    assert len(lib["documents"]) == len(list(NOTES.iterdir()))
