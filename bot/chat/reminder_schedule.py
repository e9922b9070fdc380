"""The reminder rules over the reminders table: every instant is computed here, from
`routine.schedule`, and written by the storage repository, which knows no rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from backchain.bot.routine.schedule import (
    SNOOZE,
    NextDues,
    local_date,
    next_due,
    next_due_after_today,
)
from backchain.storage.reminders import Move, Reminder, ReminderRepository


class ReminderSchedule:
    """Daily reminders: set, moved, snoozed, skipped, claimed for sending and given back."""

    def __init__(self, repo: ReminderRepository):
        self.repo = repo

    def get(self, user_id: int) -> Reminder | None:
        return self.repo.get(user_id)

    def due(self, now: datetime, limit: int, user_id: int | None = None) -> list[Reminder]:
        """Enabled reminders due at `now`, most overdue first; only `user_id`'s when given."""
        return self.repo.due(now, limit, user_id)

    def set_daily(
        self, user_id: int, chat_id: int, local_time: time, zone: str, now: datetime
    ) -> Reminder:
        """Turn on the daily reminder at `local_time` in `zone` (also the user's zone from now)."""
        return self.repo.set_daily(
            user_id, chat_id, local_time, zone, next_due(local_time, zone, now)
        )

    def set_timezone(self, user_id: int, zone: str, now: datetime) -> Reminder | None:
        """Move the user to `zone`, rescheduling their reminder (if any) to the new wall clock."""
        ZoneInfo(zone)  # an unknown zone raises ZoneInfoNotFoundError before anything is written
        existing = self.repo.get(user_id)
        moved = None if existing is None else (existing, next_due(existing.local_time, zone, now))
        return self.repo.set_timezone(user_id, zone, moved)

    def disable(self, user_id: int) -> bool:
        """Turn the reminder off; True if it was on."""
        return self.repo.disable(user_id)

    def disable_blocked(self, user_id: int) -> bool:
        """The user blocked the bot: stop for good (until they set a reminder again)."""
        return self.repo.disable_blocked(user_id)

    def snooze(self, user_id: int, now: datetime) -> Reminder | None:
        """Send again one SNOOZE from `now`; None if there is no enabled reminder."""
        return self.repo.snooze(user_id, now + SNOOZE)

    def skip_today(self, user_id: int, now: datetime) -> Reminder | None:
        """No reminder for the rest of the user's local today; the next is tomorrow's."""
        current = self.repo.get(user_id)
        if current is None or not current.enabled:
            return None
        tomorrow = next_due_after_today(current.local_time, current.zone, now)
        return self.repo.skip_day(user_id, local_date(now, current.zone), tomorrow)

    def mark_sent(self, user_id: int, due_at: datetime, sent_at: datetime) -> datetime | None:
        """Move a reminder due at `due_at` to its next daily time and record the send.

        Returns the new `next_due`, or None when the row no longer holds `due_at` (already moved,
        rescheduled or disabled): calling it twice changes nothing the second time.
        """
        reminder = self.repo.get(user_id)
        if reminder is None:
            return None
        as_seen = replace(reminder, next_due=due_at.astimezone(UTC))
        return self.mark_sent_many([as_seen], sent_at).get(user_id)

    def mark_sent_many(
        self, reminders: Sequence[Reminder], sent_at: datetime
    ) -> dict[int, datetime]:
        """`mark_sent` for many reminders in one transaction: user id -> new next_due for the
        rows this call moved. The ticker calls it just before sending, as its claim."""
        return self.repo.mark_sent_many(_following(reminders, sent_at), sent_at)

    def skip_many(self, reminders: Sequence[Reminder], now: datetime) -> dict[int, datetime]:
        """Move each reminder to its next daily time without sending (late, or already done)."""
        return self.repo.skip_many(_following(reminders, now))

    def release_many(self, claims: Sequence[Move]) -> int:
        """Undo `mark_sent_many` for sends that failed, so the next tick retries them."""
        return self.repo.release_many(claims)


def _following(reminders: Sequence[Reminder], now: datetime) -> list[Move]:
    """Each reminder with the send that follows it."""
    dues = NextDues(now)
    return [(r, dues.after(r.local_time, r.zone, r.next_due)) for r in reminders]
