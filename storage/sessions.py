"""Routine sessions and their step events: the repository over the `sessions` tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backchain.storage._sqlite_utils import Database
from backchain.storage.times import from_db_time, maybe_from_db_time, to_db_time

from backchain.records import (
    CLOSED,
    OUTCOMES,
    STATUSES,
    SessionRecord,
    StepAnswer,
    StepEvent,
    StoredSession,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

logger = logging.getLogger(__name__)

_Record = TypeVar("_Record", bound="DataclassInstance")


class SessionNotFound(LookupError):
    """No session with this id belongs to this user."""

    def __init__(self, session_id: int, user_id: int):
        self.session_id = session_id
        self.user_id = user_id
        super().__init__(f"session {session_id} not found for user {user_id}")


__all__ = [
    "CLOSED",
    "OUTCOMES",
    "STATUSES",
    "SessionNotFound",
    "SessionRecord",
    "SessionRepository",
    "StepAnswer",
    "StepEvent",
    "StoredSession",
]


class SupportsToJson(Protocol):
    def to_json(self) -> str: ...


def _local_date(stored: str, zone: str) -> date | None:
    """The date on `zone`'s wall clock of a stored time; an unknown zone reads as UTC."""
    try:
        moment = from_db_time(stored)
    except ValueError:
        logger.warning("unreadable stored time %r", stored)
        return None
    try:
        tz: tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown users.timezone %r, reading it as UTC", zone)
        tz = UTC
    return moment.astimezone(tz).date()


def _check_pain(pain: int) -> None:
    if isinstance(pain, bool) or not isinstance(pain, int) or not 0 <= pain <= 10:
        raise ValueError(f"pain must be a whole number from 0 to 10, got {pain!r}")


# Times are stored as ISO 8601 text; only a session still open has no finished_at.
_TIME_COLUMNS: dict[str, Callable[[Any], datetime | None]] = {
    "started_at": from_db_time,
    "finished_at": maybe_from_db_time,
    "step_shown_at": maybe_from_db_time,
    "at": from_db_time,
}


def _from_row(record_type: type[_Record], row: dict[str, Any]) -> _Record:
    """The record whose fields are the row's columns of the same names, times parsed."""
    values = {}
    for column in fields(record_type):
        value = row[column.name]
        parse = _TIME_COLUMNS.get(column.name)
        values[column.name] = value if parse is None else parse(value)
    return record_type(**values)


_HISTORY_SQL = """
select s.id, s.phase, s.status, s.dose, s.started_at, s.finished_at, s.pain_before,
       s.pain_after,
       count(case when e.outcome = 'done' then 1 end) as done,
       count(case when e.outcome = 'skipped' then 1 end) as skipped,
       count(case when e.outcome = 'too-painful' then 1 end) as too_painful,
       coalesce(sum(e.active_seconds), 0) as seconds,
       coalesce(sum(e.planned_seconds), 0) as planned_seconds
from sessions s left join step_events e on e.session_id = s.id
where s.user_id = ? and s.status in ('finished', 'abandoned')
group by s.id
order by s.started_at, s.id
"""


