"""The health screen: which conditions a person told us about, and when.

One row per condition (`health_conditions`), so adding or removing one is a single statement and
/forget and /export see every row. `health_screen` remembers that the screen was answered (also
when the answer was "none of these") and whether a doctor agreed to the routine where a condition
asks for that first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import maybe_from_db_time, to_db_time


@dataclass(frozen=True)
class StoredHealth:
    conditions: frozenset[str] = frozenset()
    sides: Mapping[str, str] = field(default_factory=dict)
    screened_at: datetime | None = None  # None: the screen was never answered
    doctor_ok_at: datetime | None = None

    @property
    def screened(self) -> bool:
        return self.screened_at is not None


class HealthRepository:
    """Reads and writes one user's health screen."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, user_id: int) -> StoredHealth:
        rows = self.db.execute(
            "SELECT condition, side FROM health_conditions WHERE user_id = ? ORDER BY condition",
            [user_id],
        ).fetchall()
        screen = self.db.execute(
            "SELECT screened_at, doctor_ok_at FROM health_screen WHERE user_id = ?", [user_id]
        ).fetchone()
        return StoredHealth(
            conditions=frozenset(row[0] for row in rows),
            sides={row[0]: row[1] for row in rows if row[1]},
            screened_at=maybe_from_db_time(screen[0]) if screen else None,
            doctor_ok_at=maybe_from_db_time(screen[1]) if screen else None,
        )

    def replace(
        self,
        user_id: int,
        conditions: Iterable[str],
        sides: Mapping[str, str],
        now: datetime,
    ) -> None:
        """The answer to the whole checklist, in one transaction; clears a doctor's yes when a
        condition was added (the yes was given for what we knew then)."""
        wanted = sorted(set(conditions))
        with self.db.atomic():
            before = {
                row[0]
                for row in self.db.execute(
                    "SELECT condition FROM health_conditions WHERE user_id = ?", [user_id]
                ).fetchall()
            }
            self.db.execute("DELETE FROM health_conditions WHERE user_id = ?", [user_id])
            for condition in wanted:
                self.db.execute(
                    "INSERT INTO health_conditions (user_id, condition, side, added_at)"
                    " VALUES (?, ?, ?, ?)",
                    [user_id, condition, sides.get(condition), to_db_time(now)],
                )
            self._screened(user_id, now, reset_doctor=bool(set(wanted) - before))

    def add(self, user_id: int, condition: str, side: str | None, now: datetime) -> None:
        """One condition the person confirmed after mentioning it."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO health_conditions (user_id, condition, side, added_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(user_id, condition)"
                " DO UPDATE SET side = excluded.side",
                [user_id, condition, side, to_db_time(now)],
            )
            self._screened(user_id, now, reset_doctor=True)

    def doctor_agreed(self, user_id: int, now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO health_screen (user_id, screened_at, doctor_ok_at) VALUES (?, ?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET doctor_ok_at = excluded.doctor_ok_at",
                [user_id, to_db_time(now), to_db_time(now)],
            )

    def rows_for_export(self, user_id: int) -> list[tuple[str, str | None, str]]:
        """(condition, side, added_at) for the person's own export."""
        return [
            (row[0], row[1], row[2])
            for row in self.db.execute(
                "SELECT condition, side, added_at FROM health_conditions WHERE user_id = ?"
                " ORDER BY condition",
                [user_id],
            ).fetchall()
        ]

    def _screened(self, user_id: int, now: datetime, reset_doctor: bool) -> None:
        self.db.execute(
            "INSERT INTO health_screen (user_id, screened_at, doctor_ok_at) VALUES (?, ?, NULL)"
            " ON CONFLICT(user_id) DO UPDATE SET screened_at = excluded.screened_at"
            + (", doctor_ok_at = NULL" if reset_doctor else ""),
            [user_id, to_db_time(now)],
        )
