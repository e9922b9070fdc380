"""One pass of the reminder scheduler: find due reminders, decide, send, reschedule.

Transport-free: the caller passes `send`, which renders and delivers one reminder and reports how
it went. Run `tick` every minute; SQLite holds the whole schedule, so nothing is lost on restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from backchain.bot.chat.reminder_schedule import ReminderSchedule
from backchain.bot.routine.schedule import CATCH_UP_WINDOW, local_date
from backchain.storage.reminders import Reminder
from backchain.storage.sessions import SessionRepository

logger = logging.getLogger(__name__)

# Sends in flight at once, and claimed per transaction: Telegram allows about 30 messages a
# second per bot, and a crash can drop at most this many claimed reminders.
SEND_CHUNK = 30


class SendStatus(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403 Forbidden: the user blocked the bot; never retry
    FAILED = "failed"  # transient (network, 429, 5xx): retry on a later tick


Send = Callable[[Reminder], Awaitable[SendStatus]]
SessionDoneToday = Callable[[int, date], bool]


@dataclass
class TickReport:
    due: int = 0
    sent: int = 0
    skipped: int = 0  # the user already finished today's session
    late: int = 0  # more than CATCH_UP_WINDOW overdue: moved to the next day unsent
    blocked: int = 0
    failed: int = 0
    taken: int = 0  # moved by someone else between selecting and claiming


async def tick(
    repo: ReminderSchedule,
    now: datetime,
    send: Send,
    session_done_today: SessionDoneToday,
    batch: int = 1000,
    send_chunk: int = SEND_CHUNK,
    only_user: int | None = None,
) -> TickReport:
    """Handle up to `batch` due reminders at `now`; the rest wait for the next tick.

    `only_user` limits the tick to one user: the console chat must never send (and so claim)
    the reminders of Telegram users who share its database.
    """
    report = TickReport()
    due = repo.due(now, batch, only_user)
    report.due = len(due)
    late = [r for r in due if now - r.next_due > CATCH_UP_WINDOW]
    on_time = [r for r in due if now - r.next_due <= CATCH_UP_WINDOW]
    done = [r for r in on_time if session_done_today(r.user_id, local_date(now, r.zone))]
    done_ids = {r.user_id for r in done}
    to_send = [r for r in on_time if r.user_id not in done_ids]
    report.late = len(repo.skip_many(late, now))
    report.skipped = len(repo.skip_many(done, now))
    report.taken = len(late) - report.late + len(done) - report.skipped
    for start in range(0, len(to_send), send_chunk):
        await _send_chunk(repo, now, send, to_send[start : start + send_chunk], report)
    return report


async def _send_chunk(
    repo: ReminderSchedule,
    now: datetime,
    send: Send,
    chunk: Sequence[Reminder],
    report: TickReport,
) -> None:
    # Claim before sending. The conditional UPDATE lets exactly one ticker, or one run on either
    # side of a restart, own a due reminder, so none is ever sent twice. The price: a crash
    # between the claim's commit and the send drops that day's reminder for this chunk only,
    # which we prefer to a duplicate nudge. A failed send gives its claim back (retried next
    # tick); once the reminder is CATCH_UP_WINDOW late the tick skips it instead, which bounds
    # the retries to that window.
    claims = repo.mark_sent_many(chunk, now)
    claimed = [r for r in chunk if r.user_id in claims]
    report.taken += len(chunk) - len(claimed)
    statuses = await asyncio.gather(*(_send_safely(send, r) for r in claimed))
    failed: list[tuple[Reminder, datetime]] = []
    for reminder, status in zip(claimed, statuses, strict=True):
        if status is SendStatus.SENT:
            report.sent += 1
        elif status is SendStatus.BLOCKED:
            report.blocked += 1
            repo.disable_blocked(reminder.user_id)
        else:
            report.failed += 1
            failed.append((reminder, claims[reminder.user_id]))
    if failed:
        repo.release_many(failed)


async def _send_safely(send: Send, reminder: Reminder) -> SendStatus:
    try:
        return await send(reminder)
    except Exception:
        logger.exception("reminder send raised for user %s", reminder.user_id)
        return SendStatus.FAILED


def sessions_done_checker(sessions: SessionRepository) -> SessionDoneToday:
    """`(user_id, local_date) -> bool`: did the user finish a session that day, in their zone?"""
    return sessions.finished_on
