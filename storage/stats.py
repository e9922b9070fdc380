"""Figures for the operator: who uses the bot, how sessions and reminders go, the file's size."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import to_db_time

WINDOWS = (1, 7, 30)


@dataclass(frozen=True)
class Stats:
    users_total: int
    users_new: dict[str, int]  # "1d" | "7d" | "30d" -> count
    users_active: dict[str, int]
    sessions_per_week: list[dict[str, Any]]  # {"week": "2026-W48", "started": n, "finished": n}
    adherence_percent: float | None  # finished / started over the last 30 days
    red_flags_by_level: dict[str, int]
    top_unanswered: list[dict[str, Any]]
    reminders: dict[str, int]  # sent | failed | blocked | skipped over the last 30 days
    inbox: dict[str, int]
    database_bytes: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class OperatorFigures:
    """The operator's figures over one database."""

    def __init__(self, db: Database):
        self.db = db

    def record_reminder_outcomes(self, day: str, counts: Mapping[str, int]) -> None:
        record_reminder_outcomes(self.db, day, counts)

    def collect(self, now: datetime, top: int = 10) -> Stats:
        return collect(self.db, now, top)


def record_reminder_outcomes(db: Database, day: str, counts: Mapping[str, int]) -> None:
    """Add one tick's counts to the day's totals (one transaction)."""
    with db.atomic():
        for status, count in counts.items():
            if count:
                db.execute(
                    "INSERT INTO reminder_outcomes (day, status, count) VALUES (?, ?, ?)"
                    " ON CONFLICT(day, status) DO UPDATE SET count = count + excluded.count",
                    [day, status, int(count)],
                )


def _scalar(db: Database, sql: str, params: list[Any]) -> int:
    row = db.execute(sql, params).fetchone()
    return int(row[0] or 0) if row else 0


def _database_bytes(db: Database) -> int:
    row = db.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if not path:
        return _scalar(
            db, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", []
        )
    return sum(
        os.path.getsize(candidate)
        for candidate in (path, path + "-wal")
        if Path(candidate).exists()
    )


def collect(db: Database, now: datetime, top: int = 10) -> Stats:
    """Every figure `backchain stats` prints, read in one pass of small queries."""
    since = {f"{days}d": to_db_time(now - timedelta(days=days)) for days in WINDOWS}
    users_new = {
        key: _scalar(db, "SELECT COUNT(*) FROM users WHERE created_at >= ?", [moment])
        for key, moment in since.items()
    }
    users_active = {
        key: _scalar(
            db,
            "SELECT COUNT(*) FROM (SELECT user_id FROM questions WHERE asked_at >= ?"
            " UNION SELECT user_id FROM sessions WHERE started_at >= ?"
            " UNION SELECT user_id FROM step_events WHERE at >= ?)",
            [moment, moment, moment],
        )
        for key, moment in since.items()
    }
    weeks = db.execute(
        "SELECT strftime('%Y-W%W', started_at) AS week, COUNT(*),"
        " SUM(CASE WHEN status = 'finished' THEN 1 ELSE 0 END)"
        " FROM sessions WHERE started_at >= ? GROUP BY week ORDER BY week",
        [to_db_time(now - timedelta(weeks=8))],
    ).fetchall()
    started = _scalar(db, "SELECT COUNT(*) FROM sessions WHERE started_at >= ?", [since["30d"]])
    finished = _scalar(
        db,
        "SELECT COUNT(*) FROM sessions WHERE started_at >= ? AND status = 'finished'",
        [since["30d"]],
    )
    flags = db.execute(
        "SELECT level, COUNT(*) FROM red_flag_events GROUP BY level ORDER BY level"
    ).fetchall()
    unanswered = db.execute(
        "SELECT normalized, COUNT(*) AS n FROM unanswered GROUP BY normalized"
        " ORDER BY n DESC, normalized LIMIT ?",
        [top],
    ).fetchall()
    reminders = db.execute(
        "SELECT status, SUM(count) FROM reminder_outcomes WHERE day >= ? GROUP BY status",
        [(now - timedelta(days=30)).date().isoformat()],
    ).fetchall()
    inbox = db.execute("SELECT status, COUNT(*) FROM update_inbox GROUP BY status").fetchall()
    return Stats(
        users_total=_scalar(db, "SELECT COUNT(*) FROM users", []),
        users_new=users_new,
        users_active=users_active,
        sessions_per_week=[
            {"week": row[0], "started": int(row[1]), "finished": int(row[2] or 0)} for row in weeks
        ],
        adherence_percent=round(100.0 * finished / started, 1) if started else None,
        red_flags_by_level={str(row[0]): int(row[1]) for row in flags},
        top_unanswered=[{"text": row[0], "count": int(row[1])} for row in unanswered],
        reminders={status: 0 for status in ("sent", "failed", "blocked", "skipped")}
        | {str(row[0]): int(row[1]) for row in reminders},
        inbox={str(row[0]): int(row[1]) for row in inbox},
        database_bytes=_database_bytes(db),
    )
