"""Start-up checks of the database file, the online backup and the operator's figures."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils
from backchain.storage import StorageError, open_database
from backchain.storage.database import backup_database, check_usable
from backchain.storage.stats import collect, record_reminder_outcomes


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    open_database(path).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('backchain', 'm999_future', 'x')"
        )
    with pytest.raises(StorageError, match="newer Backchain"):
        open_database(path)


def test_read_only_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    open_database(path).close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(StorageError, match="cannot be written"):
        check_usable(sqlite_utils.Database(read_only))
    check_usable(open_database(path))  # a writable one passes, and nothing is left behind
    assert "_backchain_write_probe" not in open_database(path).table_names()


def test_backup_is_consistent_while_writes_go_on(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    db = open_database(path)
    db.execute("CREATE TABLE t (n INTEGER)")
    db.conn.commit()
    stop = threading.Event()

    def writer() -> None:
        other = sqlite3.connect(path)
        n = 0
        while not stop.is_set():
            other.execute("INSERT INTO t VALUES (?)", [n])
            other.commit()
            n += 1
        other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        size = backup_database(db, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    assert size > 0
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with pytest.raises(StorageError, match="already exists"):
        backup_database(db, tmp_path / "copy.db")


def test_stats_count_users_sessions_flags_and_reminders() -> None:
    db = open_database(None)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    for user_id, days_ago in ((1, 0), (2, 3), (3, 20), (4, 60)):
        created = (now - timedelta(days=days_ago)).isoformat()
        db.execute("INSERT INTO users (id, created_at) VALUES (?, ?)", [user_id, created])
        db.execute(
            "INSERT INTO questions (user_id, text, asked_at) VALUES (?, 'q', ?)",
            [user_id, created],
        )
    for status in ("finished", "finished", "abandoned"):
        db.execute(
            "INSERT INTO sessions (user_id, phase, plan, dose, current_step, status, started_at)"
            " VALUES (1, 'p', '[]', 1, 0, ?, ?)",
            [status, now.isoformat()],
        )
    db.execute(
        "INSERT INTO red_flag_events (user_id, level, rule, at) VALUES (1, 'urgent', 'r', ?)",
        [now.isoformat()],
    )
    db.execute(
        "INSERT INTO unanswered (user_id, text, normalized, asked_at) VALUES (1, 'Q', 'q', ?)",
        [now.isoformat()],
    )
    db.conn.commit()
    record_reminder_outcomes(db, now.date().isoformat(), {"sent": 5, "blocked": 1, "failed": 0})
    record_reminder_outcomes(db, now.date().isoformat(), {"sent": 2})
    stats = collect(db, now)
    assert stats.users_total == 4
    assert stats.users_new == {"1d": 1, "7d": 2, "30d": 3}
    assert stats.users_active == {"1d": 1, "7d": 2, "30d": 3}
    assert stats.adherence_percent == pytest.approx(66.7)
    assert stats.red_flags_by_level == {"urgent": 1}
    assert stats.reminders == {"sent": 7, "failed": 0, "blocked": 1, "skipped": 0}
    assert stats.top_unanswered == [{"text": "q", "count": 1}]
    assert stats.database_bytes > 0
