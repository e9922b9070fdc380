"""A stop at any point of a session never loses, repeats or skips a step.

The repository's connection is wrapped so that its n-th statement raises, as if the process
died there; the test then "restarts" (a new engine on the same database), resumes, and finishes
the session. It does this for every n a whole session runs, so every point between two
statements of every transition is covered.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from backchain.bot.chat.conversation import Conversation
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.replies import Outcome
from backchain.bot.chat.services import Services
from backchain.storage import Storage, open_database

from tests.conftest import Clock

USER = 7


class Crash(Exception):
    """The process stopped here."""


class FaultyConnection:
    """A sqlite3 connection whose `fail_at`-th execute raises (None: never)."""

    def __init__(self, real: sqlite3.Connection):
        self._real = real
        self.calls = 0
        self.fail_at: int | None = None

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise Crash(f"stopped before statement {self.calls}: {sql[:40]}")
        return self._real.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def engine(services: Services) -> Conversation:
    return Conversation(services)


def choose(outcome: Outcome) -> str | None:
    """What a person would tap next: a middle pain score, Done, or Resume."""
    for reply in reversed(outcome.replies):
        for button in reply.button_list():
            data = button.data
            if data.startswith("s:pain:") and data.endswith(":4"):
                return data
            if data.startswith(("s:done:", "s:resume:")):
                return data
    return None


def drive(conversation: Conversation, first: Outcome, limit: int = 40) -> None:
    outcome = first
    for _ in range(limit):
        data = choose(outcome)
        if data is None:
            return
        outcome = conversation.handle(Incoming.press(USER, USER, data))
    raise AssertionError("the session did not end")


def setup(services: Services, clock: Clock) -> Conversation:
    conversation = engine(services)
    user = services.users.ensure(USER, clock())
    user.owned_tools = ["hip-lower-back-kit", "foot-lower-leg-kit"]
    user.focus, user.onboarded = "hip", True
    services.users.save_profile(user)
    return conversation


def fresh_services(services: Services) -> tuple[Services, FaultyConnection]:
    db = open_database(None)
    faulty = FaultyConnection(db.conn)
    db.conn = faulty  # type: ignore[assignment]
    run = Services(
        services.content, services.matcher, Storage(db), services.clock, services.files_dir
    )
    return run, faulty


def test_a_stop_between_any_two_statements_resumes_at_the_right_step(
    services: Services, clock: Clock
) -> None:
    # A clean run tells how many statements a whole session takes.
    clean, counter = fresh_services(services)
    conversation = setup(clean, clock)
    counter.calls = 0
    drive(conversation, conversation.handle(Incoming.text_message(USER, USER, "/session")))
    total = counter.calls
    steps = len(clean.sessions.events(USER))
    assert steps >= 4 and total > 20

    for fail_at in range(1, total + 1):
        run, faulty = fresh_services(services)
        conversation = setup(run, clock)
        faulty.calls, faulty.fail_at = 0, fail_at
        with pytest.raises(Crash):
            drive(conversation, conversation.handle(Incoming.text_message(USER, USER, "/session")))
        faulty.fail_at = None
        restarted = engine(run)  # nothing survives but the database
        drive(restarted, restarted.handle(Incoming.text_message(USER, USER, "/session")))
        # A stop after the session's last commit leaves it finished; /session then starts the
        # next one, which the driver also completes. Either way no session is left open.
        sessions = run.sessions.sessions(USER)
        assert {s.status for s in sessions} == {"finished"}, (fail_at, sessions)
        assert len(sessions) in (1, 2)
        for session in sessions:
            events = [e for e in run.sessions.events(USER) if e.session_id == session.id]
            assert [e.step_index for e in events] == list(range(steps)), fail_at
            assert (session.pain_before, session.pain_after) == (4, 4)


@pytest.mark.parametrize(
    ("status", "step"),
    [("pain-check", 0), ("active", 0), ("active", 2), ("active", 99), ("post-check", 5)],
)
def test_resume_answers_every_state_the_database_can_hold(
    services: Services, clock: Clock, status: str, step: int
) -> None:
    conversation = setup(services, clock)
    conversation.handle(Incoming.text_message(USER, USER, "/session"))
    services.storage.db.execute("update sessions set status = ?, current_step = ?", [status, step])
    outcome = conversation.handle(Incoming.text_message(USER, USER, "/session"))
    drive(conversation, outcome)
    assert [s.status for s in services.sessions.sessions(USER)] == ["finished"]
