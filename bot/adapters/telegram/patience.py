"""Waiting out a database that another process has locked, without holding up anyone else.

The event loop's connection gives up on a lock within milliseconds (see `LOOP_BUSY_TIMEOUT_MS`);
the turn that met the lock then sleeps on the loop, in that user's own turn, and tries again with
a growing pause, for a bounded time. Everyone else keeps being served meanwhile: what needs no
write goes on at once, and every waiting turn gets in as soon as the lock is released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from backchain.storage.errors import StorageBusy

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The longest the event loop itself is held by one attempt on a locked database.
LOOP_BUSY_TIMEOUT_MS = 20
FIRST_PAUSE = 0.05
LONGEST_PAUSE = 1.0


async def when_free(work: Callable[[], T], patience: float) -> T:
    """`work()`, tried again while it raises StorageBusy, for at most `patience` seconds.

    `work` must do nothing when it raises StorageBusy (a `Storage.turn` takes its lock first).
    The last StorageBusy is raised when the patience runs out.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    pause = FIRST_PAUSE
    attempts = 0
    while True:
        try:
            result = work()
        except StorageBusy:
            attempts += 1
            if loop.time() + pause > deadline:
                raise
            if attempts == 1:
                logger.info("database locked by another process; waiting up to %.0f s", patience)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
            continue
        if attempts:
            logger.info("database free again after %d attempt(s)", attempts + 1)
        return result
