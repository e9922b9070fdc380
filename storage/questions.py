"""The question log: what people asked, what matched, red-flag events, unanswered questions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import from_db_time, to_db_time

from backchain.text import normalize


def _grouping_key(text: str) -> str:
    """Case, accents, punctuation and spacing never make two unanswered questions different."""
    return normalize(text)


@dataclass(frozen=True)
class RedFlagEvent:
    level: str
    rule: str
    at: datetime


@dataclass(frozen=True)
class UnansweredCount:
    text: str
    count: int
    last_asked: str  # UTC, ISO 8601


class QuestionLog:
    def __init__(self, db: Database):
        self.db = db

    def record(
        self,
        user_id: int,
        text: str,
        topic: str | None,
        score: float,
        red_flag_level: str | None,
        now: datetime,
    ) -> None:
        """Log one question; an out-of-scope one is also kept for content editors."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO questions (user_id, text, topic, score, red_flag_level, asked_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [user_id, text, topic, score, red_flag_level, to_db_time(now)],
            )
            if topic is None and red_flag_level is None:
                self.db.execute(
                    "INSERT INTO unanswered (user_id, text, normalized, asked_at)"
                    " VALUES (?, ?, ?, ?)",
                    [user_id, text, _grouping_key(text), to_db_time(now)],
                )

    def record_red_flag(self, user_id: int, level: str, rule: str, now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO red_flag_events (user_id, level, rule, at) VALUES (?, ?, ?, ?)",
                [user_id, level, rule, to_db_time(now)],
            )

    def unanswered_report(self, limit: int = 100) -> list[UnansweredCount]:
        """Unanswered questions grouped by their normalised text, most asked first."""
        rows = self.db.execute(
            "SELECT MIN(text), COUNT(*), MAX(asked_at) FROM unanswered GROUP BY normalized"
            " ORDER BY COUNT(*) DESC, MAX(asked_at) DESC LIMIT ?",
            [limit],
        ).fetchall()
        return [UnansweredCount(text=r[0], count=r[1], last_asked=r[2]) for r in rows]

    def for_user(self, user_id: int) -> list[dict[str, object]]:
        return list(
            self.db.query(
                "SELECT text, topic, score, red_flag_level, asked_at FROM questions"
                " WHERE user_id = ? ORDER BY id",
                [user_id],
            )
        )

    def red_flags_for_user(self, user_id: int) -> list[RedFlagEvent]:
        """The red-flag warnings shown to the user, oldest first."""
        rows = self.db.execute(
            "SELECT level, rule, at FROM red_flag_events WHERE user_id = ? ORDER BY at, id",
            [user_id],
        ).fetchall()
        return [RedFlagEvent(level, rule, from_db_time(at)) for level, rule, at in rows]
