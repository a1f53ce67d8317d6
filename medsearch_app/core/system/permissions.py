"""The data folder is the user's alone: folders 0700, files 0600 (POSIX).

Clinical documents, their passages, questions and answers live in the data folder, often on a
workstation shared by several people. make_private() runs once per process for each data folder:
it sets the process umask to 077, so everything MedSearch creates from then on (the database and
its journal, indexes, models built by the quantizer, settings, reports, exports) is owner-only,
and it repairs what an older version created with wider permissions. Symbolic links are not
followed. On Windows the user's profile folder already limits access: nothing is changed there.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)
DIR_MODE, FILE_MODE = 0o700, 0o600
_done: set[Path] = set()


def make_private(home: Path) -> int:
    """Owner-only permissions on `home` and everything under it; returns how many entries were
    changed. Does the walk once per folder and process."""
    if os.name != "posix":
        return 0
    os.umask(0o077)
    key = home.resolve()
    if key in _done:
        return 0
    _done.add(key)
    changed = _fix(home, DIR_MODE)
    for root, dirs, files in os.walk(home, followlinks=False):
        for name in dirs:
            changed += _fix(Path(root, name), DIR_MODE)
        for name in files:
            changed += _fix(Path(root, name), FILE_MODE)
    if changed:
        log.info("made %d entries of %s owner-only", changed, home)
    return changed


def _fix(path: Path, mode: int) -> int:
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
            return 0  # a link, or another user's file: not ours to change
        if stat.S_IMODE(st.st_mode) & 0o077 == 0:
            return 0
        # keep the owner's own bits (an executable stays executable), drop group and others
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700 | (mode & 0o600))
        return 1
    except OSError as exc:
        log.warning("cannot make %s owner-only: %s", path, exc)
        return 0
