"""Delete all my data: everything MedSearch keeps about the user's documents and questions.

Removed from the data folder: the library database (document paths, the text of every passage,
page failures) with its journal files, every vector index, the demo library, comparison runs
and reports (they hold questions and answers), evaluation corpora and the settings. Kept: the
`models` folder (GGUF files IT installed and levels built from them: no patient data), unless
`models=True`. The answer history lives only in the open window's memory, and MedSearch writes
no log files (logs go to the terminal), so nothing else holds the user's text.

Outside the data folder: MedSearch versions before telemetry was turned off let onnxruntime
write a device id and an event cache to `~/.cache/Microsoft/DeveloperTools/.onnxruntime`. That
folder is removed too when MedSearch made it: when it is no older than the data folder's oldest
file (onnxruntime first ran when MedSearch first indexed). An older one belongs to another program
that uses onnxruntime and is left, with a message saying so.

Run it with the library closed (the window quit, no `medsearch index` running).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

KEEP = {"models"}


@dataclass(frozen=True)
class Removed:
    name: str
    files: int
    bytes: int


def _size(path: Path) -> tuple[int, int]:
    if path.is_symlink() or path.is_file():
        return 1, path.lstat().st_size
    files = total = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            files += 1
            try:
                total += Path(root, n).lstat().st_size
            except OSError:
                pass
    return files, total


def onnxruntime_telemetry_dir() -> Path:
    """Where onnxruntime's 1DS telemetry keeps its device id and event cache on Linux."""
    return Path.home() / ".cache" / "Microsoft" / "DeveloperTools" / ".onnxruntime"


def _oldest_mtime(folder: Path) -> float | None:
    times = [p.lstat().st_mtime for p in folder.rglob("*") if p.is_file()] if folder.is_dir() \
        else []
    return min(times) if times else None


def forget_onnxruntime_telemetry(home: Path, folder: Path | None = None
                                 ) -> tuple[Removed | None, str]:
    """Remove onnxruntime's telemetry folder when an older MedSearch made it (see the module
    docstring); returns what was removed and a sentence for the user ("" when there was none).
    Call it before the data folder is deleted: its age is what tells."""
    folder = folder or onnxruntime_telemetry_dir()
    if not folder.is_dir():
        return None, ""
    made, since = _oldest_mtime(folder), _oldest_mtime(home)
    if since is None or (made is not None and made < since - 60):
        return None, (f"kept {folder}: onnxruntime's telemetry data, older than your MedSearch "
                      "library, so another program made it")
    files, size = _size(folder)
    shutil.rmtree(folder)
    for parent in (folder.parent, folder.parent.parent):  # DeveloperTools, Microsoft if empty
        try:
            parent.rmdir()
        except OSError:
            break
    return Removed(str(folder), files, size), (
        f"removed {folder}: a device id and event cache onnxruntime wrote for an older "
        "MedSearch (telemetry is off now)")


def delete_user_data(home: Path, *, models: bool = False) -> list[Removed]:
    """Remove the user's data from `home`; returns what was removed (largest first)."""
    removed: list[Removed] = []
    if not home.is_dir():
        return removed
    for entry in sorted(home.iterdir()):
        if entry.name in KEEP and not models:
            continue
        files, size = _size(entry)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed.append(Removed(entry.name, files, size))
    return sorted(removed, key=lambda r: -r.bytes)
