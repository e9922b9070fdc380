"""Opening the database: WAL mode, foreign keys, and the schema migrated on start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from backchain.storage.errors import StorageError
from backchain.storage.schema import migrations

__all__ = ["StorageError", "open_database"]


def open_database(path: str | Path | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path`, or an in-memory one for None/":memory:"."""
    try:
        if path is None or str(path) == ":memory:":
            db = sqlite_utils.Database(memory=True)
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: the Telegram adapter runs one asyncio loop, but the
            # reminder ticker and the chart renderer may run in worker threads.
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            db = sqlite_utils.Database(conn)
            db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        migrations.apply(db)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return db
