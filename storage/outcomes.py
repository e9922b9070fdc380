"""Outcome scores: the Patient-Specific Functional Scale (PSFS) and the PEG scale.

PSFS: up to three everyday activities the person names, each rated 0-10 for how well they can
do it (10 = as well as before the pain). PEG: pain on average, its interference with enjoyment
of life and with general activity, 0-10 each (10 = worst). Both are re-rated weekly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import from_db_time, to_db_time

SCALES = ("psfs", "peg")
PEG_ITEMS = ("pain", "enjoyment", "activity")
MAX_ACTIVITIES = 3
MAX_ACTIVITY_CHARS = 80


@dataclass(frozen=True)
class Activity:
    position: int  # 1..3
    text: str


@dataclass(frozen=True)
class OutcomeScore:
    scale: str
    item: str
    score: int
    at: datetime


def _check_score(score: int) -> None:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValueError(f"score must be a whole number from 0 to 10, got {score!r}")


class OutcomeRepository:
    """Every query filters by user id."""

    def __init__(self, db: Database):
        self.db = db

    def add_activity(self, user_id: int, text: str, score: int, now: datetime) -> Activity | None:
        """Name one PSFS activity with its first rating, in one transaction; None when full."""
        _check_score(score)
        text = " ".join(text.split())[:MAX_ACTIVITY_CHARS]
        if not text:
            raise ValueError("an activity needs a name")
        with self.db.atomic():
            taken = self.db.execute(
                "select count(*) from psfs_activities where user_id = ?", [user_id]
            ).fetchone()[0]
            if taken >= MAX_ACTIVITIES:
                return None
            position = taken + 1
            self.db.execute(
                "insert into psfs_activities (user_id, position, activity, added_at) "
                "values (?, ?, ?, ?)",
                [user_id, position, text, to_db_time(now)],
            )
            self.db.execute(
                "insert into outcome_scores (user_id, scale, item, score, at) "
                "values (?, 'psfs', ?, ?, ?)",
                [user_id, str(position), score, to_db_time(now)],
            )
        return Activity(position, text)

    def activities(self, user_id: int) -> list[Activity]:
        rows = self.db.execute(
            "select position, activity from psfs_activities where user_id = ? order by position",
            [user_id],
        ).fetchall()
        return [Activity(position, text) for position, text in rows]

    def record(self, user_id: int, scale: str, item: str, score: int, now: datetime) -> None:
        """One rating of one item."""
        _check_score(score)
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        if scale == "peg" and item not in PEG_ITEMS:
            raise ValueError(f"PEG item must be one of {', '.join(PEG_ITEMS)}, got {item!r}")
        with self.db.atomic():
            self.db.execute(
                "insert into outcome_scores (user_id, scale, item, score, at) "
                "values (?, ?, ?, ?, ?)",
                [user_id, scale, item, score, to_db_time(now)],
            )

    def scores(self, user_id: int) -> list[OutcomeScore]:
        """Every rating, oldest first."""
        rows = self.db.execute(
            "select scale, item, score, at from outcome_scores where user_id = ? order by at, id",
            [user_id],
        ).fetchall()
        return [
            OutcomeScore(scale, item, score, from_db_time(at)) for scale, item, score, at in rows
        ]
