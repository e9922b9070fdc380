"""Steps shared by the end-to-end suites: onboarding a user, stopping the bot, reading its DB."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from .conftest import BotProcess
from .user import SimulatedUser


async def stop_cleanly(bot: BotProcess) -> None:
    """SIGTERM: a clean exit, no handler error and no token in the log."""
    assert await bot.terminate() == 0
    bot.assert_token_not_logged()
    assert "error while handling an update" not in bot.logs()


def query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the bot's SQLite file directly, as an auditor would."""
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute(sql, params).fetchall()


async def onboard(user: SimulatedUser, *tools: str, focus: str = "Hip") -> None:
    """/start, tick `tools`, Done, pick `focus`; asserts the profile was saved."""
    await user.send("/start")
    await user.next_reply()
    await user.next_reply()
    for tool in tools:
        await user.press(tool)
        await user.next_reply()
    await user.press("Done")
    await user.next_reply()  # the health screen
    await user.press("None of these")
    await user.next_reply()
    await user.next_reply()  # where does it bother you most?
    await user.press(focus)
    assert "saved" in ((await user.next_reply()).text or "")
    assert "everyday things" in ((await user.next_reply()).text or "")  # optional, skipped
    await user.press("Skip")
    await user.next_reply()
