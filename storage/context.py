"""The thread of each user's conversation, kept for a while so follow-ups survive a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import from_db_time, to_db_time

_FIELDS = ("topic", "facet", "step_topic", "red_flag_level", "red_flag_rule")


@dataclass(frozen=True)
class StoredContext:
    topic: str | None = None
    facet: str | None = None
    step_topic: str | None = None
    red_flag_level: str | None = None
    red_flag_rule: str | None = None


class ContextRepository:
    """One row per user; a row older than the memory window reads as no context at all."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, user_id: int, now: datetime, memory: timedelta) -> StoredContext:
        row = self.db.execute(
            f"SELECT {', '.join(_FIELDS)}, updated_at FROM conversation_context WHERE user_id = ?",
            [user_id],
        ).fetchone()
        if row is None or from_db_time(row[-1]) < now - memory:
            return StoredContext()
        return StoredContext(*row[:-1])

    def save(self, user_id: int, context: StoredContext, now: datetime) -> None:
        values = [getattr(context, name) for name in _FIELDS]
        with self.db.atomic():
            self.db.execute(
                f"INSERT INTO conversation_context (user_id, {', '.join(_FIELDS)}, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
                + ", ".join(f" {name} = excluded.{name}" for name in (*_FIELDS, "updated_at")),
                [user_id, *values, to_db_time(now)],
            )
