"""A week of use over the fake Bot API, with a clock the test sets: onboarding with the activity
question, three sessions on different days, a quiet rest day, the weekly summary and its check,
/progress with a chart, /export, and /forget leaving no file behind."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .conftest import BotLauncher
from .fake_bot_api import FakeBotApi
from .flows import query, stop_cleanly
from .user import SimulatedUser

USER_ID = 1001
TICK = 0.3
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
NUDGE = "Time for today's session"


class BotClock:
    """The bot's clock: a file it reads on every call."""

    def __init__(self, path: Path, start: datetime):
        self.path = path
        self.set(start)

    def set(self, moment: datetime) -> None:
        self.now = moment
        self.path.write_text(moment.isoformat(), encoding="utf-8")

    def day(self, days: int, hour: int, minute: int = 0) -> None:
        self.set(MONDAY.replace(hour=hour, minute=minute) + timedelta(days=days))

    async def reminder_time(self, days: int, db_path: Path) -> None:
        """Just before 20:00, until the reminder waits for that day's 20:00 (missed ones of the
        days skipped over are moved on), then just after."""
        self.day(days, 19, 59)
        target = (MONDAY.replace(hour=20) + timedelta(days=days)).timestamp()
        for _ in range(100):
            rows = query(db_path, "SELECT next_due FROM reminders WHERE user_id = ?", (USER_ID,))
            # Instants are stored as UTC ISO text.
            if rows and datetime.fromisoformat(rows[0][0]).timestamp() >= target:
                break
            await asyncio.sleep(TICK / 2)
        self.set(self.now + timedelta(minutes=1, seconds=5))


def sent_texts(fake_api: FakeBotApi, since: int) -> list[str]:
    return [
        str(call.params.get("text", ""))
        for call in fake_api.calls[since:]
        if call.method.lower() == "sendmessage"
    ]


async def text(user: SimulatedUser) -> str:
    return (await user.next_reply()).text or ""


async def session(user: SimulatedUser, before: str, after: str) -> str:
    await user.send("/session")
    intro = await text(user)
    assert "Today's session" in intro
    await user.next_reply()  # the pain question
    await user.press(before)
    await user.next_reply()  # the pain question, closed in place
    step = await user.next_reply()
    while "✅ Done" in step.button_labels:
        await user.press("✅ Done")
        await user.next_reply()  # the step, closed in place
        step = await user.next_reply()
    await user.press(after)
    await user.next_reply()
    return await text(user)


async def test_a_week_of_use(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    clock = BotClock(tmp_path / "clock.txt", MONDAY)
    files = tmp_path / "files"
    env = {
        "BACKCHAIN_FILES_DIR": str(files),
        "BACKCHAIN_REMINDER_TICK": str(TICK),
        "BACKCHAIN_CLOCK_FILE": str(clock.path),
    }
    bot = await bot_process(env=env)

    # Monday: onboarding with one everyday activity, rated 3 of 10.
    await user.send("/start")
    await user.replies_until_idle(at_least=2)
    await user.press("Hip & Lower Back Kit")
    await user.next_reply()
    await user.press("Done")
    await user.next_reply()
    await user.press("None of these")
    await user.replies_until_idle(at_least=1)
    await user.press("Hip")
    assert "saved" in await text(user)
    assert "everyday things" in await text(user)
    await user.press("Name an activity")
    await user.next_reply()
    await user.send("tie my shoes")
    assert "tie my shoes" in await text(user)
    await user.press("3")
    await user.next_reply()
    await user.press("Done")
    await user.next_reply()
    # A reminder at 20:00, quiet on rest days, the weekly summary on Sundays.
    await user.send("/remind")
    await user.next_reply()
    await user.press("20:00")
    await user.replies_until_idle(at_least=2)
    await user.press("Stay quiet")
    await user.next_reply()
    await user.press("Sun")
    assert "Saved" in await text(user)

    first = await session(user, "6", "4")
    assert "Session complete" in first and "Real time on the steps" in first

    # Tuesday is a rest day: the 20:00 tick sends nothing.
    since = len(fake_api.calls)
    await clock.reminder_time(1, bot.db_path)
    await asyncio.sleep(4 * TICK)
    assert not any(NUDGE in t for t in sent_texts(fake_api, since))
    assert user.unread() == []

    # Wednesday and Friday: sessions; the 20:00 reminder after a done session stays quiet too.
    for day, before, after in ((2, "5", "4"), (4, "5", "3")):
        clock.day(day, 18, 0)
        assert "Session complete" in await session(user, before, after)
        since = len(fake_api.calls)
        await clock.reminder_time(day, bot.db_path)
        await asyncio.sleep(4 * TICK)
        assert not any(NUDGE in t for t in sent_texts(fake_api, since))

    # Sunday 20:00: the weekly summary, then the one-tap check.
    await clock.reminder_time(6, bot.db_path)
    summary = (await user.next_reply(timeout=10)).text or ""
    assert "Your week" in summary and "3 sessions in the last seven days" in summary
    assert "What changed" in summary and "Next week" in summary
    await user.press("Rate this week")
    assert "weekly check" in await text(user)
    for score in ("5", "5", "4", "4"):  # the activity, then the three PEG items
        assert "0 =" in await text(user)
        await user.press(score)
    assert "Thanks, saved" in await text(user)

    await user.send("/progress")
    progress, chart = (await user.next_reply()), (await user.next_reply())
    assert "3 sessions this week (plan: 3)" in (progress.text or "")
    assert "3.0 at first, 5.0 now" in (progress.text or "")
    assert chart.kind == "photo"

    await user.send("/export")
    note, document, _, page = [await user.next_reply() for _ in range(4)]
    assert document.kind == "document" and page.kind == "photo"
    upload = fake_api.calls_to("sendDocument")[-1].files["document"]
    with zipfile.ZipFile(io.BytesIO(upload.data)) as bundle:
        names = sorted(bundle.namelist())
        sessions_csv = bundle.read("sessions.csv").decode("utf-8")
        scores_csv = bundle.read("outcome-scores.csv").decode("utf-8")
    assert names == [
        "health-screen.csv",
        "outcome-scores.csv",
        "questions-and-warnings.csv",
        "sessions.csv",
        "steps.csv",
    ]
    assert sessions_csv.count("\n") == 4 and "dose" not in sessions_csv
    assert "tie my shoes" in scores_csv and "PEG" in scores_csv
    assert "ready to show a doctor" not in (note.text or "")
    # Sent, then removed (just after the upload returns).
    for _ in range(20):
        if not any(path.is_file() for path in files.rglob("*")):
            break
        await asyncio.sleep(0.1)
    assert not any(path.is_file() for path in files.rglob("*"))

    await user.send("/forget")
    await user.next_reply()
    await user.press("Yes")
    assert "deleted" in await text(user)
    assert not (files / str(USER_ID)).exists()
    await stop_cleanly(bot)
    for table in ("sessions", "outcome_scores", "psfs_activities", "routine_settings"):
        assert query(bot.db_path, f"SELECT COUNT(*) FROM {table}") == [(0,)]
