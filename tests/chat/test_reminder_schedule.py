"""The reminder schedule over the reminders table, on a fresh in-memory database per test."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from backchain.bot.chat.reminder_schedule import ReminderSchedule
from backchain.storage import open_database
from backchain.storage.reminders import ROWS_PER_STATEMENT, ReminderRepository
from sqlite_utils import Database

BERLIN = "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


def add_users(db: Database, *user_ids: int) -> None:
    db["users"].insert_all(
        [{"id": user_id, "created_at": "2024-05-01T00:00:00+00:00"} for user_id in user_ids]
    )


@pytest.fixture
def db() -> Database:
    database = open_database(None)
    add_users(database, 1, 2, 3)
    return database


@pytest.fixture
def repo(db: Database) -> ReminderSchedule:
    return ReminderSchedule(ReminderRepository(db))


def test_set_daily_schedules_the_next_local_time(repo: ReminderSchedule, db: Database):
    reminder = repo.set_daily(1, 1001, time(7, 30), BERLIN, now=berlin(2024, 5, 1, 6, 0))
    assert reminder.enabled
    assert reminder.chat_id == 1001
    assert reminder.local_time == time(7, 30)
    assert reminder.next_due == berlin(2024, 5, 1, 7, 30)
    assert repo.get(1) == reminder
    assert db["users"].get(1)["timezone"] == BERLIN


def test_set_daily_again_replaces_the_time_and_re_enables(repo: ReminderSchedule):
    repo.set_daily(1, 1001, time(7, 30), BERLIN, now=berlin(2024, 5, 1, 6, 0))
    repo.disable(1)
    reminder = repo.set_daily(1, 1002, time(20, 0), "UTC", now=berlin(2024, 5, 1, 8, 0))
    assert reminder.enabled
    assert (reminder.chat_id, reminder.zone) == (1002, "UTC")
    assert reminder.next_due == utc(2024, 5, 1, 20, 0)


def test_set_daily_needs_an_existing_user(repo: ReminderSchedule):
    with pytest.raises(Exception, match="FOREIGN KEY"):
        repo.set_daily(99, 99, time(7, 0), BERLIN, now=utc(2024, 5, 1))


def test_get_unknown_user_is_none(repo: ReminderSchedule):
    assert repo.get(1) is None


def test_set_timezone_moves_the_reminder_to_the_new_wall_clock(
    repo: ReminderSchedule, db: Database
):
    repo.set_daily(1, 1001, time(7, 0), BERLIN, now=utc(2024, 5, 1, 0, 0))
    moved = repo.set_timezone(1, "America/New_York", now=utc(2024, 5, 1, 0, 0))
    assert moved is not None
    assert moved.zone == "America/New_York"
    assert moved.next_due == utc(2024, 5, 1, 11, 0)  # 07:00 EDT
    assert db["users"].get(1)["timezone"] == "America/New_York"


def test_set_timezone_without_a_reminder_only_updates_the_user(
    repo: ReminderSchedule, db: Database
):
    assert repo.set_timezone(2, "Asia/Tokyo", now=utc(2024, 5, 1)) is None
    assert db["users"].get(2)["timezone"] == "Asia/Tokyo"


def test_disable_and_due(repo: ReminderSchedule):
    repo.set_daily(1, 1001, time(7, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    repo.set_daily(2, 1002, time(6, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    repo.set_daily(3, 1003, time(9, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    assert [r.user_id for r in repo.due(utc(2024, 5, 1, 7, 0), limit=10)] == [2, 1]
    assert [r.user_id for r in repo.due(utc(2024, 5, 1, 7, 0), limit=1)] == [2]
    assert repo.disable(2) is True
    assert repo.disable(2) is False
    assert [r.user_id for r in repo.due(utc(2024, 5, 1, 7, 0), limit=10)] == [1]
    assert repo.due(utc(2024, 5, 1, 5, 59), limit=10) == []


def test_due_uses_the_enabled_next_due_index(repo: ReminderSchedule, db: Database):
    queries: list[tuple[str, object]] = []
    with db.tracer(lambda sql, params: queries.append((sql, params))):
        repo.due(utc(2024, 5, 1), limit=10)
    ((sql, params),) = [q for q in queries if q[0].startswith("SELECT")]
    plan = db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "INDEX idx_reminders_enabled_next_due (enabled=? AND next_due<?)" in details
    assert "TEMP B-TREE" not in details  # the index also provides the order


def test_mark_sent_moves_to_the_next_day_once(repo: ReminderSchedule):
    reminder = repo.set_daily(1, 1001, time(7, 0), BERLIN, now=berlin(2024, 5, 1, 6, 0))
    sent_at = berlin(2024, 5, 1, 7, 0, 20)
    moved = repo.mark_sent(1, reminder.next_due, sent_at)
    assert moved == berlin(2024, 5, 2, 7, 0)
    stored = repo.get(1)
    assert stored is not None
    assert stored.next_due == moved
    assert stored.last_sent_at == sent_at.replace(microsecond=0)
    # The same call again (a retry, a restarted ticker) changes nothing.
    assert repo.mark_sent(1, reminder.next_due, berlin(2024, 5, 1, 7, 1)) is None
    assert repo.get(1) == stored


def test_mark_sent_ignores_a_disabled_reminder(repo: ReminderSchedule):
    reminder = repo.set_daily(1, 1001, time(7, 0), BERLIN, now=berlin(2024, 5, 1, 6, 0))
    repo.disable(1)
    assert repo.mark_sent(1, reminder.next_due, berlin(2024, 5, 1, 7, 0)) is None


def test_mark_sent_many_moves_only_rows_still_at_the_seen_time(repo: ReminderSchedule):
    now = utc(2024, 5, 1, 0, 0)
    for user_id in (1, 2, 3):
        repo.set_daily(user_id, 1000 + user_id, time(7, 0), "UTC", now=now)
    seen = repo.due(utc(2024, 5, 1, 7, 0), limit=10)
    repo.snooze(2, utc(2024, 5, 1, 7, 0))  # moved by the user in between
    moved = repo.mark_sent_many(seen, utc(2024, 5, 1, 7, 0))
    assert moved == {1: utc(2024, 5, 2, 7, 0), 3: utc(2024, 5, 2, 7, 0)}
    assert repo.mark_sent_many(seen, utc(2024, 5, 1, 7, 0)) == {}


def test_release_many_gives_a_failed_claim_back(repo: ReminderSchedule):
    reminder = repo.set_daily(1, 1001, time(7, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    moved = repo.mark_sent_many([reminder], utc(2024, 5, 1, 7, 0))
    assert repo.release_many([(reminder, moved[1])]) == 1
    assert repo.get(1) == reminder
    # A claim the user has since overridden is not clobbered.
    moved = repo.mark_sent_many([reminder], utc(2024, 5, 1, 7, 0))
    repo.set_daily(1, 1001, time(9, 0), "UTC", now=utc(2024, 5, 1, 7, 0))
    assert repo.release_many([(reminder, moved[1])]) == 0
    assert repo.get(1).next_due == utc(2024, 5, 1, 9, 0)


def test_snooze_sends_again_an_hour_later(repo: ReminderSchedule):
    repo.set_daily(1, 1001, time(7, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    snoozed = repo.snooze(1, utc(2024, 5, 1, 7, 5))
    assert snoozed is not None and snoozed.next_due == utc(2024, 5, 1, 8, 5)
    assert repo.snooze(2, utc(2024, 5, 1, 7, 5)) is None  # no reminder


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2024, 5, 1, 6, 0), berlin(2024, 5, 2, 7, 0)),  # before today's reminder
        (berlin(2024, 5, 1, 7, 10), berlin(2024, 5, 2, 7, 0)),  # while it is due or snoozed
        (berlin(2024, 5, 1, 23, 30), berlin(2024, 5, 2, 7, 0)),  # late evening
    ],
)
def test_skip_today_moves_to_tomorrow(repo: ReminderSchedule, now: datetime, expected: datetime):
    repo.set_daily(1, 1001, time(7, 0), BERLIN, now=berlin(2024, 5, 1, 0, 0))
    skipped = repo.skip_today(1, now)
    assert skipped is not None
    assert skipped.next_due == expected
    assert skipped.skip_date == date(2024, 5, 1)


def test_skip_today_and_snooze_leave_a_disabled_reminder_off(repo: ReminderSchedule):
    repo.set_daily(1, 1001, time(7, 0), BERLIN, now=berlin(2024, 5, 1, 0, 0))
    repo.disable(1)
    assert repo.skip_today(1, berlin(2024, 5, 1, 6, 0)) is None
    assert repo.snooze(1, berlin(2024, 5, 1, 6, 0)) is None
    stored = repo.get(1)
    assert stored is not None and not stored.enabled


def test_disable_blocked_turns_the_reminder_off(repo: ReminderSchedule):
    repo.set_daily(1, 1001, time(7, 0), BERLIN, now=berlin(2024, 5, 1, 0, 0))
    assert repo.disable_blocked(1) is True
    assert repo.due(berlin(2024, 5, 9), limit=10) == []


def test_skip_many_advances_without_recording_a_send(repo: ReminderSchedule):
    reminder = repo.set_daily(1, 1001, time(7, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    moved = repo.skip_many([reminder], utc(2024, 5, 3, 12, 0))  # two and a half days late
    assert moved == {1: utc(2024, 5, 4, 7, 0)}
    stored = repo.get(1)
    assert stored is not None and stored.last_sent_at is None


def test_naive_datetimes_are_refused(repo: ReminderSchedule):
    with pytest.raises(ValueError):
        repo.set_daily(1, 1001, time(7, 0), BERLIN, now=datetime(2024, 5, 1) + timedelta(0))


def test_an_unknown_zone_is_refused_before_anything_is_written(
    repo: ReminderSchedule, db: Database
):
    repo.set_daily(1, 1001, time(7, 0), BERLIN, now=utc(2024, 5, 1))
    with pytest.raises(ZoneInfoNotFoundError):
        repo.set_timezone(1, "Mars/Olympus", now=utc(2024, 5, 1))
    with pytest.raises(ZoneInfoNotFoundError):
        repo.set_daily(2, 1002, time(7, 0), "Mars/Olympus", now=utc(2024, 5, 1))
    assert db["users"].get(1)["timezone"] == BERLIN
    assert repo.get(1).zone == BERLIN
    assert repo.get(2) is None


def test_mark_sent_many_spans_several_statements_and_ignores_duplicates(db: Database):
    user_ids = range(10, 10 + 2 * ROWS_PER_STATEMENT + 5)
    add_users(db, *user_ids)
    repo = ReminderSchedule(ReminderRepository(db))
    for user_id in user_ids:
        repo.set_daily(user_id, user_id, time(7, 0), "UTC", now=utc(2024, 5, 1, 0, 0))
    seen = repo.due(utc(2024, 5, 1, 7, 0), limit=len(user_ids))
    moved = repo.mark_sent_many(seen + seen[:3], utc(2024, 5, 1, 7, 0))
    assert sorted(moved) == list(user_ids)
    assert set(moved.values()) == {utc(2024, 5, 2, 7, 0)}
    assert repo.due(utc(2024, 5, 1, 7, 0), limit=10) == []
