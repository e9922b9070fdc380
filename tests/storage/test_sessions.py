"""SessionRepository on a fresh in-memory database per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from backchain.storage import open_database
from backchain.storage.sessions import SessionNotFound, SessionRepository
from sqlite_utils import Database

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLAN = '{"steps": []}'


@pytest.fixture
def db() -> Database:
    database = open_database(None)
    for user_id in (1, 2):
        database.table("users").insert({"id": user_id, "created_at": NOW.isoformat()})
    return database


@pytest.fixture
def repo(db: Database) -> SessionRepository:
    return SessionRepository(db)


def test_a_started_session_waits_for_the_pain_check(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 0.75, NOW)
    session = repo.get(session_id, 1)
    assert (session.phase, session.plan, session.dose) == ("release", PLAN, 0.75)
    assert (session.status, session.current_step, session.started_at) == ("pain-check", 0, NOW)
    assert session.finished_at is None and not session.closed


def test_start_accepts_a_plan_object(repo: SessionRepository) -> None:
    class Plan:
        def to_json(self) -> str:
            return PLAN

    assert repo.get(repo.start(1, "release", Plan(), 1.0, NOW), 1).plan == PLAN


def test_times_are_stored_as_the_same_instant_in_utc(repo: SessionRepository) -> None:
    local = datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    session = repo.get(repo.start(1, "release", PLAN, 1.0, local), 1)
    assert session.started_at == local and session.started_at.tzinfo == UTC


def test_naive_times_are_refused(repo: SessionRepository) -> None:
    with pytest.raises(ValueError, match="naive"):
        repo.start(1, "release", PLAN, 1.0, datetime(2026, 3, 2, 9, 0))


def test_pain_check_moves_the_session_on(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    repo.set_pain_before(session_id, 1, 6)
    repo.set_current_step(session_id, 1, 2)
    repo.await_pain_after(session_id, 1)
    repo.set_pain_after(session_id, 1, 4)
    session = repo.get(session_id, 1)
    assert (session.pain_before, session.pain_after) == (6, 4)
    assert (session.status, session.current_step) == ("post-check", 2)


@pytest.mark.parametrize("pain", [-1, 11, 2.5, True])
def test_pain_outside_0_to_10_is_refused(repo: SessionRepository, pain: object) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    with pytest.raises(ValueError):
        repo.set_pain_before(session_id, 1, pain)  # type: ignore[arg-type]


def test_a_step_is_logged_once_however_often_it_is_tapped(
    repo: SessionRepository, db: Database
) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    assert repo.record_step(session_id, 1, 0, "soleus-footballer", "done", 90, NOW)
    assert not repo.record_step(session_id, 1, 0, "soleus-footballer", "skipped", 0, NOW)
    assert db["step_events"].count == 1
    assert repo.events(1)[0].outcome == "done"


def test_unknown_outcome_is_refused(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    with pytest.raises(ValueError):
        repo.record_step(session_id, 1, 0, "soleus-footballer", "great", 90, NOW)


def test_closed_sessions_take_no_more_steps(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    assert repo.finish(session_id, 1, NOW)
    assert not repo.record_step(session_id, 1, 0, "soleus-footballer", "done", 90, NOW)


def test_finish_and_abandon_close_once(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    later = NOW + timedelta(minutes=15)
    assert repo.finish(session_id, 1, later)
    assert not repo.finish(session_id, 1, later)
    assert not repo.abandon(session_id, 1, later)
    session = repo.get(session_id, 1)
    assert (session.status, session.finished_at) == ("finished", later)


def test_unfinished_is_the_latest_open_session(repo: SessionRepository) -> None:
    assert repo.unfinished(1) is None
    first = repo.start(1, "release", PLAN, 1.0, NOW)
    second = repo.start(1, "release", PLAN, 1.0, NOW + timedelta(hours=1))
    open_session = repo.unfinished(1)
    assert open_session is not None and open_session.id == second
    repo.abandon(second, 1, NOW + timedelta(hours=2))
    open_session = repo.unfinished(1)
    assert open_session is not None and open_session.id == first
    repo.finish(first, 1, NOW + timedelta(hours=2))
    assert repo.unfinished(1) is None


def test_missing_session_raises_a_named_error(repo: SessionRepository) -> None:
    with pytest.raises(SessionNotFound):
        repo.get(999, 1)
    with pytest.raises(SessionNotFound):
        repo.finish(999, 1, NOW)


@pytest.mark.parametrize(
    "action",
    [
        lambda repo, sid: repo.get(sid, 2),
        lambda repo, sid: repo.set_pain_before(sid, 2, 3),
        lambda repo, sid: repo.set_pain_after(sid, 2, 3),
        lambda repo, sid: repo.set_current_step(sid, 2, 1),
        lambda repo, sid: repo.await_pain_after(sid, 2),
        lambda repo, sid: repo.record_step(sid, 2, 0, "soleus-footballer", "done", 90, NOW),
        lambda repo, sid: repo.finish(sid, 2, NOW),
        lambda repo, sid: repo.abandon(sid, 2, NOW),
    ],
    ids=["get", "pain-before", "pain-after", "step", "post-check", "record", "finish", "abandon"],
)
def test_a_user_never_reaches_another_users_session(repo: SessionRepository, action) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    with pytest.raises(SessionNotFound):
        action(repo, session_id)
    session = repo.get(session_id, 1)
    assert (session.status, session.pain_before) == ("pain-check", None)
    assert repo.unfinished(2) is None and repo.history(2) == [] and repo.events(2) == []


def test_history_counts_outcomes_and_seconds(repo: SessionRepository) -> None:
    first = repo.start(1, "release", PLAN, 0.75, NOW)
    repo.set_pain_before(first, 1, 5)
    outcomes = [("done", 90), ("done", 70), ("skipped", 0), ("too-painful", 20)]
    for index, (outcome, seconds) in enumerate(outcomes):
        repo.record_step(first, 1, index, f"step-{index}", outcome, seconds, NOW)
    repo.set_pain_after(first, 1, 3)
    repo.finish(first, 1, NOW + timedelta(minutes=10))
    abandoned = repo.start(1, "release", PLAN, 0.5, NOW + timedelta(days=2))
    repo.abandon(abandoned, 1, NOW + timedelta(days=2, minutes=3))
    repo.start(1, "release", PLAN, 0.5, NOW + timedelta(days=4))  # still open: not history

    history = repo.history(1)
    assert [(r.id, r.status) for r in history] == [(first, "finished"), (abandoned, "abandoned")]
    record = history[0]
    assert (record.done, record.skipped, record.too_painful, record.seconds) == (2, 1, 1, 180)
    assert (record.pain_before, record.pain_after, record.pain_change) == (5, 3, -2)
    assert (record.dose, record.started_at, record.finished) == (0.75, NOW, True)
    assert (history[1].done, history[1].seconds, history[1].finished) == (0, 0, False)


def test_events_come_in_session_and_step_order(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    for index in (2, 0, 1):
        repo.record_step(session_id, 1, index, f"step-{index}", "done", 30, NOW)
    assert [event.step_index for event in repo.events(1)] == [0, 1, 2]