class SessionRepository:
    """Every query filters by user id: a user only ever reads or changes their own sessions."""

    def __init__(self, db: Database):
        self.db = db

    def start(
        self, user_id: int, phase: str, plan: str | SupportsToJson, dose: float, now: datetime
    ) -> int:
        """Open a session waiting for the pain check; returns its id."""
        plan_json = plan if isinstance(plan, str) else plan.to_json()
        with self.db.atomic():
            cursor = self.db.execute(
                "insert into sessions (user_id, phase, plan, dose, current_step, status, "
                "started_at) values (?, ?, ?, ?, 0, 'pain-check', ?)",
                [user_id, phase, plan_json, dose, to_db_time(now)],
            )
            session_id = cursor.lastrowid
        assert session_id is not None
        return session_id

    def get(self, session_id: int, user_id: int) -> StoredSession:
        rows = list(
            self.db.query(
                "select * from sessions where id = ? and user_id = ?", [session_id, user_id]
            )
        )
        if not rows:
            raise SessionNotFound(session_id, user_id)
        return _from_row(StoredSession, rows[0])

    def unfinished(self, user_id: int) -> StoredSession | None:
        """The latest session still in progress, if any."""
        rows = list(
            self.db.query(
                "select * from sessions where user_id = ? and status not in (?, ?) "
                "order by started_at desc, id desc limit 1",
                [user_id, *CLOSED],
            )
        )
        return _from_row(StoredSession, rows[0]) if rows else None

    def sessions(self, user_id: int) -> list[StoredSession]:
        """All of the user's sessions, oldest first."""
        rows = self.db.query(
            "select * from sessions where user_id = ? order by started_at, id", [user_id]
        )
        return [_from_row(StoredSession, row) for row in rows]

    def _get_open(self, session_id: int, user_id: int, status: str) -> StoredSession | None:
        """The session if it is in `status`; SessionNotFound for a stranger's id."""
        session = self.get(session_id, user_id)
        return session if session.status == status else None

    def answer_pain_before(
        self, session_id: int, user_id: int, pain: int, now: datetime, stop: bool = False
    ) -> StoredSession | None:
        """Pain check -> first step, or -> abandoned when `stop` (too much pain for a session
        today), in one transaction. None if the session was not waiting for it."""
        _check_pain(pain)
        status, finished = ("abandoned", to_db_time(now)) if stop else ("active", None)
        with self.db.atomic():
            if self._get_open(session_id, user_id, "pain-check") is None:
                return None
            self.db.execute(
                "update sessions set pain_before = ?, status = ?, step_shown_at = ?, "
                "finished_at = ? where id = ? and user_id = ? and status = 'pain-check'",
                [pain, status, to_db_time(now), finished, session_id, user_id],
            )
        return self.get(session_id, user_id)

    def complete_step(self, step: StepAnswer, now: datetime) -> StoredSession | None:
        """Log the current step, move to the next (or to the closing pain check): one transaction.

        The real time is from the moment the step was shown to `now`, capped at
        `step.cap_seconds`. None when that step is not the current one (a double tap, a stale
        button, a closed session): nothing is written then.
        """
        if step.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {step.outcome!r}")
        if step.planned_seconds < 0 or step.index < 0 or step.step_count <= step.index:
            raise ValueError("step index out of range or negative planned seconds")
        with self.db.atomic():
            session = self._get_open(step.session_id, step.user_id, "active")
            if session is None or session.current_step != step.index:
                return None
            shown = session.step_shown_at or session.started_at
            active = max(0, min(step.cap_seconds, round((now - shown).total_seconds())))
            self.db.execute(
                "insert into step_events (session_id, user_id, step_index, step_id, outcome, "
                "seconds, planned_seconds, active_seconds, at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    step.session_id,
                    step.user_id,
                    step.index,
                    step.step_id,
                    step.outcome,
                    step.planned_seconds,
                    step.planned_seconds,
                    active,
                    to_db_time(now),
                ],
            )
            following = step.index + 1
            for index, step_id in step.also_skip:
                if index != following or index >= step.step_count:
                    raise ValueError("only the steps right after this one can be skipped with it")
                self.db.execute(
                    "insert into step_events (session_id, user_id, step_index, step_id, outcome, "
                    "seconds, planned_seconds, active_seconds, at) "
                    "values (?, ?, ?, ?, 'skipped', 0, 0, 0, ?)",
                    [step.session_id, step.user_id, index, step_id, to_db_time(now)],
                )
                following += 1
            status = "active" if following < step.step_count else "post-check"
            self.db.execute(
                "update sessions set current_step = ?, status = ?, step_shown_at = ? "
                "where id = ? and user_id = ? and status = 'active' and current_step = ?",
                [following, status, to_db_time(now), step.session_id, step.user_id, step.index],
            )
        return self.get(step.session_id, step.user_id)

    def steps_through(self, session_id: int, user_id: int, now: datetime) -> StoredSession | None:
        """An active session whose current step is past its last: move it to the pain check.

        Repairs a state no transition leaves behind but an older version could have.
        """
        with self.db.atomic():
            if self._get_open(session_id, user_id, "active") is None:
                return None
            self.db.execute(
                "update sessions set status = 'post-check', step_shown_at = ? "
                "where id = ? and user_id = ? and status = 'active'",
                [to_db_time(now), session_id, user_id],
            )
        return self.get(session_id, user_id)

    def finish(self, session_id: int, user_id: int, pain_after: int, now: datetime) -> bool:
        """Closing pain check -> finished, in one transaction; False if it was not waiting."""
        _check_pain(pain_after)
        with self.db.atomic():
            cursor = self.db.execute(
                "update sessions set pain_after = ?, status = 'finished', finished_at = ? "
                "where id = ? and user_id = ? and status = 'post-check'",
                [pain_after, to_db_time(now), session_id, user_id],
            )
            if cursor.rowcount == 0:
                self.get(session_id, user_id)  # raises SessionNotFound for a stranger's id
                return False
            return True

    def _close(self, session_id: int, user_id: int, status: str, now: datetime) -> bool:
        with self.db.atomic():
            cursor = self.db.execute(
                "update sessions set status = ?, finished_at = ? "
                "where id = ? and user_id = ? and status not in (?, ?)",
                [status, to_db_time(now), session_id, user_id, *CLOSED],
            )
            if cursor.rowcount == 0:
                self.get(session_id, user_id)  # raises SessionNotFound for a stranger's id
                return False
            return True

    def abandon(self, session_id: int, user_id: int, now: datetime) -> bool:
        """Close the session unfinished; False if it was already closed."""
        return self._close(session_id, user_id, "abandoned", now)

    def history(self, user_id: int) -> list[SessionRecord]:
        """Closed sessions (finished and abandoned), oldest first, with step counts."""
        return [_from_row(SessionRecord, row) for row in self.db.query(_HISTORY_SQL, [user_id])]

    def finished_on(self, user_id: int, day: date) -> bool:
        """Did the user finish a session on `day`, a date on their own (users.timezone) clock?"""
        # Stored times are UTC text; any zone shifts a date by at most a day, so this text range
        # keeps the (user_id, status) index useful and the exact check happens below.
        rows = self.db.execute(
            "select users.timezone, sessions.finished_at from sessions"
            " join users on users.id = sessions.user_id"
            " where sessions.user_id = ? and sessions.status = 'finished'"
            " and sessions.finished_at >= ? and sessions.finished_at < ?",
            [user_id, (day - timedelta(days=1)).isoformat(), (day + timedelta(days=2)).isoformat()],
        ).fetchall()
        return any(_local_date(finished_at, zone) == day for zone, finished_at in rows)

    def events(self, user_id: int) -> list[StepEvent]:
        """Every step the user logged, in session and step order."""
        rows = self.db.query(
            "select session_id, step_index, step_id, outcome, planned_seconds, active_seconds, at "
            "from step_events "
            "where user_id = ? order by session_id, step_index",
            [user_id],
        )
        return [_from_row(StepEvent, row) for row in rows]
