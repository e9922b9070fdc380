"""The durable inbox of incoming updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from backchain.storage import open_database
from backchain.storage.inbox import Inbox


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(open_database(None))


def update(update_id: int, text: str = "hi") -> dict:
    return {"update_id": update_id, "message": {"text": text}}


def test_new_updates_are_pending_until_done(inbox: Inbox) -> None:
    assert inbox.accept([update(1), update(2)]) == [1, 2]
    assert inbox.accept([update(2), update(3)]) == [3]  # sent again: stored once
    assert [u.update_id for u in inbox.pending()] == [1, 2, 3]
    inbox.done(2)
    assert [u.update_id for u in inbox.pending()] == [1, 3]
    assert inbox.pending()[0].payload == update(1)
    assert inbox.highest_id() == 3
    assert inbox.known([1, 2, 9]) == {1, 2}


def test_done_rows_keep_no_text(inbox: Inbox) -> None:
    inbox.accept([update(5, "my private words")])
    inbox.done(5)
    rows = inbox.db.execute("SELECT payload FROM update_inbox").fetchall()
    assert rows == [("{}",)]


def test_skipped_updates_are_never_pending(inbox: Inbox) -> None:
    inbox.accept([update(1)])
    inbox.skip(1, update(1))
    inbox.skip(2, update(2))
    assert inbox.pending() == []
    assert inbox.counts() == {"skipped": 2}


def test_prune_keeps_pending_and_the_newest_mark(inbox: Inbox) -> None:
    then = datetime(2026, 11, 1, tzinfo=UTC)
    inbox.accept([update(1), update(2), update(3)], now=then)
    inbox.done(1, now=then)
    inbox.done(3, now=then)
    assert inbox.prune(now=then + timedelta(days=2)) == 1
    assert inbox.highest_id() == 3
    assert [u.update_id for u in inbox.pending()] == [2]
