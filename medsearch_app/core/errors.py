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
