"""Backchain beside a minimal echo bot under open-loop load, against the fake Bot API.

Run: python -m benchmarks.load [--rates 5 15 25] [--seconds 20] [--burst 2000]

For each bot (the python-telegram-bot echo bot in benchmarks/echo_bot.py, then Backchain) and
each rate, messages arrive on a fixed schedule whatever the bot's speed (open loop): questions
and button presses mixed, every message from a user of its own, so its latency is the time to the
first reply in that chat. Printed per rate: p50/p95/p99 latency, replies lost (none within
10 s of the end), CPU seconds of the bot process per 1,000 messages, its RSS, and Backchain's
p95 as a multiple of the echo bot's.

With --burst N, Backchain is then measured again at the lowest rate while N reminders fall due
at once (the reminder tick runs every second): interactive p95 during the burst against the
same rate without it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = (
    "why does my hip hurt",
    "my lower back is stiff in the morning",
    "how do I use a massage ball on my glutes",
    "tight hamstrings after running",
    "what is sciatica",
    "pain in my knee when climbing stairs",
    "is it ok to foam roll every day",
    "my back hurts after sitting all day",
)
PRESS_SHARE = 0.3
PRESS_DATA = "t:show:hip-pain"
LOSS_WAIT = 10.0
HZ = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    bot: str
    rate: float
    sent: int
    latencies: list[float]
    cpu_seconds: float
    rss_mb: float

    @property
    def lost(self) -> int:
        return self.sent - len(self.latencies)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        per_thousand = self.cpu_seconds / max(self.sent, 1) * 1000
        return (
            f"{self.bot:10s} {self.rate:5.0f}/s  n={self.sent:4d}  "
            f"p50 {self.pct(0.5) * 1000:7.1f} ms  p95 {self.pct(0.95) * 1000:7.1f} ms  "
            f"p99 {self.pct(0.99) * 1000:7.1f} ms  lost {self.lost:3d}  "
            f"CPU {per_thousand:5.1f} s/1000  RSS {self.rss_mb:5.0f} MB"
        )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            "MPLBACKEND": "Agg",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    env.update(extra)
    return env


class Bot:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, server: FakeBotApi) -> None:
        before = server.get_updates_count
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        await server.wait_for(
            lambda: server.get_updates_count > before, 60, what=f"{self.name} polling"
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        for _ in range(200):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.05)
        self.process.kill()


async def offer_load(
    server: FakeBotApi, bot: Bot, rate: float, seconds: float, first_user: int
) -> Result:
    """Open loop: one message every 1/rate seconds, each from a new user."""
    rng = random.Random(first_user)
    loop = asyncio.get_running_loop()
    count = int(rate * seconds)
    users = list(range(first_user, first_user + count))
    pushed: dict[int, float] = {}
    latencies: dict[int, float] = {}
    for user in users:
        server.register_user(user, f"U{user}")
    cpu_before = cpu_seconds(bot.pid)
    started = loop.time()

    async def watch() -> None:
        while len(latencies) < count:
            now = loop.time()
            for user, at in pushed.items():
                if user not in latencies and server.replies(user):
                    latencies[user] = now - at
            if pushed and now - max(pushed.values()) > LOSS_WAIT and len(pushed) == count:
                return
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    for index, user in enumerate(users):
        delay = started + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if rng.random() < PRESS_SHARE:
            server.push_callback(user, 1, PRESS_DATA)
        else:
            server.push_message(user, rng.choice(QUESTIONS))
        pushed[user] = loop.time()
    await watcher
    return Result(
        bot.name,
        rate,
        count,
        list(latencies.values()),
        cpu_seconds(bot.pid) - cpu_before,
        rss_mb(bot.pid),
    )


def seed_due_reminders(db_path: Path, count: int) -> None:
    """`count` users whose daily reminder fell due a minute ago."""
    from backchain.storage import open_database
    from backchain.storage.times import to_db_time

    open_database(db_path).close()
    moment = datetime.now(UTC)
    due = to_db_time(moment - timedelta(minutes=1))
    now = to_db_time(moment)
    with closing(sqlite3.connect(db_path)) as db:
        db.executemany(
            "INSERT INTO users (id, created_at, onboarded) VALUES (?, ?, 1)",
            [(900_000 + n, now) for n in range(count)],
        )
        db.executemany(
            "INSERT INTO reminders (user_id, chat_id, local_time, timezone, enabled, next_due)"
            " VALUES (?, ?, '07:00', 'UTC', 1, ?)",
            [(900_000 + n, 900_000 + n, due) for n in range(count)],
        )
        db.commit()


async def run(rates: list[float], seconds: float, burst: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="backchain-load-"))
    results: list[Result] = []
    async with FakeBotApi(DEFAULT_TOKEN) as server:
        echo = Bot(
            "echo",
            [sys.executable, "-m", "benchmarks.echo_bot", "--api-url", server.api_url],
            child_env({}),
            workdir / "echo.log",
        )
        db_path = workdir / "backchain.db"
        backchain = Bot(
            "backchain",
            [
                sys.executable,
                "-m",
                "backchain",
                "run",
                "--api-url",
                server.api_url,
                "--db",
                str(db_path),
            ],
            child_env({"BACKCHAIN_FILES_DIR": str(workdir / "files")}),
            workdir / "backchain.log",
        )
        first_user = 10_000
        for bot in (echo, backchain):
            await bot.start(server)
            for rate in rates:
                result = await offer_load(server, bot, rate, seconds, first_user)
                first_user += 10_000
                results.append(result)
                print(result.line(), flush=True)
            await bot.stop()
        print()
        for rate in rates:
            mine = next(r for r in results if r.bot == "backchain" and r.rate == rate)
            base = next(r for r in results if r.bot == "echo" and r.rate == rate)
            print(
                f"{rate:5.0f}/s  backchain p95 / echo p95 = {mine.pct(0.95) / base.pct(0.95):.2f}"
                f"  (lost: backchain {mine.lost}, echo {base.lost})"
            )
        if burst:
            burst_db = workdir / "burst.db"
            seed_due_reminders(burst_db, burst)
            bursting = Bot(
                "burst",
                [
                    sys.executable,
                    "-m",
                    "backchain",
                    "run",
                    "--api-url",
                    server.api_url,
                    "--db",
                    str(burst_db),
                ],
                child_env(
                    {"BACKCHAIN_FILES_DIR": str(workdir / "files"), "BACKCHAIN_REMINDER_TICK": "1"}
                ),
                workdir / "burst.log",
            )
            sends_before = len(server.calls_to("sendMessage"))
            await bursting.start(server)
            result = await offer_load(server, bursting, min(rates), seconds, first_user)
            reminders_sent = (
                len(server.calls_to("sendMessage")) - sends_before - len(result.latencies)
            )
            await bursting.stop()
            quiet = next(r for r in results if r.bot == "backchain" and r.rate == min(rates))
            print()
            print(result.line())
            print(
                f"during a burst of {burst} due reminders ({reminders_sent} sent meanwhile):"
                f" interactive p95 {result.pct(0.95) * 1000:.1f} ms vs"
                f" {quiet.pct(0.95) * 1000:.1f} ms without ="
                f" {result.pct(0.95) / quiet.pct(0.95):.2f}x"
            )
    print(f"\nlogs in {workdir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[5, 15, 25])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst", type=int, default=0, help="due reminders for the burst run")
    args = parser.parse_args()
    asyncio.run(run(args.rates, args.seconds, args.burst))


if __name__ == "__main__":
    main()
