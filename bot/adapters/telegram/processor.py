"""Updates handled concurrently, but in order for each user and each chat.

python-telegram-bot hands every update to an update processor (`BaseUpdateProcessor`). This one
lets updates of different people run side by side, so one person's slow or rate-limited reply
never holds up another's, while two updates of the same user (a double tap, a timer and a
press) or of the same group still run one after the other, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256

# Called with the update and the seconds from arrival to done, once its handler has finished.
Finished = Callable[[object, float], Awaitable[None] | None]


def ordering_keys(update: object) -> tuple[str, ...]:
    """The locks an update needs: its user's, then its chat's when that is another chat."""
    if not isinstance(update, Update):
        return ()
    keys: list[str] = []
    user = update.effective_user
    chat = update.effective_chat
    if user is not None:
        keys.append(f"user:{user.id}")
    if chat is not None and (user is None or chat.id != user.id):
        keys.append(f"chat:{chat.id}")
    return tuple(keys)


class OrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users and chats, sequential within each.

    Locks are always taken user first, then chat, with distinct name spaces, so no two updates
    can wait for each other in a cycle. `on_finished` runs after the handler returns (the durable
    inbox marks the update done there).
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        self._running: set[asyncio.Task[Any]] = set()
        self.on_finished: Finished | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.monotonic()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self.ordered(*ordering_keys(update)):
                await coroutine
        except asyncio.CancelledError:
            # Stopped before its handler finished: it stays pending in the inbox and is
            # handled on the next start.
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        finally:
            if task is not None:
                self._running.discard(task)
        if self.on_finished is not None:
            try:
                marked = self.on_finished(update, time.monotonic() - started)
                if inspect.isawaitable(marked):
                    await marked
            except Exception:
                logger.exception("could not mark an update as handled")

    def stop_after(self, grace: float) -> None:
        """On shutdown: give running handlers `grace` seconds, then cancel the rest."""
        running = list(self._running)
        if not running:
            return

        def cancel() -> None:
            left = [task for task in running if not task.done()]
            if left:
                logger.info("stopping: %d update(s) left for the next start", len(left))
            for task in left:
                task.cancel()

        asyncio.get_running_loop().call_later(grace, cancel)

    @contextlib.asynccontextmanager
    async def ordered(self, *keys: str) -> AsyncIterator[None]:
        """Hold the locks of `keys` (the same ones updates take), e.g. for a session timer."""
        async with contextlib.AsyncExitStack() as stack:
            for key in keys:
                stack.enter_context(self._lease(key))
                await stack.enter_async_context(self._locks[key])
            yield

    @contextlib.contextmanager
    def _lease(self, key: str) -> Any:
        # Locks live only while someone uses them, so the table never grows with the user count.
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            yield lock
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    @property
    def busy(self) -> bool:
        """Whether any update is being handled now."""
        return bool(self._running)

    @property
    def active_keys(self) -> int:
        return len(self._locks)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
