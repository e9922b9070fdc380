"""Per-user choices about the routine's messages: rest-day notes and the weekly summary day."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class RoutineSettings:
    rest_day_note: bool = False
    summary_weekday: int | None = None  # 0 = Monday; None: no weekly summary


class RoutineSettingsRepository:
    def __init__(self, db: Database):
        self.db = db

    def get(self, user_id: int) -> RoutineSettings:
        row = self.db.execute(
            "SELECT rest_day_note, summary_weekday FROM routine_settings WHERE user_id = ?",
            [user_id],
        ).fetchone()
        return RoutineSettings(bool(row[0]), row[1]) if row else RoutineSettings()

    def save(self, user_id: int, settings: RoutineSettings) -> None:
        weekday = settings.summary_weekday
        if weekday is not None and not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0-6, got {weekday!r}")
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO routine_settings (user_id, rest_day_note, summary_weekday)"
                " VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " rest_day_note = excluded.rest_day_note,"
                " summary_weekday = excluded.summary_weekday",
                [user_id, int(settings.rest_day_note), weekday],
            )
