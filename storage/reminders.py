"""Daily reminder settings and their schedule, one row per user.

`next_due` (a UTC instant, encoded as `storage.times` encodes every instant) is the whole
schedule: a reminder is due when it is enabled and `next_due <= now`. Every move of `next_due`
made on behalf of a send is a conditional UPDATE (`WHERE next_due = <the value the caller
saw>`), so two tickers, or one ticker before and after a restart, can never both act on the same
due instant.

Storage keeps no reminder rules: callers pass every instant already computed (the bot's
`ReminderSchedule` does, from `routine.schedule`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import from_db_time, maybe_from_db_time, to_db_time

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


# A reminder as the caller saw it, and the next_due the caller computed for it.
Move = tuple[Reminder, datetime]


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
            [to_db_time(now), *([] if user_id is None else [user_id]), limit],
        ).fetchall()
        return [_reminder(row) for row in rows]

    def set_daily(
        self, user_id: int, chat_id: int, local_time: time, zone: str, first_due: datetime
    ) -> Reminder:
        """Turn on the daily reminder at `local_time` in `zone` (also the user's zone from now),
        first due at `first_due`."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO reminders (user_id, chat_id, local_time, timezone, enabled, next_due)"
                " VALUES (?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id,"
                " local_time = excluded.local_time, timezone = excluded.timezone, enabled = 1,"
                " next_due = excluded.next_due, skip_date = NULL",
                [user_id, chat_id, _hhmm(local_time), zone, to_db_time(first_due)],
            )
            self.db.execute("UPDATE users SET timezone = ? WHERE id = ?", [zone, user_id])
        return self._require(user_id)

    def set_timezone(self, user_id: int, zone: str, moved: Move | None) -> Reminder | None:
        """Move the user to `zone`; `moved` is their reminder as seen and its next_due on the
        new wall clock (None without a reminder). A reminder changed since it was seen keeps
        its next_due; its zone still follows the user."""
        with self.db.atomic():
            self.db.execute("UPDATE users SET timezone = ? WHERE id = ?", [zone, user_id])
            self.db.execute("UPDATE reminders SET timezone = ? WHERE user_id = ?", [zone, user_id])
            if moved is not None:
                seen, next_due = moved
                self.db.execute(
                    "UPDATE reminders SET next_due = ? WHERE user_id = ? AND local_time = ?",
                    [to_db_time(next_due), user_id, _hhmm(seen.local_time)],
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

    def snooze(self, user_id: int, until: datetime) -> Reminder | None:
        """Send again at `until`; None if there is no enabled reminder."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE reminders SET next_due = ? WHERE user_id = ? AND enabled = 1",
                [to_db_time(until), user_id],
            )
        return self._enabled(user_id)

    def skip_day(self, user_id: int, day: date, next_due: datetime) -> Reminder | None:
        """No reminder on the local date `day`: the next is at `next_due`, a later date's."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE reminders SET next_due = ?, skip_date = ?"
                " WHERE user_id = ? AND enabled = 1",
                [to_db_time(next_due), day.isoformat(), user_id],
            )
        return self._enabled(user_id)

    def mark_sent_many(self, moves: Sequence[Move], sent_at: datetime) -> dict[int, datetime]:
        """Record sends in one transaction: each reminder as selected moves to its new next_due
        if the row still holds the next_due seen. Returns user id -> new next_due for the rows
        this call moved; the ticker calls it just before sending, as its claim."""
        return self._advance(moves, sent_at)

    def skip_many(self, moves: Sequence[Move]) -> dict[int, datetime]:
        """Move each reminder to its new next_due without sending (late, or already done)."""
        return self._advance(moves, None)

    def release_many(self, claims: Sequence[Move]) -> int:
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
                        to_db_time(reminder.next_due),
                        to_db_time(reminder.last_sent_at) if reminder.last_sent_at else None,
                        reminder.user_id,
                        to_db_time(claimed_due),
                    ],
                )
                released += cursor.rowcount
        return released

    def _advance(self, moves: Sequence[Move], sent_at: datetime | None) -> dict[int, datetime]:
        unique = list({reminder.user_id: (reminder, due) for reminder, due in moves}.values())
        moved: dict[int, datetime] = {}
        with self.db.atomic():
            for start in range(0, len(unique), ROWS_PER_STATEMENT):
                chunk = unique[start : start + ROWS_PER_STATEMENT]
                params: list[int | str | None] = [None if sent_at is None else to_db_time(sent_at)]
                for reminder, new_due in chunk:
                    params += [reminder.user_id, to_db_time(reminder.next_due), to_db_time(new_due)]
                rows = self.db.execute(_advance_sql(len(chunk)), params).fetchall()
                moved.update((user_id, from_db_time(due)) for user_id, due in rows)
        return moved

    def _enabled(self, user_id: int) -> Reminder | None:
        reminder = self.get(user_id)
        return reminder if reminder is not None and reminder.enabled else None

    def _require(self, user_id: int) -> Reminder:
        reminder = self.get(user_id)
        if reminder is None:
            raise LookupError(f"no reminder for user {user_id}")
        return reminder


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
        local_time=_time_of_day(local_time),
        zone=zone,
        enabled=bool(enabled),
        next_due=from_db_time(due),
        last_sent_at=maybe_from_db_time(last_sent_at),
        skip_date=date.fromisoformat(skip_date) if skip_date else None,
    )


def _hhmm(value: time) -> str:
    """The stored form of a time of day, "HH:MM"."""
    return f"{value.hour:02d}:{value.minute:02d}"


def _time_of_day(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))
