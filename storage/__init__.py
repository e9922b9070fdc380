"""SQLite persistence for Backchain, over sqlite-utils: the only package that runs SQL."""

from backchain.storage.database import StorageError, open_database
from backchain.storage.store import Storage

__all__ = ["Storage", "StorageError", "open_database"]
