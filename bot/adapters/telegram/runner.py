"""Starting and running the Telegram bot: start-up checks, then long polling or a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from backchain.bot.adapters import collector
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.logsafety import configure_logging, redacted_token
from backchain.bot.adapters.telegram.app import BotData, build_application
from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

logger = logging.getLogger(__name__)

EXIT_TOKEN_REJECTED = 3
FIRST_RETRY = 1.0
MAX_RETRY = 60.0

App = Application[Any, Any, Any, Any, BotData, Any]


async def connect(application: App, stop: asyncio.Event) -> bool:
    """Initialize the bot (getMe), retrying with backoff while Telegram cannot be reached.

    True once connected; False when stopped first. InvalidToken propagates.
    """
    delay = FIRST_RETRY
    while not stop.is_set():
        try:
            await application.initialize()
            return True
        except InvalidToken:
            raise
        except (NetworkError, RetryAfter, TelegramError, OSError) as exc:
            reason = getattr(exc, "message", None) or type(exc).__name__
            logger.warning("Telegram unreachable (%s); trying again in %.0f s", reason, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, MAX_RETRY)
    return False


def _stop_event(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def _release_signals(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)


def run_telegram(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM: long polling, or a webhook when a URL is configured."""
    assert settings.token
    configure_logging(settings.token, json_lines=settings.json_logs)
    application = build_application(settings)
    collector.started()
    wiring = application.bot_data.wiring
    if settings.metrics_port:
        wiring.metrics.serve(settings.metrics_port, settings.metrics_address)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = _stop_event(loop)
    try:
        connected = loop.run_until_complete(connect(application, stop))
    except InvalidToken:
        logger.error(
            "Telegram rejected the bot token %s: check TELEGRAM_BOT_TOKEN or --token-file",
            redacted_token(settings.token),
        )
        wiring.services.close()
        loop.close()
        return EXIT_TOKEN_REJECTED
    _release_signals(loop)
    if not connected:
        wiring.services.close()
        loop.close()
        return 0
    logger.info("connected to Telegram as @%s", application.bot.username)
    if settings.webhook_url:
        from backchain.bot.adapters.telegram.webhook import run_webhook

        run_webhook(application, settings, loop)
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
    return 0
