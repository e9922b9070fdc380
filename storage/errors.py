"""Named storage errors, importable without loading the database layer."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot be opened or migrated."""


class StorageBusy(StorageError):
    """Another process holds the database's write lock: nothing was written; try again later."""
