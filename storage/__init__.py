"""SQLite persistence for Backchain, over sqlite-utils: the only package that runs SQL.

The names below load on first use, so that importing `StorageError` (or any light module of
this package) never pulls in sqlite-utils and its dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backchain.storage.errors import StorageError

if TYPE_CHECKING:
    from backchain.storage.database import open_database
    from backchain.storage.store import Storage

__all__ = ["Storage", "StorageError", "open_database"]


def __getattr__(name: str) -> Any:
    if name == "Storage":
        from backchain.storage.store import Storage

        return Storage
    if name == "open_database":
        from backchain.storage.database import open_database

        return open_database
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
