"""The send budget: Telegram's rate limits, flood waits and transient failures, per chat.

A rate limiter in python-telegram-bot's sense (`BaseRateLimiter`): every Bot API call except
getUpdates passes through `process_request`.

- A 429 pauses only the chat it names (or every chat, when it names none) for `retry_after`
  seconds, then the call is made again: the message is delivered once, however many 429s come,
  until the total wait would pass `max_flood_wait`.
- 5xx answers, timeouts and network errors are retried with exponential backoff until
  `max_retry_seconds` have passed; then the error is logged with its kind and raised.
- Bulk sends (reminders) pass `rate_limit_args=BULK` and draw on a smaller share of the
  per-second budget, so interactive replies keep the rest even during a burst of reminders.
- Groups get Telegram's 20 messages a minute each; waiting for one group holds no one else.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import random
import warnings
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

BULK = "bulk"
# Only what carries a reply is retried here. Start-up calls (getMe, setMyCommands) have their
# own retry loop, and a callback query cannot be answered after about 15 s anyway.
RETRIED_PREFIXES = ("send", "edit", "copy", "forward")


def retried(endpoint: str) -> bool:
    return endpoint.startswith(RETRIED_PREFIXES) or endpoint == "deleteMessage"


def counted(endpoint: str) -> bool:
    """Calls that count against Telegram's messages-a-second limit (callback answers do not)."""
    return endpoint.startswith(RETRIED_PREFIXES) and endpoint != "sendChatAction"

JSON = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True)
class SendLimits:
    """Tuning of the send budget; the operator sets the two bounds."""

    per_second: float = 30.0  # Telegram: about 30 messages a second per bot
    bulk_per_second: float = 20.0  # at most this share goes to reminders and other bulk sends
    group_per_minute: float = 20.0  # Telegram: 20 messages a minute per group
    max_flood_wait: float = 120.0  # total seconds a message may wait out 429s before it is lost
    max_retry_seconds: float = 30.0  # total seconds of retries on 5xx, timeouts, network errors
    first_backoff: float = 0.5
    max_backoff: float = 8.0


def _flood_seconds(exc: RetryAfter) -> float:
    # The attribute's type changes in the next major version; read it without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _chat_of(data: dict[str, Any] | None) -> int | str | None:
    if not data:
        return None
    chat = data.get("chat_id")
    if isinstance(chat, int | str):
        return chat
    return None


def _is_group(chat: int | str | None) -> bool:
    # Group and supergroup ids are negative; channels are addressed by "@name" or -100... ids.
    return (isinstance(chat, int) and chat < 0) or (isinstance(chat, str) and chat.startswith("-"))


class SendEvents:
    """Hooks for metrics; all optional."""

    def __init__(self) -> None:
        self.on_flood_wait: Callable[[str], None] = lambda method: None
        self.on_retry: Callable[[str, str], None] = lambda method, kind: None
        self.on_give_up: Callable[[str, str], None] = lambda method, kind: None
        self.queue_length: Callable[[int], None] = lambda length: None


class SendBudget(BaseRateLimiter[str]):
    """Per-chat flood waits, bounded retries, a bulk share, group limits."""

    def __init__(self, limits: SendLimits | None = None, events: SendEvents | None = None):
        self.limits = limits or SendLimits()
        self.events = events or SendEvents()
        self._overall = AsyncLimiter(self.limits.per_second, 1)
        self._bulk = AsyncLimiter(self.limits.bulk_per_second, 1)
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._paused_until: dict[int | str | None, float] = {}
        self.waiting = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _group_limiter(self, chat: int | str) -> AsyncLimiter:
        limiter = self._groups.get(chat)
        if limiter is None:
            limiter = self._groups[chat] = AsyncLimiter(self.limits.group_per_minute, 60)
        return limiter

    async def _wait_pause(self, chat: int | str | None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            until = max(self._paused_until.get(chat, 0.0), self._paused_until.get(None, 0.0))
            delay = until - loop.time()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> JSON:
        loop = asyncio.get_running_loop()
        chat = _chat_of(data)
        started = loop.time()
        flood_waited = 0.0
        attempt = 0
        while True:
            self.waiting += 1
            self.events.queue_length(self.waiting)
            try:
                await self._wait_pause(chat)
                async with AsyncExitStack() as limits:
                    if _is_group(chat) and chat is not None:
                        await limits.enter_async_context(self._group_limiter(chat))
                    if rate_limit_args == BULK:
                        await limits.enter_async_context(self._bulk)
                    if counted(endpoint):
                        await limits.enter_async_context(self._overall)
                    self.waiting -= 1
                    self.events.queue_length(self.waiting)
                    try:
                        return await callback(*args, **kwargs)
                    finally:
                        self.waiting += 1
            except RetryAfter as exc:
                wait = _flood_seconds(exc)
                if flood_waited + wait > self.limits.max_flood_wait:
                    logger.warning(
                        "%s to chat %s: flood wait of %.0f s would pass the %.0f s limit; dropped",
                        endpoint,
                        chat,
                        wait,
                        self.limits.max_flood_wait,
                    )
                    self.events.on_give_up(endpoint, "flood")
                    raise
                flood_waited += wait
                # A 429 that names a chat holds only that chat; one without holds everyone.
                key = chat if chat is not None else None
                self._paused_until[key] = max(self._paused_until.get(key, 0.0), loop.time() + wait)
                self.events.on_flood_wait(endpoint)
                logger.info(
                    "%s to chat %s: flood wait %.0f s, then sent again", endpoint, chat, wait
                )
            except NetworkError as exc:
                if isinstance(exc, BadRequest) or not retried(endpoint):
                    raise
                kind = "timeout" if isinstance(exc, TimedOut) else "network"
                backoff = min(self.limits.first_backoff * 2**attempt, self.limits.max_backoff)
                backoff *= random.uniform(0.8, 1.2)
                attempt += 1
                if loop.time() + backoff - started - flood_waited > self.limits.max_retry_seconds:
                    logger.warning(
                        "%s to chat %s failed after %d tries (%s): %s",
                        endpoint,
                        chat,
                        attempt,
                        kind,
                        exc.message,
                    )
                    self.events.on_give_up(endpoint, kind)
                    raise
                self.events.on_retry(endpoint, kind)
                logger.info(
                    "%s to chat %s: %s (%s), retry %d in %.1f s",
                    endpoint,
                    chat,
                    kind,
                    exc.message,
                    attempt,
                    backoff,
                )
                await asyncio.sleep(backoff)
            finally:
                self.waiting -= 1
                self.events.queue_length(self.waiting)
