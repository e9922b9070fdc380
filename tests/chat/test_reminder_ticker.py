"""The reminder tick against a fresh database and an explicit clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backchain.bot.chat.reminder_schedule import ReminderSchedule
from backchain.bot.chat.reminder_ticker import SendStatus, TickReport, sessions_done_checker, tick
from backchain.storage import open_database
from backchain.storage.reminders import Reminder, ReminderRepository
from backchain.storage.sessions import SessionRepository
from sqlite_utils import Database

BERLIN = "Europe/Berlin"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


class Outbox:
    """A `send` that records every call and answers with a scripted status per user."""

    def __init__(self, statuses: dict[int, SendStatus] | None = None):
        self.statuses = statuses or {}
        self.sent: list[int] = []

    async def __call__(self, reminder: Reminder) -> SendStatus:
        await asyncio.sleep(0)
        self.sent.append(reminder.user_id)
        return self.statuses.get(reminder.user_id, SendStatus.SENT)


class Crash(BaseException):
    """The process dying mid-send (not an error the ticker may catch)."""


def never_done(user_id: int, day: date) -> bool:
    return False


def add_users(db: Database, *user_ids: int, zone: str = BERLIN) -> None:
    db["users"].insert_all(
        [{"id": u, "timezone": zone, "created_at": "2024-05-01T00:00:00+00:00"} for u in user_ids]
    )


def schedule(db: Database, *user_ids: int, at: time = time(7, 0)) -> ReminderSchedule:
    repo = ReminderSchedule(ReminderRepository(db))
    for user_id in user_ids:
        repo.set_daily(user_id, 1000 + user_id, at, BERLIN, now=berlin(2024, 5, 1, 0, 0))
    return repo


@pytest.fixture
def db() -> Database:
    database = open_database(None)
    add_users(database, 1, 2, 3)
    return database


async def test_a_due_reminder_is_sent_once(db: Database):
    repo = schedule(db, 1)
    outbox = Outbox()
    assert await tick(repo, berlin(2024, 5, 1, 6, 59), outbox, never_done) == TickReport()
    report = await tick(repo, berlin(2024, 5, 1, 7, 0), outbox, never_done)
    assert report == TickReport(due=1, sent=1)
    again = await tick(repo, berlin(2024, 5, 1, 7, 1), outbox, never_done)
    assert again == TickReport()
    assert outbox.sent == [1]
    stored = repo.get(1)
    assert stored is not None
    assert stored.next_due == berlin(2024, 5, 2, 7, 0)
    assert stored.last_sent_at == berlin(2024, 5, 1, 7, 0)


async def test_a_restarted_ticker_sends_nothing_twice(tmp_path: Path):
    path = tmp_path / "backchain.db"
    first_db = open_database(path)
    add_users(first_db, 1, 2)
    outbox = Outbox()
    await tick(schedule(first_db, 1, 2), berlin(2024, 5, 1, 7, 0), outbox, never_done)
    first_db.close()

    restarted = open_database(path)
    report = await tick(
        ReminderSchedule(ReminderRepository(restarted)),
        berlin(2024, 5, 1, 7, 1),
        outbox,
        never_done,
    )
    assert report == TickReport()
    assert sorted(outbox.sent) == [1, 2]


async def test_a_crash_mid_tick_loses_at_most_the_claimed_chunk_and_repeats_nothing(db: Database):
    repo = schedule(db, 1, 2, 3)

    async def crash_on_second(reminder: Reminder) -> SendStatus:
        if reminder.user_id == 2:
            raise Crash
        return SendStatus.SENT

    with pytest.raises(Crash):
        await tick(repo, berlin(2024, 5, 1, 7, 0), crash_on_second, never_done, send_chunk=1)
    outbox = Outbox()
    report = await tick(
        ReminderSchedule(ReminderRepository(db)), berlin(2024, 5, 1, 7, 1), outbox, never_done
    )
    # 1 went out before the crash; 2 was claimed when it died (dropped, by design); 3 goes now.
    assert outbox.sent == [3]
    assert report == TickReport(due=1, sent=1)


async def test_two_overlapping_ticks_send_each_reminder_once(db: Database):
    repo = schedule(db, 1, 2, 3)
    outbox = Outbox()
    now = berlin(2024, 5, 1, 7, 0)
    reports = await asyncio.gather(
        tick(repo, now, outbox, never_done, send_chunk=1),
        tick(ReminderSchedule(ReminderRepository(db)), now, outbox, never_done, send_chunk=1),
    )
    assert sorted(outbox.sent) == [1, 2, 3]
    assert sum(report.sent for report in reports) == 3
    # Whatever both selected, the one that lost the claim counts it as taken, not sent.
    assert sum(report.taken for report in reports) == sum(report.due for report in reports) - 3
    assert all(report.taken for report in reports[1:])


@pytest.mark.parametrize("late", [timedelta(minutes=1), timedelta(hours=1, minutes=59)])
async def test_a_reminder_less_than_the_window_late_is_sent_once(db: Database, late: timedelta):
    repo = schedule(db, 1)
    outbox = Outbox()
    now = berlin(2024, 5, 1, 7, 0) + late
    assert await tick(repo, now, outbox, never_done) == TickReport(due=1, sent=1)
    assert await tick(repo, now + timedelta(minutes=1), outbox, never_done) == TickReport()
    assert outbox.sent == [1]
    assert repo.get(1).next_due == berlin(2024, 5, 2, 7, 0)


@pytest.mark.parametrize(
    ("now", "next_due"),
    [
        (berlin(2024, 5, 1, 9, 1), berlin(2024, 5, 2, 7, 0)),  # down a little over two hours
        (berlin(2024, 5, 3, 6, 0), berlin(2024, 5, 3, 7, 0)),  # down for two days
    ],
)
async def test_a_reminder_more_than_the_window_late_is_skipped(
    db: Database, now: datetime, next_due: datetime
):
    repo = schedule(db, 1)
    outbox = Outbox()
    assert await tick(repo, now, outbox, never_done) == TickReport(due=1, late=1)
    assert outbox.sent == []
    stored = repo.get(1)
    assert stored is not None
    assert stored.next_due == next_due
    assert stored.last_sent_at is None


async def test_a_blocked_user_is_disabled_and_never_retried(db: Database):
    repo = schedule(db, 1, 2)
    outbox = Outbox({1: SendStatus.BLOCKED})
    report = await tick(repo, berlin(2024, 5, 1, 7, 0), outbox, never_done)
    assert report == TickReport(due=2, sent=1, blocked=1)
    assert not repo.get(1).enabled
    await tick(repo, berlin(2024, 5, 2, 7, 0), outbox, never_done)
    assert outbox.sent == [1, 2, 2]


async def test_a_failed_send_is_retried_until_the_window_closes(db: Database):
    repo = schedule(db, 1)
    outbox = Outbox({1: SendStatus.FAILED})
    start = berlin(2024, 5, 1, 7, 0)
    assert await tick(repo, start, outbox, never_done) == TickReport(due=1, failed=1)
    assert repo.get(1).next_due == start  # still due
    assert repo.get(1).last_sent_at is None
    await tick(repo, start + timedelta(minutes=1), outbox, never_done)
    assert outbox.sent == [1, 1]
    giving_up = await tick(repo, start + timedelta(hours=2, minutes=1), outbox, never_done)
    assert giving_up == TickReport(due=1, late=1)
    assert outbox.sent == [1, 1]
    assert repo.get(1).next_due == berlin(2024, 5, 2, 7, 0)


async def test_a_send_that_raises_counts_as_failed(db: Database):
    repo = schedule(db, 1)

    async def broken(reminder: Reminder) -> SendStatus:
        raise ConnectionError("network down")

    report = await tick(repo, berlin(2024, 5, 1, 7, 0), broken, never_done)
    assert report == TickReport(due=1, failed=1)
    assert repo.get(1).next_due == berlin(2024, 5, 1, 7, 0)


async def test_session_done_today_advances_without_sending(db: Database):
    repo = schedule(db, 1, 2, at=time(20, 0))
    finish_session(db, 1, "2024-05-01T05:30:00+00:00")
    outbox = Outbox()
    report = await tick(
        repo, berlin(2024, 5, 1, 20, 0), outbox, sessions_done_checker(SessionRepository(db))
    )
    assert report == TickReport(due=2, sent=1, skipped=1)
    assert outbox.sent == [2]
    assert repo.get(1).next_due == berlin(2024, 5, 2, 20, 0)
    report = await tick(
        repo, berlin(2024, 5, 2, 20, 0), outbox, sessions_done_checker(SessionRepository(db))
    )
    assert report == TickReport(due=2, sent=2)


def finish_session(db: Database, user_id: int, finished_at: str, status: str = "finished") -> None:
    db["sessions"].insert(
        {
            "user_id": user_id,
            "phase": "release",
            "plan": "[]",
            "dose": 1.0,
            "current_step": 0,
            "status": status,
            "started_at": finished_at,
            "finished_at": finished_at,
        }
    )


@pytest.mark.parametrize(
    ("finished_at", "status", "day", "done"),
    [
        ("2024-05-01T05:30:00+00:00", "finished", date(2024, 5, 1), True),
        ("2024-05-01T22:30:00+00:00", "finished", date(2024, 5, 2), True),  # 00:30 in Berlin
        ("2024-05-01T22:30:00+00:00", "finished", date(2024, 5, 1), False),
        ("2024-05-01T21:30:00", "finished", date(2024, 5, 1), True),  # naive text reads as UTC
        ("2024-05-01T23:30:00-05:00", "finished", date(2024, 5, 2), True),
        ("2024-05-01T05:30:00+00:00", "abandoned", date(2024, 5, 1), False),
        ("2024-04-30T05:30:00+00:00", "finished", date(2024, 5, 1), False),
        ("not a date", "finished", date(2024, 5, 1), False),
    ],
)
def test_sessions_done_checker_uses_the_users_zone(
    db: Database, finished_at: str, status: str, day: date, done: bool
):
    finish_session(db, 1, finished_at, status)
    assert sessions_done_checker(SessionRepository(db))(1, day) is done
    assert sessions_done_checker(SessionRepository(db))(2, day) is False


async def test_snooze_sends_again_an_hour_later_then_tomorrow(db: Database):
    repo = schedule(db, 1)
    outbox = Outbox()
    await tick(repo, berlin(2024, 5, 1, 7, 0), outbox, never_done)
    repo.snooze(1, berlin(2024, 5, 1, 7, 5))
    assert await tick(repo, berlin(2024, 5, 1, 8, 4), outbox, never_done) == TickReport()
    assert await tick(repo, berlin(2024, 5, 1, 8, 5), outbox, never_done) == TickReport(
        due=1, sent=1
    )
    assert repo.get(1).next_due == berlin(2024, 5, 2, 7, 0)
    assert outbox.sent == [1, 1]


async def test_skip_today_sends_nothing_until_tomorrow(db: Database):
    repo = schedule(db, 1)
    outbox = Outbox()
    repo.skip_today(1, berlin(2024, 5, 1, 6, 0))
    for hour in (7, 12, 23):
        assert await tick(repo, berlin(2024, 5, 1, hour, 0), outbox, never_done) == TickReport()
    assert await tick(repo, berlin(2024, 5, 2, 7, 0), outbox, never_done) == TickReport(
        due=1, sent=1
    )
    assert outbox.sent == [1]


async def test_one_tick_handles_at_most_a_batch(db: Database):
    repo = schedule(db, 1, 2, 3)
    outbox = Outbox()
    now = berlin(2024, 5, 1, 7, 0)
    assert (await tick(repo, now, outbox, never_done, batch=2)).sent == 2
    assert (await tick(repo, now, outbox, never_done, batch=2)).sent == 1
    assert sorted(outbox.sent) == [1, 2, 3]


async def test_a_disabled_reminder_is_not_sent(db: Database):
    repo = schedule(db, 1)
    repo.disable(1)
    outbox = Outbox()
    assert await tick(repo, berlin(2024, 5, 1, 7, 0), outbox, never_done) == TickReport()
    assert outbox.sent == []
