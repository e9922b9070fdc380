"""A database another process has locked: one turn at a time, nothing half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backchain.storage import Storage
from backchain.storage.database import is_busy
from backchain.storage.errors import StorageBusy

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the write lock, as a second program would."""
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield other
        finally:
            other.execute("ROLLBACK")


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    opened = Storage.open(tmp_path / "b.db", busy_timeout_ms=10)
    yield opened
    opened.close()


def test_a_turn_under_another_process_lock_is_busy_and_writes_nothing(
    storage: Storage, tmp_path: Path
) -> None:
    with locked_by_another_process(tmp_path / "b.db"):
        with pytest.raises(StorageBusy), storage.turn():
            storage.users.ensure(7, NOW)
        assert not storage.db.conn.in_transaction
    assert not storage.users.exists(7)
    with storage.turn():
        storage.users.ensure(7, NOW)
    assert storage.users.exists(7)


def test_a_turn_is_one_transaction_its_repositories_nest_inside(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.turn():
        storage.users.ensure(8, NOW)  # commits a savepoint of its own...
        storage.inbox.accept([{"update_id": 1, "message": {}}])
        raise RuntimeError("the turn fails after both")
    # ...which the failed turn rolls back with everything else.
    assert not storage.users.exists(8)
    assert storage.inbox.highest_id() is None


def test_the_inbox_is_busy_rather_than_blocked_under_a_lock(
    storage: Storage, tmp_path: Path
) -> None:
    with locked_by_another_process(tmp_path / "b.db"):
        with pytest.raises(StorageBusy):
            storage.inbox.accept([{"update_id": 5, "message": {}}])
        # Reading goes on under another writer (WAL).
        assert storage.inbox.highest_id() is None
    assert storage.inbox.accept([{"update_id": 5, "message": {}}]) == [5]


def test_is_busy_tells_a_lock_from_other_errors(tmp_path: Path) -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert is_busy(locked)
    assert not is_busy(sqlite3.OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))
