"""Daily reminder settings and their schedule, one row per user.

`next_due` (UTC epoch seconds) is the whole schedule: a reminder is due when it is enabled and
`next_due <= now`. Every move of `next_due` made on behalf of a send is a conditional UPDATE
(`WHERE next_due = <the value the caller saw>`), so two tickers, or one ticker before and after a
restart, can never both act on the same due instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from backchain.bot.routine.schedule import (
    SNOOZE,
    format_time_of_day,
    local_date,
    next_due,
    next_due_after_today,
    parse_stored_time,
)
from sqlite_utils import Database

# Three parameters a row keeps each statement far below SQLite's 32,766-variable limit.
ROWS_PER_STATEMENT = 1000
_COLUMNS = "user_id, chat_id, local_time, timezone, enabled, next_due, last_sent_at, skip_date"


@dataclass(frozen=True)
class Reminder:
    user_id: int
    chat_id: int
    local_time: time
    zone: str
    enabled: bool
    next_due: datetime  # aware, UTC
    last_sent_at: datetime | None
    skip_date: date | None  # the local date the user last chose to skip


class ReminderRepository:
    """Reads and writes the `reminders` table."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, user_id: int) -> Reminder | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM reminders WHERE user_id = ?", [user_id]
        ).fetchone()
        return _reminder(row) if row else None

    def due(self, now: datetime, limit: int, user_id: int | None = None) -> list[Reminder]:
        """Enabled reminders due at `now`, most overdue first (served by the (enabled, next_due)
        index); only `user_id`'s when given."""
        only_user = "" if user_id is None else " AND user_id = ?"
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM reminders WHERE enabled = 1 AND next_due <= ?{only_user}"
            " ORDER BY next_due LIMIT ?",
            [_epoch(now), *([] if user_id is None else [user_id]), limit],
        ).fetchall()
        return [_reminder(row) for row in rows]

    def set_daily(
        self, user_id: int, chat_id: int, local_time: time, zone: str, now: datetime
    ) -> Reminder:
        """Turn on the daily reminder at `local_time` in `zone` (also the user's zone from now)."""
        first = next_due(local_time, zone, now)
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO reminders (user_id, chat_id, local_time, timezone, enabled, next_due)"
                " VALUES (?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id,"
                " local_time = excluded.local_time, timezone = excluded.timezone, enabled = 1,"
                " next_due = excluded.next_due, skip_date = NULL",
                [user_id, chat_id, format_time_of_day(local_time), zone, _epoch(first)],
            )
            self.db.execute("UPDATE users SET timezone = ? WHERE id = ?", [zone, user_id])
        return self._require(user_id)

    def set_timezone(self, user_id: int, zone: str, now: datetime) -> Reminder | None:
        """Move the user to `zone`, rescheduling their reminder (if any) to the new wall clock."""
        ZoneInfo(zone)  # an unknown zone raises ZoneInfoNotFoundError before anything is written
        existing = self.get(user_id)
        with self.db.atomic():
            self.db.execute("UPDATE users SET timezone = ? WHERE id = ?", [zone, user_id])
            if existing is not None:
                moved = next_due(existing.local_time, zone, now)
                self.db.execute(
                    "UPDATE reminders SET timezone = ?, next_due = ? WHERE user_id = ?",
                    [zone, _epoch(moved), user_id],
                )
        return self.get(user_id)

    def disable(self, user_id: int) -> bool:
        """Turn the reminder off; True if it was on."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE reminders SET enabled = 0 WHERE user_id = ? AND enabled = 1", [user_id]
            )
        return cursor.rowcount == 1

    def disable_blocked(self, user_id: int) -> bool:
        """The user blocked the bot: stop for good (until they set a reminder again)."""
        return self.disable(user_id)

    def snooze(self, user_id: int, now: datetime) -> Reminder | None:
        """Send again one SNOOZE from `now`; None if there is no enabled reminder."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE reminders SET next_due = ? WHERE user_id = ? AND enabled = 1",
                [_epoch(now + SNOOZE), user_id],
            )
        return self._enabled(user_id)

    def skip_today(self, user_id: int, now: datetime) -> Reminder | None:
        """No reminder for the rest of the user's local today; the next is tomorrow's."""
        current = self._enabled(user_id)
        if current is None:
            return None
        tomorrow = next_due_after_today(current.local_time, current.zone, now)
        with self.db.atomic():
            self.db.execute(
                "UPDATE reminders SET next_due = ?, skip_date = ?"
                " WHERE user_id = ? AND enabled = 1",
                [_epoch(tomorrow), local_date(now, current.zone).isoformat(), user_id],
            )
        return self._enabled(user_id)

    def mark_sent(self, user_id: int, due_at: datetime, sent_at: datetime) -> datetime | None:
        """Move a reminder due at `due_at` to its next daily time and record the send.

        Returns the new `next_due`, or None when the row no longer holds `due_at` (already moved,
        rescheduled or disabled): calling it twice changes nothing the second time.
        """
        reminder = self.get(user_id)
        if reminder is None:
            return None
        as_seen = replace(reminder, next_due=due_at.astimezone(UTC))
        return self.mark_sent_many([as_seen], sent_at).get(user_id)

    def mark_sent_many(
        self, reminders: Sequence[Reminder], sent_at: datetime
    ) -> dict[int, datetime]:
        """`mark_sent` for many reminders in one transaction: user id -> new next_due for the
        rows this call moved. The ticker calls it just before sending, as its claim."""
        return self._advance(reminders, sent_at, record_send=True)

    def skip_many(self, reminders: Sequence[Reminder], now: datetime) -> dict[int, datetime]:
        """Move each reminder to its next daily time without sending (late, or already done)."""
        return self._advance(reminders, now, record_send=False)

    def release_many(self, claims: Sequence[tuple[Reminder, datetime]]) -> int:
        """Undo `mark_sent_many` for sends that failed, so the next tick retries them.

        Each pair is the reminder as selected and the next_due the claim set; a row someone has
        changed since (rescheduled, disabled, snoozed) is left alone.
        """
        with self.db.atomic():
            released = 0
            for reminder, claimed_due in claims:
                cursor = self.db.execute(
                    "UPDATE reminders SET next_due = ?, last_sent_at = ?"
                    " WHERE user_id = ? AND next_due = ?",
                    [
                        _epoch(reminder.next_due),
                        _epoch(reminder.last_sent_at) if reminder.last_sent_at else None,
                        reminder.user_id,
                        _epoch(claimed_due),
                    ],
                )
                released += cursor.rowcount
        return released

    def _advance(
        self, reminders: Sequence[Reminder], now: datetime, *, record_send: bool
    ) -> dict[int, datetime]:
        unique = list({reminder.user_id: reminder for reminder in reminders}.values())
        following = _NextDueCache(now)
        moved: dict[int, datetime] = {}
        with self.db.atomic():
            for start in range(0, len(unique), ROWS_PER_STATEMENT):
                chunk = unique[start : start + ROWS_PER_STATEMENT]
                params: list[int | None] = [_epoch(now) if record_send else None]
                for reminder in chunk:
                    params += [reminder.user_id, _epoch(reminder.next_due)]
                    params.append(_epoch(following(reminder)))
                rows = self.db.execute(_advance_sql(len(chunk)), params).fetchall()
                moved.update((user_id, datetime.fromtimestamp(due, UTC)) for user_id, due in rows)
        return moved

    def _enabled(self, user_id: int) -> Reminder | None:
        reminder = self.get(user_id)
        return reminder if reminder is not None and reminder.enabled else None

    def _require(self, user_id: int) -> Reminder:
        reminder = self.get(user_id)
        if reminder is None:
            raise LookupError(f"no reminder for user {user_id}")
        return reminder


