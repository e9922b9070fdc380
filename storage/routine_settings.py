"""Per-user choices about the routine's messages: rest-day notes and the weekly summary day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import maybe_from_db_time, to_db_time


@dataclass(frozen=True)
class RoutineSettings:
    rest_day_note: bool = False
    summary_weekday: int | None = None  # 0 = Monday; None: no weekly summary
    checked_after_red_flag_at: datetime | None = None


class RoutineSettingsRepository:
    def __init__(self, db: Database):
        self.db = db

    def get(self, user_id: int) -> RoutineSettings:
        row = self.db.execute(
            "SELECT rest_day_note, summary_weekday, checked_after_red_flag_at"
            " FROM routine_settings WHERE user_id = ?",
            [user_id],
        ).fetchone()
        if row is None:
            return RoutineSettings()
        checked = maybe_from_db_time(row[2])
        return RoutineSettings(bool(row[0]), row[1], checked)

    def save(self, user_id: int, settings: RoutineSettings) -> None:
        weekday = settings.summary_weekday
        checked_at = settings.checked_after_red_flag_at
        checked = None if checked_at is None else to_db_time(checked_at)
        if weekday is not None and not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0-6, got {weekday!r}")
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO routine_settings"
                " (user_id, rest_day_note, summary_weekday, checked_after_red_flag_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " rest_day_note = excluded.rest_day_note,"
                " summary_weekday = excluded.summary_weekday,"
                " checked_after_red_flag_at = excluded.checked_after_red_flag_at",
                [user_id, int(settings.rest_day_note), weekday, checked],
            )
