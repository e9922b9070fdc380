"""The long-lived objects the conversation needs, built once at start."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from backchain.bot.chat.reading import build_understander
from backchain.bot.chat.reminder_schedule import ReminderSchedule
from backchain.bot.content import Content, build_matcher, load_content
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.understand import Understander
from backchain.storage import Storage
from backchain.storage.context import ContextRepository
from backchain.storage.database import BUSY_TIMEOUT_MS
from backchain.storage.health import HealthRepository
from backchain.storage.outcomes import OutcomeRepository
from backchain.storage.questions import QuestionLog
from backchain.storage.routine_settings import RoutineSettingsRepository
from backchain.storage.sessions import SessionRepository
from backchain.storage.users import UserRepository


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    content: Content
    matcher: Matcher
    storage: Storage
    clock: Callable[[], datetime] = utc_now
    files_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "backchain")
    users: UserRepository = field(init=False)
    questions: QuestionLog = field(init=False)
    sessions: SessionRepository = field(init=False)
    reminders: ReminderSchedule = field(init=False)
    health: HealthRepository = field(init=False)
    outcomes: OutcomeRepository = field(init=False)
    routine_settings: RoutineSettingsRepository = field(init=False)
    contexts: ContextRepository = field(init=False)
    understander: Understander = field(init=False)

    def __post_init__(self) -> None:
        self.understander = build_understander(self.content, self.matcher)
        self.contexts = self.storage.contexts
        self.users = self.storage.users
        self.questions = self.storage.questions
        self.sessions = self.storage.sessions
        self.reminders = ReminderSchedule(self.storage.reminders)
        self.health = self.storage.health
        self.outcomes = self.storage.outcomes
        self.routine_settings = self.storage.routine_settings

    def close(self) -> None:
        self.storage.close()


def build_services(
    db_path: str | Path | None,
    content_dir: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
    files_dir: Path | None = None,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> Services:
    """Load content, build the matcher and open the database (`busy_timeout_ms`: how long one
    statement waits for another process's lock)."""
    content = load_content(content_dir)
    services = Services(
        content=content,
        matcher=build_matcher(content),
        storage=Storage.open(db_path, busy_timeout_ms),
        clock=clock,
    )
    if files_dir is not None:
        services.files_dir = files_dir
    return services
