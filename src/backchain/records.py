"""Plain records of what happened in a user's sessions: storage produces them, the routine
rules read them. Neither side imports the other; both import these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("pain-check", "active", "post-check", "finished", "abandoned")
CLOSED = ("finished", "abandoned")
OUTCOMES = ("done", "skipped", "too-painful")


@dataclass(frozen=True)
class StoredSession:
    id: int
    user_id: int
    phase: str
    plan: str  # JSON, see backchain.bot.routine.plan.SessionPlan.from_json
    dose: float
    current_step: int
    status: str
    pain_before: int | None
    pain_after: int | None
    started_at: datetime
    finished_at: datetime | None
    step_shown_at: datetime | None = None  # when the current step (or question) was shown

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


@dataclass(frozen=True)
class SessionRecord:
    """A closed session (finished or abandoned) with what happened in it."""

    id: int
    phase: str
    status: str
    dose: float
    started_at: datetime
    finished_at: datetime | None
    pain_before: int | None
    pain_after: int | None
    done: int = 0
    skipped: int = 0
    too_painful: int = 0
    seconds: int = 0  # real: from showing each step to its answer, capped; timers included
    planned_seconds: int = 0  # what the plan asked for the steps answered

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def pain_change(self) -> int | None:
        if self.pain_before is None or self.pain_after is None:
            return None
        return self.pain_after - self.pain_before


@dataclass(frozen=True)
class StepAnswer:
    """The answer to the current step of a session: what `complete_step` writes."""

    session_id: int
    user_id: int
    index: int
    step_id: str
    outcome: str  # done | skipped | too-painful
    planned_seconds: int
    step_count: int  # steps in the session's plan
    cap_seconds: int  # real time above this is not counted (a phone left on the table)
    # (index, step id) of the steps right after this one that are skipped with it: after a
    # painful step, the steps that work the same area.
    also_skip: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class StepEvent:
    session_id: int
    step_index: int
    step_id: str
    outcome: str
    planned_seconds: int
    active_seconds: int | None  # None for steps logged before real times were kept
    at: datetime
