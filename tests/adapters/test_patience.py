"""Waiting for a locked database: bounded, and never on the event loop's time."""

from __future__ import annotations

import asyncio

import pytest
from backchain.bot.adapters.telegram.patience import when_free
from backchain.storage.errors import StorageBusy


async def test_tries_again_until_the_lock_is_gone_while_others_run() -> None:
    attempts: list[float] = []
    ticks = 0

    def work() -> str:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) < 4:
            raise StorageBusy("database is locked")
        return "stored"

    async def someone_else() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    other = asyncio.create_task(someone_else())
    assert await when_free(work, patience=5.0) == "stored"
    other.cancel()
    assert len(attempts) == 4
    assert ticks >= 20  # the loop served someone else all along (pauses of 0.05, 0.1, 0.2 s)


async def test_gives_up_after_its_patience() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    def never_free() -> None:
        raise StorageBusy("database is locked")

    with pytest.raises(StorageBusy):
        await when_free(never_free, patience=0.4)
    assert 0.1 < loop.time() - started <= 0.5


async def test_other_errors_are_not_retried() -> None:
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("not a lock")

    with pytest.raises(ValueError):
        await when_free(broken, patience=5.0)
    assert calls == 1
