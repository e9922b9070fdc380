"""Daily reminders over Telegram: set, sent once across restarts, skipped when late, stopped
when the user blocked the bot."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .conftest import BotLauncher
from .fake_bot_api import FakeBotApi
from .flows import onboard, query, stop_cleanly
from .user import SimulatedUser

TICK = 0.5
# Long enough for three ticks: a duplicate would have shown up by then.
QUIET_TICKS = 3.5 * TICK
REMINDER_TEXT = "Time for today's session"
REMINDER_BUTTONS = ["▶️ Start now", "😴 In 1 hour", "⏭ Skip today"]
USER_ID = 1001


def bot_env(tmp_path: Path) -> dict[str, str]:
    return {"BACKCHAIN_FILES_DIR": str(tmp_path / "files"), "BACKCHAIN_REMINDER_TICK": str(TICK)}


def set_next_due(db_path: Path, seconds_from_now: float) -> int:
    """Move the user's reminder in the database, as time passing would; the new epoch."""
    due = int(time.time() + seconds_from_now)
    stored = datetime.fromtimestamp(due, UTC).isoformat(timespec="seconds")  # UTC ISO text
    with closing(sqlite3.connect(db_path)) as db, db:
        db.execute("UPDATE reminders SET next_due = ? WHERE user_id = ?", (stored, USER_ID))
    return due


def reminder_row(db_path: Path) -> tuple[Any, ...]:
    rows = query(
        db_path,
        "SELECT local_time, timezone, enabled, next_due, last_sent_at FROM reminders"
        " WHERE user_id = ?",
        (USER_ID,),
    )
    assert len(rows) == 1, rows
    local_time, zone, enabled, next_due, last_sent_at = rows[0]
    # Instants are stored as UTC ISO text; the tests compare epoch seconds.
    return local_time, zone, enabled, datetime.fromisoformat(next_due).timestamp(), last_sent_at


def reminder_sends(fake_api: FakeBotApi, since: int = 0) -> list[str]:
    """Texts of every sendMessage the bot attempted that was a reminder, failed ones included."""
    return [
        str(call.params.get("text", ""))
        for call in fake_api.calls[since:]
        if call.method.lower() == "sendmessage" and REMINDER_TEXT in str(call.params.get("text"))
    ]


def far_button_label() -> str:
    """A time button well away from now, so the real schedule never fires during a test."""
    hour = datetime.now(UTC).hour
    return "20:00" if 5 <= hour <= 8 else "07:00"


async def set_reminder_by_button(user: SimulatedUser) -> str:
    label = far_button_label()
    await user.send("/remind")
    ask = await user.next_reply()
    assert "When should I remind you" in (ask.text or "")
    assert label in ask.button_labels and len(ask.button_labels) == 6
    await user.press(label)
    assert f"every day at {label}" in ((await user.next_reply()).text or "")
    assert "On rest days" in ((await user.next_reply()).text or "")  # left unanswered: quiet
    return label


