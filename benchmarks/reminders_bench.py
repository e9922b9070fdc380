"""How long one reminder tick takes when 100,000 reminders fall due in the same minute.

Run: python -m benchmarks.reminders_bench [--rows N]

Builds a temporary file-backed SQLite database (WAL, as in production) with N users and N enabled
reminders spread over several zones, all due in one UTC minute, then measures:
  - selecting the due rows through the (enabled, next_due) index;
  - selecting and handing each to a no-op async send (nothing written);
  - the real `tick` (claims batched per chunk with conditional UPDATEs, then the no-op send),
    with the default chunk and with one chunk per 1,000 rows;
  - the same tick with the real sessions-done check (one query per due reminder);
  - `mark_sent` one row per transaction, on a sample, to show why the tick batches;
and the peak Python heap during a tick (tracemalloc) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from backchain.bot.chat.reminder_schedule import ReminderSchedule
from backchain.bot.chat.reminder_ticker import (
    SEND_CHUNK,
    SendStatus,
    TickReport,
    sessions_done_checker,
    tick,
)
from backchain.bot.routine.schedule import format_time_of_day
from backchain.storage import open_database
from backchain.storage.reminders import Reminder, ReminderRepository
from backchain.storage.sessions import SessionRepository
from sqlite_utils import Database

DUE_AT = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
)
SAMPLE_FOR_SINGLE_ROW_WRITES = 2_000


async def no_op_send(reminder: Reminder) -> SendStatus:
    return SendStatus.SENT


def never_done(user_id: int, day: date) -> bool:
    return False


def populate(db: Database, rows: int) -> None:
    """N users and N reminders whose local times all fall in DUE_AT's minute."""
    local_times = {
        zone: format_time_of_day(DUE_AT.astimezone(ZoneInfo(zone)).time()) for zone in ZONES
    }
    created = DUE_AT.isoformat()
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO users (id, timezone, created_at) VALUES (?, ?, ?)",
            ((user_id, ZONES[user_id % len(ZONES)], created) for user_id in range(1, rows + 1)),
        )
        db.conn.executemany(
            "INSERT INTO reminders (user_id, chat_id, local_time, timezone, enabled, next_due)"
            " VALUES (?, ?, ?, ?, 1, ?)",
            (
                (
                    user_id,
                    user_id,
                    local_times[ZONES[user_id % len(ZONES)]],
                    ZONES[user_id % len(ZONES)],
                    int(DUE_AT.timestamp()) + user_id % 60,
                )
                for user_id in range(1, rows + 1)
            ),
        )


def make_due_again(db: Database) -> None:
    with db.atomic():
        db.execute(
            "UPDATE reminders SET next_due = ? + user_id % 60, last_sent_at = NULL",
            [int(DUE_AT.timestamp())],
        )


def measure(label: str, rows: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    detail = f"  ({result})" if result is not None else ""
    print(f"{label:<52} {rows:>8,} rows {seconds:>8.3f} s {rows / seconds:>10,.0f} rows/s{detail}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args(argv).rows
    now = DUE_AT + timedelta(minutes=1)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        db = open_database(path)
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
        print(f"SQLite {db.execute('select sqlite_version()').fetchone()[0]}, journal={journal}")
        measure("populate users + reminders", rows, lambda: populate(db, rows))
        repo = ReminderSchedule(ReminderRepository(db))

        measure("select due", rows, lambda: len(repo.due(now, rows)))

        async def select_and_send() -> int:
            due = repo.due(now, rows)
            for reminder in due:
                await no_op_send(reminder)
            return len(due)

        measure("select + no-op send (no writes)", rows, lambda: asyncio.run(select_and_send()))

        def tick_all(send_chunk: int) -> TickReport:
            return asyncio.run(
                tick(repo, now, no_op_send, never_done, batch=rows, send_chunk=send_chunk)
            )

        for chunk in (SEND_CHUNK, 1000):
            make_due_again(db)
            measure(
                f"tick: batched claims per {chunk} + no-op send", rows, partial(tick_all, chunk)
            )
        assert repo.due(now, 1) == [], "every reminder should have moved to tomorrow"

        make_due_again(db)
        checker = sessions_done_checker(SessionRepository(db))
        measure(
            f"tick: per {SEND_CHUNK} + sessions-done query per row",
            rows,
            lambda: asyncio.run(tick(repo, now, no_op_send, checker, batch=rows)),
        )

        make_due_again(db)
        sample = repo.due(now, SAMPLE_FOR_SINGLE_ROW_WRITES)

        def single_row_writes() -> None:
            for reminder in sample:
                repo.mark_sent(reminder.user_id, reminder.next_due, now)

        seconds = measure(
            "mark_sent, one transaction per row (sample)", len(sample), single_row_writes
        )
        extrapolated = seconds / len(sample) * rows
        print(f"{'  -> extrapolated to all rows':<52} {rows:>8,} rows {extrapolated:>8.1f} s")

        make_due_again(db)
        tracemalloc.start()
        asyncio.run(tick(repo, now, no_op_send, never_done, batch=rows))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.close()
    max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{'peak Python heap during one tick (tracemalloc)':<52} {peak / 2**20:>8.1f} MB")
    print(f"{'peak resident set size of the process (maxrss)':<52} {max_rss_kb / 1024:>8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
