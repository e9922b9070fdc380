"""Chaos: the bot is SIGKILLed at random moments, with every disk write slowed, while several
people go through their guided sessions; every session still ends, each step stored once.

The bot runs under strace, which delays each write and sync so that a kill often lands inside
a transaction or between a commit and the reply. The seed is printed; set BACKCHAIN_CHAOS_SEED
to replay a run and BACKCHAIN_CHAOS_KILLS for a longer one.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO_ROOT, BotLauncher, BotProcess
from .fake_bot_api import ChatMessage, FakeBotApi
from .flows import onboard, stop_cleanly
from .user import SimulatedUser

STRACE = shutil.which("strace")
# Every write and sync waits 20 ms on its way out: about 60 times slower SQLite commits.
SLOW_WRITES = (
    "-f",
    "-qq",
    "-o",
    "/dev/null",
    "-e",
    "trace=write,pwrite64,fsync,fdatasync",
    "-e",
    "inject=write,pwrite64,fsync,fdatasync:delay_exit=20000",
)
BOTH_KITS = ("Hip & Lower Back Kit", "Foot & Lower Leg Kit")
PEOPLE = 4
DEFAULT_KILLS = 6
# How long a person waits for an answer before pressing again or asking for /session.
PATIENCE = 4.0
# A whole run may not take longer than this per kill plus a base, however unlucky.
DEADLINE_BASE = 120.0
DEADLINE_PER_KILL = 15.0

MESSAGES = yaml.safe_load((REPO_ROOT / "content" / "messages.yaml").read_text(encoding="utf-8"))
PROGRAM = yaml.safe_load((REPO_ROOT / "content" / "program.yaml").read_text(encoding="utf-8"))
NO_SESSION_FROM = int(PROGRAM["guards"]["no_session_from"])
SOMETHING_WRONG = MESSAGES["something_went_wrong"]
EXPIRED = MESSAGES["button_expired"]
PAIN_LABELS = [str(n) for n in range(11)]


def first_line(key: str) -> str:
    """The opening words of a message as the user reads it (tags dropped)."""
    line = MESSAGES[key].strip().splitlines()[0].split("{")[0]
    return line.replace("<b>", "").replace("</b>", "").strip()


SUMMARY_OPENING = first_line("summary")
PAIN_BEFORE = first_line("pain_before_question")
PAIN_AFTER = first_line("pain_after_question")


def strace_usable() -> str | None:
    """None when strace can trace a child here, else why not."""
    if STRACE is None:
        return "strace is not installed: the chaos test slows disk writes with it"
    probe = subprocess.run(
        [STRACE, "-f", "-qq", "-o", "/dev/null", "true"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        reason = probe.stderr.decode(errors="replace").strip().splitlines()[-1:]
        return f"strace cannot trace here (ptrace refused?): {' '.join(reason)}"
    return None


def bot_env(tmp_path: Path) -> dict[str, str]:
    return {"BACKCHAIN_FILES_DIR": str(tmp_path / "files"), "BACKCHAIN_TIMER_SCALE": "0.01"}


@dataclass
class Figures:
    kills: int = 0
    presses: int = 0
    commands: int = 0
    unanswered: int = 0  # actions that got no visible reply within a person's patience
    replies: int = 0
    query_ids: list[str] = field(default_factory=list)
    downtime: list[float] = field(default_factory=list)  # seconds from each kill to polling again


@dataclass
class Person:
    """Someone doing their session: looks at the newest message, does what it asks."""

    user: SimulatedUser
    rng: random.Random
    figures: Figures
    finished: bool = False
    log: list[str] = field(default_factory=list)
    expired_seen: set[int] = field(default_factory=set)  # "this button has expired" messages

    def newest(self) -> ChatMessage | None:
        return self.user.latest_bot_message()

    def summaries(self) -> int:
        """Session summaries in the chat so far."""
        return sum(
            (message.text or "").startswith(SUMMARY_OPENING) for message in self.user.bot_messages()
        )

    def choose(self, screen: ChatMessage) -> str | None:
        """The button a person presses on this message (its callback data); None: no button
        that moves the session on, so ask for the session again."""
        by_label = {button.text: button.callback_data for row in screen.buttons for button in row}
        text = screen.text or ""
        if MESSAGES["button_resume"] in by_label:
            return by_label[MESSAGES["button_resume"]]
        if list(by_label) == PAIN_LABELS and text.startswith(PAIN_BEFORE):
            return by_label[str(self.rng.randrange(NO_SESSION_FROM))]
        if list(by_label) == PAIN_LABELS and text.startswith(PAIN_AFTER):
            return by_label[str(self.rng.randrange(11))]
        if MESSAGES["button_done"] in by_label and MESSAGES["button_skip"] in by_label:
            key = self.rng.choices(
                ["button_done", "button_skip", "button_hurt"], weights=[6, 2, 2]
            )[0]
            return by_label[MESSAGES[key]]
        if MESSAGES["button_gentle_done"] in by_label:
            key = self.rng.choice(["button_gentle_done", "button_leave_area"])
            return by_label[MESSAGES[key]]
        if MESSAGES["button_leave_area"] in by_label:
            return by_label[MESSAGES["button_leave_area"]]
        return None

    async def act(self, action: Callable[[], object]) -> bool:
        """Do one thing; True when the bot visibly answered within a person's patience."""
        before = len(self.user.server.replies(self.user.user_id))
        result = action()
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, str):
            self.figures.query_ids.append(result)
        server = self.user.server
        try:
            await server.wait_for(
                lambda: len(server.replies(self.user.user_id)) > before,
                PATIENCE,
                what="an answer",
            )
        except TimeoutError:
            self.figures.unanswered += 1
            return False
        # Let a reply that comes in parts (a closed step, then the next) arrive in full.
        await asyncio.sleep(0.3)
        return True

    async def ask_for_session(self) -> bool:
        self.figures.commands += 1
        self.log.append("/session")
        return await self.act(lambda: self.user.send("/session"))

    async def press(self, screen: ChatMessage, data: str) -> bool:
        self.figures.presses += 1
        self.log.append(f"press {data} on {screen.message_id}")
        return await self.act(lambda: self.user.press_data(data, screen.message_id))

    async def do_session(self) -> None:
        """From /session to the summary, pressing again or asking again when nothing answers."""
        summaries = self.summaries()
        await self.ask_for_session()
        unanswered_in_a_row = 0
        while self.summaries() == summaries:
            await asyncio.sleep(self.rng.uniform(0.0, 0.4))  # a person reads, then taps
            screen = self.newest()
            data = self.choose(screen) if screen is not None and screen.buttons else None
            if screen is not None and (screen.text or "").startswith(EXPIRED.split(".")[0]):
                self.expired_seen.add(screen.message_id)
                data = None
            if screen is None or data is None or unanswered_in_a_row >= 2:
                answered = await self.ask_for_session()
            else:
                answered = await self.press(screen, data)
            unanswered_in_a_row = 0 if answered else unanswered_in_a_row + 1
        self.finished = True