async def test_time_button_stores_the_reminder(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    before = time.time()

    label = await set_reminder_by_button(user)
    await user.send("/reminders")
    shown = await user.next_reply()
    assert f"Daily reminder: {label} (UTC)" in (shown.text or "")
    assert shown.button_labels == ["🔕 Turn reminders off"]

    await stop_cleanly(bot)
    local_time, zone, enabled, next_due, last_sent_at = reminder_row(bot.db_path)
    assert (local_time, zone, enabled, last_sent_at) == (label, "UTC", 1, None)
    assert before < next_due <= before + 24 * 3600
    due = datetime.fromtimestamp(next_due, UTC)
    assert f"{due.hour:02d}:{due.minute:02d}" == label


async def test_reminder_due_while_down_is_sent_once_across_restarts(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard(user, "Hip & Lower Back Kit")
    await set_reminder_by_button(user)
    await stop_cleanly(bot)
    set_next_due(bot.db_path, -30 * 60)

    await bot.start()
    reminder = await user.next_reply(timeout=5)
    assert REMINDER_TEXT in (reminder.text or "")
    assert reminder.button_labels == REMINDER_BUTTONS
    assert await user.replies_until_idle(quiet=QUIET_TICKS) == []
    _, _, enabled, next_due, last_sent_at = reminder_row(bot.db_path)
    assert enabled == 1 and next_due > time.time() and last_sent_at is not None

    await stop_cleanly(bot)
    await bot.start()
    assert await user.replies_until_idle(quiet=QUIET_TICKS) == []
    assert len(reminder_sends(fake_api)) == 1

    await user.press("Start now")
    intro = await user.next_reply()
    assert "Today's session" in (intro.text or "")
    assert "how much pain" in ((await user.next_reply()).text or "")
    await stop_cleanly(bot)


async def test_reminder_three_hours_late_is_skipped_to_a_future_time(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard(user, "Hip & Lower Back Kit")
    label = await set_reminder_by_button(user)
    await stop_cleanly(bot)
    set_next_due(bot.db_path, -3 * 3600)

    await bot.start()
    assert await user.replies_until_idle(quiet=QUIET_TICKS) == []
    await stop_cleanly(bot)

    assert reminder_sends(fake_api) == []
    _, _, enabled, next_due, last_sent_at = reminder_row(bot.db_path)
    assert enabled == 1 and last_sent_at is None
    assert time.time() < next_due <= time.time() + 24 * 3600
    due = datetime.fromtimestamp(next_due, UTC)
    assert f"{due.hour:02d}:{due.minute:02d}" == label


async def test_user_who_blocked_the_bot_gets_reminders_switched_off(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard(user, "Hip & Lower Back Kit")
    await set_reminder_by_button(user)
    await stop_cleanly(bot)
    set_next_due(bot.db_path, -60)
    fake_api.block_chat(USER_ID)
    calls_before = len(fake_api.calls)

    await bot.start()
    refused = await fake_api.wait_for_call("sendMessage", since=calls_before, timeout=5)
    assert refused.status == 403
    await fake_api.wait_for(
        lambda: reminder_row(bot.db_path)[2] == 0, timeout=5, what="the reminder disabled"
    )
    await user.replies_until_idle(quiet=QUIET_TICKS)
    await stop_cleanly(bot)

    assert len(reminder_sends(fake_api, calls_before)) == 1
    assert reminder_row(bot.db_path)[2] == 0
    assert not any(REMINDER_TEXT in (m.text or "") for m in user.bot_messages())


async def test_typed_time_sets_the_reminder(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))

    await user.send("/remind")
    await user.next_reply()
    await user.send("25:99")
    assert "couldn't read that as a time" in ((await user.next_reply()).text or "")
    await user.send("7pm")
    confirmed = (await user.next_reply()).text or ""
    assert "every day at 19:00 (UTC)" in confirmed
    assert "/timezone" in confirmed
    assert "On rest days" in ((await user.next_reply()).text or "")

    await stop_cleanly(bot)
    local_time, zone, enabled, _, _ = reminder_row(bot.db_path)
    assert (local_time, zone, enabled) == ("19:00", "UTC", 1)


async def test_timezone_by_city_moves_the_reminder(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    label = await set_reminder_by_button(user)

    await user.send("/timezone")
    assert "Your time zone is UTC" in ((await user.next_reply()).text or "")
    await user.send("new york")
    assert "Time zone set to America/New_York" in ((await user.next_reply()).text or "")
    await user.send("/reminders")
    assert f"{label} (America/New_York)" in ((await user.next_reply()).text or "")

    await stop_cleanly(bot)
    assert query(bot.db_path, "SELECT timezone FROM users WHERE id = ?", (USER_ID,)) == [
        ("America/New_York",)
    ]
    local_time, zone, enabled, next_due, _ = reminder_row(bot.db_path)
    assert (local_time, zone, enabled) == (label, "America/New_York", 1)
    local = datetime.fromtimestamp(next_due, ZoneInfo("America/New_York"))
    assert f"{local.hour:02d}:{local.minute:02d}" == label
