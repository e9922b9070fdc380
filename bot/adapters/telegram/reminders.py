"""The reminder tick in Telegram: SQLite says who is due, python-telegram-bot sends."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from backchain.bot.adapters.heartbeat import beat
from backchain.bot.adapters.telegram.app import BotData, Context, Wiring, keyboard
from backchain.bot.adapters.telegram.sending import BULK
from backchain.bot.chat.reminder_ticker import SendStatus, tick
from backchain.bot.chat.reminders import quiet_today, reminder_replies
from backchain.storage.database import is_busy
from backchain.storage.reminders import Reminder
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

logger = logging.getLogger(__name__)

# Handled updates are forgotten after a day; looking for them once an hour is enough.
INBOX_PRUNE_SECONDS = 3600


def start_reminder_tick(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """One repeating job; the reminders themselves live in SQLite, so a restart loses none."""
    settings = application.bot_data.settings
    assert application.job_queue is not None, "install python-telegram-bot[job-queue]"
    application.job_queue.run_repeating(
        reminder_job, interval=settings.reminder_tick_seconds, first=0.5, name="reminder-tick"
    )


async def reminder_job(context: Context) -> None:
    """Send every reminder that is due now, then refresh the health heartbeat."""
    wiring = context.bot_data.wiring
    services = wiring.services

    async def send(reminder: Reminder) -> SendStatus:
        if reminder.chat_id < 0:
            return SendStatus.BLOCKED  # a group: nothing personal is ever sent there
        await wiring.bulk_pace.acquire()
        try:
            user = services.users.get(reminder.user_id)
            # Bulk: reminders draw on their own share of the send budget, so interactive
            # replies keep theirs during a burst.
            for reply in reminder_replies(services, user):
                await context.bot.send_message(
                    reminder.chat_id,
                    reply.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(reply),
                    rate_limit_args=BULK,
                )
        except Forbidden:
            return SendStatus.BLOCKED
        except (TelegramError, LookupError) as exc:
            logger.warning("reminder for one user failed: %s", exc)
            return SendStatus.FAILED
        return SendStatus.SENT

    try:
        await tick_and_record(wiring, send)
    except Exception as exc:
        if not is_busy(exc):
            raise
        # What is still due stays due; the next tick sends it.
        logger.warning("reminders wait for the next tick: the database is locked")
        return
    beat(wiring.settings.db_path)


async def tick_and_record(
    wiring: Wiring, send: Callable[[Reminder], Awaitable[SendStatus]]
) -> None:
    services = wiring.services
    report = await tick(services.reminders, services.clock(), send, quiet_today(services))
    if report.due:
        logger.info("reminders: %s", report)
        counts = {
            "sent": report.sent,
            "failed": report.failed,
            "blocked": report.blocked,
            "skipped": report.skipped,
        }
        services.storage.figures.record_reminder_outcomes(
            services.clock().date().isoformat(), counts
        )
        for result, count in counts.items():
            if count:
                wiring.metrics.reminders.labels(result).inc(count)
    since = time.monotonic() - wiring.inbox_pruned_at
    if not wiring.inbox_pruned_at or since > INBOX_PRUNE_SECONDS:
        wiring.inbox.prune()
        wiring.inbox_pruned_at = time.monotonic()