async def kill_at_random(
    bot: BotProcess, rng: random.Random, kills: int, people: list[Person], figures: Figures
) -> None:
    """SIGKILL the bot at random moments while people are busy; start it again each time."""
    while figures.kills < kills and not all(person.finished for person in people):
        await asyncio.sleep(rng.uniform(0.2, 2.5))
        if all(person.finished for person in people):
            break
        # The bot itself is killed, not only the tracer that slows its writes.
        assert bot.bot_pid not in (None, bot.pid), "the traced bot process was not found"
        down = time.monotonic()
        code = await bot.kill()
        assert code < 0, f"the bot exited by itself ({code}) instead of being killed"
        figures.kills += 1
        await asyncio.sleep(rng.uniform(0.0, 0.5))  # the time a supervisor takes to restart
        await bot.start()
        figures.downtime.append(time.monotonic() - down)


def stored(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows from the bot's file, opened read-only as an auditor would."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        return db.execute(sql).fetchall()


@pytest.fixture
def chaos_seed() -> int:
    seed = int(os.environ.get("BACKCHAIN_CHAOS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"\nchaos seed {seed} (BACKCHAIN_CHAOS_SEED={seed} replays it)")
    return seed


async def test_sessions_survive_sigkills_with_slow_disk_writes(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
    chaos_seed: int,
) -> None:
    reason = strace_usable()
    if reason is not None:
        pytest.skip(reason)
    assert STRACE is not None
    kills = int(os.environ.get("BACKCHAIN_CHAOS_KILLS") or DEFAULT_KILLS)
    rng = random.Random(chaos_seed)
    figures = Figures()
    began = time.monotonic()

    bot = await bot_process(env=bot_env(tmp_path), prefix=(STRACE, *SLOW_WRITES))
    users = [make_user(2001 + n, f"Person{n}") for n in range(PEOPLE)]
    for person_user in users:
        await onboard(person_user, *BOTH_KITS)
    people = [Person(u, random.Random(rng.random()), figures) for u in users]

    chaos = asyncio.gather(
        kill_at_random(bot, random.Random(rng.random()), kills, people, figures),
        *(person.do_session() for person in people),
    )
    deadline = DEADLINE_BASE + DEADLINE_PER_KILL * kills
    try:
        await asyncio.wait_for(chaos, deadline)
    except TimeoutError:
        stuck = {p.user.user_id: p.log[-6:] for p in people if not p.finished}
        raise AssertionError(f"sessions not finished within {deadline}s: {stuck}") from None

    chaos_seconds = time.monotonic() - began
    await settled(fake_api, bot, figures)
    # A /session sent while the bot was down and handled after a person's summary opens
    # another session, maybe unseen if a kill came before its first message: now that the
    # kills are over, whoever still has a session open finishes it, as the bot offers.
    followed_up = 0
    for _ in range(3):
        open_ids = {row[0] for row in stored(bot.db_path, UNFINISHED_SQL)}
        if not open_ids:
            break
        followed_up += len(open_ids)
        await asyncio.wait_for(
            asyncio.gather(*(p.do_session() for p in people if p.user.user_id in open_ids)), 60
        )
        await settled(fake_api, bot, figures)
    await stop_cleanly(bot)
    seconds = time.monotonic() - began

    said = [reply.text or "" for u in users for reply in fake_api.replies(u.user_id)]
    figures.replies = len(said)
    sessions = stored(bot.db_path, "SELECT id, user_id, status, plan FROM sessions ORDER BY id")
    events = stored(bot.db_path, "SELECT session_id, step_index, step_id FROM step_events")
    duplicates = len(events) - len({(sid, index) for sid, index, _ in events})
    print(
        f"chaos: seed {chaos_seed}, {figures.kills} kills, {bot.starts} starts, "
        f"{len(people)} people, {len(sessions)} sessions ({followed_up} finished after the "
        f"kills), {figures.presses} presses, {figures.commands} /session, "
        f"{figures.unanswered} actions unanswered within {PATIENCE:.0f}s, "
        f"{sum(len(p.expired_seen) for p in people)} 'expired' seen, {figures.replies} replies, "
        f"{len(events)} steps stored, {duplicates} duplicates, "
        f"{chaos_seconds:.1f}s under chaos (down {sum(figures.downtime):.1f}s, at most "
        f"{max(figures.downtime, default=0):.1f}s a kill), {seconds:.1f}s in all"
    )

    assert not [text for text in said if SOMETHING_WRONG in text]
    assert not [line for line in bot.logs().splitlines() if "Traceback" in line]
    assert stored(bot.db_path, "SELECT update_id FROM update_inbox WHERE status = 'pending'") == []
    assert sorted({row[1] for row in sessions}) == [u.user_id for u in users]
    assert [row[2] for row in sessions] == ["finished"] * len(sessions)
    assert duplicates == 0
    for session_id, _, _, plan_json in sessions:
        plan = [step["step_id"] for step in json.loads(str(plan_json))["steps"]]
        logged = sorted((index, step_id) for sid, index, step_id in events if sid == session_id)
        assert logged == list(enumerate(plan)), (session_id, logged, plan)


UNFINISHED_SQL = "SELECT user_id FROM sessions WHERE status NOT IN ('finished', 'abandoned')"


async def settled(fake_api: FakeBotApi, bot: BotProcess, figures: Figures) -> None:
    """Every press answered and every update handled, if only by the bot that came back."""
    await fake_api.wait_for(
        lambda: all(fake_api.callback_answer(q) for q in figures.query_ids),
        30,
        what="an answer to every press",
    )
    await fake_api.wait_until_updates_confirmed(timeout=30)
    pending = "SELECT count(*) FROM update_inbox WHERE status = 'pending'"
    await fake_api.wait_for(
        lambda: stored(bot.db_path, pending) == [(0,)], 30, what="every update handled"
    )
