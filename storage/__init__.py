"""SQLite persistence for Backchain, over sqlite-utils."""

from backchain.storage.database import StorageError, open_database

__all__ = ["StorageError", "open_database"]
