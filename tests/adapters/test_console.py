"""The console chat, fed a scripted conversation on standard input."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path

from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.console import LOCAL_USER, run_console

REPO = Path(__file__).resolve().parents[2]


def chat(db: Path, tmp_path: Path, *lines: str) -> str:
    out = io.StringIO()
    settings = Settings(db_path=str(db), content_dir=REPO / "content", files_dir=tmp_path / "f")
    assert run_console(settings, io.StringIO("\n".join(lines) + "\n"), out) == 0
    return out.getvalue()


def test_scripted_onboarding_question_and_session(tmp_path: Path) -> None:
    db = tmp_path / "console.db"
    transcript = chat(
        db,
        tmp_path,
        "1",  # Hip & Lower Back Kit
        "Done",  # by label
        "None of these",  # the health screen
        "Lower back",
        "why does my hip hurt",
        "/session",
        "5",  # pain before: a label wins over a button number
        "Done",
        "Done",
        "Stop for now",
    )
    assert "not a diagnosis" in transcript
    assert "[1] ✅ Hip & Lower Back Kit" in transcript
    assert "Why does my hip hurt" in transcript or "hip" in transcript.lower()
    assert "Step 1 of" in transcript and "Paused" in transcript
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT focus FROM users WHERE id = ?", [LOCAL_USER]).fetchone() == (
        "lower-back",
    )
    assert conn.execute("SELECT COUNT(*) FROM step_events").fetchone() == (2,)

    # A second run on the same database resumes the session where it stopped.
    again = chat(db, tmp_path, "/session", "Resume where I stopped")
    assert "not a diagnosis" not in again  # no second onboarding
    assert "Step 3 of" in again


def test_progress_chart_is_saved_to_a_file(tmp_path: Path) -> None:
    from backchain.bot.content import load_content
    from backchain.bot.routine.plan import plan_session

    program = load_content(REPO / "content").program
    steps = len(
        plan_session(program, program.first_phase.id, {"hip-lower-back-kit"}, "hip", 1.0).steps
    )
    db = tmp_path / "c.db"
    chat(db, tmp_path, "1", "Done", "Hip", "/session", "6", *["Done"] * steps, "3")
    transcript = chat(db, tmp_path, "/progress", "/export")
    assert "(chart saved to " in transcript and "(file saved to " in transcript
    chart = transcript.split("(chart saved to ")[1].split(")")[0]
    assert Path(chart).read_bytes()[:4] == b"\x89PNG"


def test_run_without_token_opens_the_console(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BACKCHAIN_DB": str(tmp_path / "x.db"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "backchain", "run"],
        input="sciatica\nquit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "console chat" in done.stderr
    assert "Sciatic" in done.stdout


async def test_console_prints_only_the_local_users_due_reminder(services, clock) -> None:
    from datetime import time

    from backchain.bot.adapters.console import ConsoleChat

    out = io.StringIO()
    chat = ConsoleChat(services, out)
    telegram_user = 77
    for user_id in (LOCAL_USER, telegram_user):
        services.users.ensure(user_id, clock())
        services.reminders.set_daily(user_id, user_id, time(9, 30), "UTC", clock())
    clock.advance(minutes=45)
    report = await chat.remind_if_due()
    assert report.sent == 1
    assert "Time for today's session" in out.getvalue()
    assert "Start now" in out.getvalue()
    # The Telegram user's reminder is left for the bot: still due, not claimed by the console.
    assert [r.user_id for r in services.reminders.due(clock(), 10)] == [telegram_user]
    assert (await chat.remind_if_due()).sent == 0
