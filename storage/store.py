"""Everything the bot keeps, behind one object: the database and its repositories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backchain.storage._sqlite_utils import Database
from backchain.storage.context import ContextRepository
from backchain.storage.database import BUSY_TIMEOUT_MS, open_database, write_turn
from backchain.storage.health import HealthRepository
from backchain.storage.inbox import Inbox
from backchain.storage.outcomes import OutcomeRepository
from backchain.storage.questions import QuestionLog
from backchain.storage.reminders import ReminderRepository
from backchain.storage.routine_settings import RoutineSettingsRepository
from backchain.storage.sessions import SessionRepository
from backchain.storage.stats import OperatorFigures
from backchain.storage.users import UserRepository


class Storage:
    """The repositories over one database; the bot never holds the database itself."""

    def __init__(self, db: Database):
        self.db = db
        self.users = UserRepository(db)
        self.questions = QuestionLog(db)
        self.sessions = SessionRepository(db)
        self.reminders = ReminderRepository(db)
        self.health = HealthRepository(db)
        self.outcomes = OutcomeRepository(db)
        self.routine_settings = RoutineSettingsRepository(db)
        self.contexts = ContextRepository(db)
        self.inbox = Inbox(db)  # incoming Telegram updates until handled
        self.figures = OperatorFigures(db)  # what `backchain stats` reports

    @property
    def in_memory(self) -> bool:
        return bool(self.db.memory)

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        schema_cache: Path | None = None,
    ) -> Storage:
        """Open (creating and migrating if needed) the database at `path`; None for in-memory.

        `busy_timeout_ms`: how long one statement may wait for another process's lock;
        `schema_cache`: a folder where an in-memory database finds its schema ready-made.
        """
        return cls(open_database(path, busy_timeout_ms, schema_cache))

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Everything one input changes, as one transaction whose write lock is taken first:
        StorageBusy (nothing done) when another process holds the database."""
        with write_turn(self.db):
            yield

    def close(self) -> None:
        self.db.close()
