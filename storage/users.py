"""Users, their profile and their conversation state."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import to_db_time

# Every table that holds a user's data, children first so deletion respects foreign keys.
USER_TABLES = (
    "health_conditions",
    "health_screen",
    "routine_settings",
    "outcome_scores",
    "psfs_activities",
    "step_events",
    "sessions",
    "reminders",
    "questions",
    "unanswered",
    "red_flag_events",
    "conversation_state",
    "conversation_context",
)


@dataclass
class User:
    id: int
    language: str = "en"
    owned_tools: list[str] = field(default_factory=list)
    focus: str | None = None
    onboarded: bool = False
    timezone: str = "UTC"


class UserRepository:
    """Reads and writes one user's profile and conversation state."""

    def __init__(self, db: Database):
        self.db = db

    def ensure(self, user_id: int, now: datetime) -> User:
        """The user's row, created on first contact."""
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO users (id, language, owned_tools, onboarded, timezone,"
                " created_at) VALUES (?, 'en', '[]', 0, 'UTC', ?)",
                [user_id, to_db_time(now)],
            )
        return self.get(user_id)

    def exists(self, user_id: int) -> bool:
        """Has this user ever been in touch?"""
        row = self.db.execute("SELECT 1 FROM users WHERE id = ?", [user_id]).fetchone()
        return row is not None

    def get(self, user_id: int) -> User:
        row = self.db.execute(
            "SELECT id, language, owned_tools, focus, onboarded, timezone FROM users WHERE id = ?",
            [user_id],
        ).fetchone()
        if row is None:
            raise LookupError(f"no user {user_id}")
        return User(
            id=row[0],
            language=row[1],
            owned_tools=list(json.loads(row[2] or "[]")),
            focus=row[3],
            onboarded=bool(row[4]),
            timezone=row[5],
        )

    def save_profile(self, user: User) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE users SET owned_tools = ?, focus = ?, onboarded = ?, timezone = ?"
                " WHERE id = ?",
                [
                    json.dumps(sorted(set(user.owned_tools))),
                    user.focus,
                    int(user.onboarded),
                    user.timezone,
                    user.id,
                ],
            )

    def state(self, user_id: int) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT state FROM conversation_state WHERE user_id = ?", [user_id]
        ).fetchone()
        return dict(json.loads(row[0])) if row and row[0] else {}

    def set_state(self, user_id: int, state: dict[str, Any], now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO conversation_state (user_id, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                [user_id, json.dumps(state), to_db_time(now)],
            )

    def delete_everything(self, user_id: int) -> None:
        """Remove every row the bot holds on this user, in one transaction."""
        with self.db.atomic():
            for table in USER_TABLES:
                self.db.execute(f"DELETE FROM [{table}] WHERE user_id = ?", [user_id])
            self.db.execute("DELETE FROM users WHERE id = ?", [user_id])