class _NextDueCache:
    """Next send instants for one batch: most users share a zone and a time, so most repeat."""

    def __init__(self, now: datetime):
        self.now = now
        self.known: dict[tuple[time, str, datetime], datetime] = {}

    def __call__(self, reminder: Reminder) -> datetime:
        key = (reminder.local_time, reminder.zone, max(reminder.next_due, self.now))
        if key not in self.known:
            self.known[key] = next_due(*key)
        return self.known[key]


def _advance_sql(rows: int) -> str:
    """One conditional UPDATE for `rows` (user_id, seen next_due, new next_due) triples: a row
    moves only if it still holds the next_due the caller saw."""
    values = ", ".join(["(?, ?, ?)"] * rows)
    return (
        "UPDATE reminders SET next_due = seen.new_due,"
        " last_sent_at = COALESCE(?, reminders.last_sent_at)"
        " FROM (SELECT column1 AS user_id, column2 AS old_due, column3 AS new_due"
        f" FROM (VALUES {values})) AS seen"
        " WHERE reminders.user_id = seen.user_id AND reminders.next_due = seen.old_due"
        " AND reminders.enabled = 1"
        " RETURNING reminders.user_id, reminders.next_due"
    )


def _reminder(row: tuple) -> Reminder:
    user_id, chat_id, local_time, zone, enabled, due, last_sent_at, skip_date = row
    return Reminder(
        user_id=user_id,
        chat_id=chat_id,
        local_time=parse_stored_time(local_time),
        zone=zone,
        enabled=bool(enabled),
        next_due=datetime.fromtimestamp(due, UTC),
        last_sent_at=datetime.fromtimestamp(last_sent_at, UTC) if last_sent_at else None,
        skip_date=date.fromisoformat(skip_date) if skip_date else None,
    )


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return int(moment.timestamp())
