"""Named exceptions shared across the core."""

from __future__ import annotations


class BackchainError(Exception):
    """Base class for errors the command line reports as one clear line."""


class ContentError(BackchainError):
    """A content file is missing, unreadable or invalid.

    The message names the file, the entry and the field so a therapist can find the problem.
    """

    def __init__(self, file: str, message: str, entry: str | None = None, field: str | None = None):
        self.file = file
        self.entry = entry
        self.field = field
        self.detail = message
        where = file
        if entry is not None:
            where += f": entry '{entry}'"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")
