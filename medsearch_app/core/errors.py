"""Errors that mean "the user gave something unusable" (as opposed to a bug in the program).

Parsers of user-supplied values (a precision or retrieval mode typed on the command line or
stored in settings, a question file) raise BadInput with a message for the user. The CLI turns
BadInput into exit code 3 without a traceback; any other exception is a programming error and
surfaces as one.
"""

from __future__ import annotations


class BadInput(ValueError):
    """A value or file from the user cannot be used; the message says why and what would do.

    A ValueError subclass, so callers that caught the ValueError the parsers used to raise keep
    working."""


class StorageError(OSError):
    """The data folder cannot take the write (disk full, read-only, no permission). What was
    written before stays consistent; the message says what to do."""


STORAGE_ERRNOS = {28, 30, 13, 122}  # ENOSPC, EROFS, EACCES, EDQUOT


def storage_problem(exc: BaseException, folder: object) -> StorageError | None:
    """A readable StorageError for a failed write into `folder`, or None if `exc` is not one."""
    import shutil
    import sqlite3

    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError):
        if "disk is full" in text or "database or disk is full" in text:
            kind = "full"
        elif "readonly" in text or "read-only" in text or "unable to open" in text:
            kind = "read-only"
        else:
            return None
    elif isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        named = exc.filename
        if named and not str(named).startswith(str(folder)):
            return None  # about a file elsewhere (a document folder it cannot read)
        kind = "full" if exc.errno in (28, 122) else "read-only"
    else:
        return None
    if kind == "full":
        try:
            free = f" ({shutil.disk_usage(str(folder)).free / 2**20:.0f} MiB free)"
        except OSError:
            free = ""
        msg = (f"the data folder {folder} is full{free}: free some space and run again; what "
               "was indexed before is kept")
    else:
        msg = (f"the data folder {folder} cannot be written (read-only or no permission): "
               "fix its permissions, or choose another with MEDSEARCH_HOME; what was indexed "
               "before is kept")
    return StorageError(msg)
