"""SQLite persistence for Backchain, over sqlite-utils."""

from storage.database import StorageError, open_database

__all__ = ["StorageError", "open_database"]
