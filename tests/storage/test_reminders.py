"""The reminders repository stores the instants it is given: no rules of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from backchain.storage import Storage
from backchain.storage.reminders import ReminderRepository


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def repo() -> ReminderRepository:
    storage = Storage.open(None)
    for user_id in (1, 2):
        storage.users.ensure(user_id, utc(2024, 5, 1))
    return storage.reminders


def test_set_daily_stores_the_given_first_instant(repo: ReminderRepository) -> None:
    reminder = repo.set_daily(1, 11, time(7, 30), "Europe/Berlin", utc(2024, 5, 3, 5, 30))
    assert (reminder.local_time, reminder.zone, reminder.enabled) == (
        time(7, 30),
        "Europe/Berlin",
        True,
    )
    assert reminder.next_due == utc(2024, 5, 3, 5, 30)


def test_advancing_moves_only_rows_still_at_the_instant_seen(repo: ReminderRepository) -> None:
    seen = repo.set_daily(1, 11, time(7, 0), "UTC", utc(2024, 5, 1, 7))
    assert repo.mark_sent_many([(seen, utc(2024, 5, 2, 7))], utc(2024, 5, 1, 7)) == {
        1: utc(2024, 5, 2, 7)
    }
    assert repo.skip_many([(seen, utc(2024, 5, 9, 7))]) == {}  # no longer at the seen instant
    stored = repo.get(1)
    assert stored is not None
    assert (stored.next_due, stored.last_sent_at) == (utc(2024, 5, 2, 7), utc(2024, 5, 1, 7))


def test_skip_day_and_snooze_store_what_they_are_given(repo: ReminderRepository) -> None:
    repo.set_daily(1, 11, time(7, 0), "UTC", utc(2024, 5, 1, 7))
    skipped = repo.skip_day(1, date(2024, 5, 1), utc(2024, 5, 2, 7))
    assert skipped is not None and skipped.skip_date == date(2024, 5, 1)
    snoozed = repo.snooze(1, utc(2024, 5, 2, 8))
    assert snoozed is not None and snoozed.next_due == utc(2024, 5, 2, 8)


def test_set_timezone_keeps_a_reminder_changed_since_it_was_seen(
    repo: ReminderRepository,
) -> None:
    seen = repo.set_daily(1, 11, time(7, 0), "UTC", utc(2024, 5, 1, 7))
    repo.set_daily(1, 11, time(9, 0), "UTC", utc(2024, 5, 1, 9))  # changed meanwhile
    moved = repo.set_timezone(1, "Asia/Tokyo", (seen, utc(2024, 5, 1, 22)))
    assert moved is not None
    assert (moved.zone, moved.next_due) == ("Asia/Tokyo", utc(2024, 5, 1, 9))


def test_naive_instants_are_refused(repo: ReminderRepository) -> None:
    with pytest.raises(ValueError):
        repo.set_daily(1, 11, time(7, 0), "UTC", datetime(2024, 5, 1, 7))


def test_users_exist_once_they_have_been_in_touch() -> None:
    storage = Storage.open(None)
    assert not storage.users.exists(5)
    storage.users.ensure(5, utc(2024, 5, 1))
    assert storage.users.exists(5)
    storage.close()
