"""One error family: what the user can act on, as opposed to a bug in the program.

Every error the user can do something about derives from MedSearchError, which carries the exit
code the command line returns and the message it prints (`medsearch: <message>`, no
traceback). Any other exception is a programming error: the command line logs its traceback and
says it is a bug (exit 1).

    MedSearchError            3  a file, value or model the user gave cannot be used
      BadInput                3  a value or file from the user (a ValueError too)
      UsageError              2  the command line is incomplete (what argparse cannot check)
      ResourceProblem         4  not enough memory or disk, or a missing model or library
        StorageError          4  the data folder cannot take the write (an OSError too)
    elsewhere in core: ModelLoadError, GgufError, QuantizeError, IndexProblem, NoteError (3);
    NotEnoughMemory, ModelNotFound, ModelPackageError (4)

Parsers of user-supplied values (a precision or retrieval mode typed on the command line or
stored in settings, a question file) raise BadInput with a message for the user.
"""

from __future__ import annotations

# The command line's exit codes (README "Command line"); 130 when stopped with Ctrl-C.
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_RESOURCES = 0, 1, 2, 3, 4
EXIT_STOPPED = 130


class MedSearchError(Exception):
    """Something the user can act on; `message` says what and `exit_code` is the command line's
    exit status. Subclasses set `exit_code`; the default is bad input."""

    exit_code: int = EXIT_BAD_INPUT

    @property
    def message(self) -> str:
        """The text shown to the user (the exception's own text)."""
        return str(self)


class BadInput(MedSearchError, ValueError):
    """A value or file from the user cannot be used; the message says why and what would do.

    A ValueError subclass, so callers that caught the ValueError the parsers used to raise keep
    working."""


class UsageError(MedSearchError):
    """The command's arguments are incomplete in a way argparse does not check (exit 2, as
    argparse's own usage errors)."""

    exit_code = EXIT_USAGE


class ResourceProblem(MedSearchError):
    """Not enough memory or disk space, or a missing model or part of the app (exit 4)."""

    exit_code = EXIT_RESOURCES


class StorageError(ResourceProblem, OSError):
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
