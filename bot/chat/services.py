"""The long-lived objects the conversation needs, built once at start."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from backchain.bot.content import Content, load_content
from backchain.bot.understanding.matcher import Matcher
from backchain.storage import open_database
from backchain.storage.health import HealthRepository
from backchain.storage.questions import QuestionLog
from backchain.storage.reminders import ReminderRepository
from backchain.storage.sessions import SessionRepository
from backchain.storage.users import UserRepository
from sqlite_utils import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    content: Content
    matcher: Matcher
    db: Database
    clock: Callable[[], datetime] = utc_now
    files_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "backchain")
    users: UserRepository = field(init=False)
    questions: QuestionLog = field(init=False)
    sessions: SessionRepository = field(init=False)
    reminders: ReminderRepository = field(init=False)
    health: HealthRepository = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserRepository(self.db)
        self.questions = QuestionLog(self.db)
        self.sessions = SessionRepository(self.db)
        self.reminders = ReminderRepository(self.db)
        self.health = HealthRepository(self.db)


def build_matcher(content: Content) -> Matcher:
    return Matcher.build(content.topics, content.directory / "vocabulary.yaml")


def build_services(
    db_path: str | Path | None,
    content_dir: Path | None = None,
    clock: Callable[[], datetime] = utc_now,
    files_dir: Path | None = None,
) -> Services:
    """Load content, build the matcher and open the database."""
    content = load_content(content_dir)
    services = Services(
        content=content, matcher=build_matcher(content), db=open_database(db_path), clock=clock
    )
    if files_dir is not None:
        services.files_dir = files_dir
    return services
