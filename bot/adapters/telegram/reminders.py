"""The reminder tick in Telegram: SQLite says who is due, python-telegram-bot sends."""

from __future__ import annotations

import logging

from backchain.bot.adapters.heartbeat import beat
from backchain.bot.adapters.telegram.app import SERVICES, SETTINGS, keyboard
from backchain.bot.chat.reminder_ticker import SendStatus, tick
from backchain.bot.chat.reminders import quiet_today, reminder_replies
from backchain.bot.chat.services import Services
from backchain.storage.reminders import Reminder
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

logger = logging.getLogger(__name__)


def start_reminder_tick(application: Application) -> None:
    """One repeating job; the reminders themselves live in SQLite, so a restart loses none."""
    settings = application.bot_data[SETTINGS]
    assert application.job_queue is not None, "install python-telegram-bot[job-queue]"
    application.job_queue.run_repeating(
        reminder_job, interval=settings.reminder_tick_seconds, first=0.5, name="reminder-tick"
    )


async def reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send every reminder that is due now, then refresh the health heartbeat."""
    services: Services = context.bot_data[SERVICES]
    settings = context.bot_data[SETTINGS]

    async def send(reminder: Reminder) -> SendStatus:
        try:
            user = services.users.get(reminder.user_id)
            for reply in reminder_replies(services, user):
                await context.bot.send_message(
                    reminder.chat_id,
                    reply.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(reply),
                )
        except Forbidden:
            return SendStatus.BLOCKED
        except (TelegramError, LookupError) as exc:
            logger.warning("reminder for one user failed: %s", exc)
            return SendStatus.FAILED
        return SendStatus.SENT

    report = await tick(services.reminders, services.clock(), send, quiet_today(services))
    if report.due:
        logger.info("reminders: %s", report)
    beat(settings.db_path)
