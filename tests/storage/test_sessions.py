"""SessionRepository on a fresh in-memory database per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from backchain.storage import open_database
from backchain.storage.sessions import SessionNotFound, SessionRepository, StepAnswer
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


def answer(
    session_id: int,
    index: int,
    outcome: str = "done",
    user_id: int = 1,
    planned: int = 90,
    count: int = 3,
) -> StepAnswer:
    return StepAnswer(session_id, user_id, index, f"step-{index}", outcome, planned, count, 400)


def through(repo: SessionRepository, session_id: int, outcomes: list[str], now=NOW) -> None:
    for index, outcome in enumerate(outcomes):
        repo.complete_step(answer(session_id, index, outcome, count=len(outcomes)), now)


def test_pain_check_moves_the_session_on_and_the_last_step_to_the_closing_check(
    repo: SessionRepository,
) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    moved = repo.answer_pain_before(session_id, 1, 6, NOW + timedelta(seconds=5))
    assert moved is not None and (moved.status, moved.current_step) == ("active", 0)
    assert moved.step_shown_at == NOW + timedelta(seconds=5)
    assert repo.answer_pain_before(session_id, 1, 2, NOW) is None  # answered already
    moved = repo.complete_step(answer(session_id, 0, count=2), NOW + timedelta(seconds=60))
    assert moved is not None and (moved.status, moved.current_step) == ("active", 1)
    moved = repo.complete_step(answer(session_id, 1, count=2), NOW + timedelta(seconds=90))
    assert moved is not None and (moved.status, moved.current_step) == ("post-check", 2)
    assert repo.finish(session_id, 1, 4, NOW + timedelta(minutes=3))
    session = repo.get(session_id, 1)
    assert (session.pain_before, session.pain_after, session.status) == (6, 4, "finished")


def test_real_time_runs_from_showing_the_step_to_the_answer_and_is_capped(
    repo: SessionRepository,
) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    repo.answer_pain_before(session_id, 1, 3, NOW)
    repo.complete_step(answer(session_id, 0), NOW + timedelta(seconds=1))  # a quick click
    repo.complete_step(answer(session_id, 1), NOW + timedelta(seconds=96))  # a timer of 90 s
    repo.complete_step(answer(session_id, 2), NOW + timedelta(hours=2))  # phone left lying
    events = repo.events(1)
    assert [(e.planned_seconds, e.active_seconds) for e in events] == [
        (90, 1),
        (90, 95),
        (90, 400),
    ]


@pytest.mark.parametrize("pain", [-1, 11, 2.5, True])
def test_pain_outside_0_to_10_is_refused(repo: SessionRepository, pain: object) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    with pytest.raises(ValueError):
        repo.answer_pain_before(session_id, 1, pain, NOW)  # type: ignore[arg-type]


def test_a_step_is_logged_once_however_often_it_is_tapped(
    repo: SessionRepository, db: Database
) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    repo.answer_pain_before(session_id, 1, 3, NOW)
    assert repo.complete_step(answer(session_id, 0), NOW) is not None
    assert repo.complete_step(answer(session_id, 0, "skipped"), NOW) is None
    assert db["step_events"].count == 1
    assert repo.events(1)[0].outcome == "done"


def test_steps_wait_for_the_pain_check(repo: SessionRepository, db: Database) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    assert repo.complete_step(answer(session_id, 0), NOW) is None
    assert db["step_events"].count == 0


def test_unknown_outcome_and_bad_index_are_refused(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    with pytest.raises(ValueError):
        repo.complete_step(answer(session_id, 0, "great"), NOW)
    with pytest.raises(ValueError):
        repo.complete_step(answer(session_id, 3, count=3), NOW)


def test_closed_sessions_take_no_more_steps(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    repo.answer_pain_before(session_id, 1, 3, NOW)
    assert repo.abandon(session_id, 1, NOW)
    assert repo.complete_step(answer(session_id, 0), NOW) is None


def test_finish_and_abandon_close_once(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    repo.answer_pain_before(session_id, 1, 3, NOW)
    through(repo, session_id, ["done"])
    later = NOW + timedelta(minutes=15)
    assert repo.finish(session_id, 1, 2, later)
    assert not repo.finish(session_id, 1, 2, later)
    assert not repo.abandon(session_id, 1, later)
    session = repo.get(session_id, 1)
    assert (session.status, session.finished_at) == ("finished", later)


def test_finish_needs_the_steps_to_be_through(repo: SessionRepository) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    assert not repo.finish(session_id, 1, 2, NOW)
    assert repo.get(session_id, 1).status == "pain-check"


def test_unfinished_is_the_latest_open_session(repo: SessionRepository) -> None:
    assert repo.unfinished(1) is None
    first = repo.start(1, "release", PLAN, 1.0, NOW)
    second = repo.start(1, "release", PLAN, 1.0, NOW + timedelta(hours=1))
    open_session = repo.unfinished(1)
    assert open_session is not None and open_session.id == second
    repo.abandon(second, 1, NOW + timedelta(hours=2))
    open_session = repo.unfinished(1)
    assert open_session is not None and open_session.id == first
    repo.abandon(first, 1, NOW + timedelta(hours=2))
    assert repo.unfinished(1) is None


def test_missing_session_raises_a_named_error(repo: SessionRepository) -> None:
    with pytest.raises(SessionNotFound):
        repo.get(999, 1)
    with pytest.raises(SessionNotFound):
        repo.finish(999, 1, 3, NOW)


@pytest.mark.parametrize(
    "action",
    [
        lambda repo, sid: repo.get(sid, 2),
        lambda repo, sid: repo.answer_pain_before(sid, 2, 3, NOW),
        lambda repo, sid: repo.complete_step(answer(sid, 0, user_id=2), NOW),
        lambda repo, sid: repo.steps_through(sid, 2, NOW),
        lambda repo, sid: repo.finish(sid, 2, 3, NOW),
        lambda repo, sid: repo.abandon(sid, 2, NOW),
    ],
    ids=["get", "pain-before", "step", "steps-through", "finish", "abandon"],
)
def test_a_user_never_reaches_another_users_session(repo: SessionRepository, action) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    with pytest.raises(SessionNotFound):
        action(repo, session_id)
    session = repo.get(session_id, 1)
    assert (session.status, session.pain_before) == ("pain-check", None)
    assert repo.unfinished(2) is None and repo.history(2) == [] and repo.events(2) == []


def test_history_counts_outcomes_and_real_and_planned_seconds(repo: SessionRepository) -> None:
    first = repo.start(1, "release", PLAN, 0.75, NOW)
    repo.answer_pain_before(first, 1, 5, NOW)
    for index, (outcome, after) in enumerate(
        [("done", 90), ("done", 70), ("skipped", 2), ("too-painful", 20)]
    ):
        step = answer(first, index, outcome, planned=60, count=4)
        repo.complete_step(step, NOW + timedelta(seconds=after))
        repo.db.execute("update sessions set step_shown_at = ?", [NOW.isoformat()])
    repo.finish(first, 1, 3, NOW + timedelta(minutes=10))
    abandoned = repo.start(1, "release", PLAN, 0.5, NOW + timedelta(days=2))
    repo.abandon(abandoned, 1, NOW + timedelta(days=2, minutes=3))
    repo.start(1, "release", PLAN, 0.5, NOW + timedelta(days=4))  # still open: not history

    history = repo.history(1)
    assert [(r.id, r.status) for r in history] == [(first, "finished"), (abandoned, "abandoned")]
    record = history[0]
    assert (record.done, record.skipped, record.too_painful) == (2, 1, 1)
    assert (record.seconds, record.planned_seconds) == (182, 240)
    assert (record.pain_before, record.pain_after, record.pain_change) == (5, 3, -2)
    assert (record.dose, record.started_at, record.finished) == (0.75, NOW, True)
    assert (history[1].done, history[1].seconds, history[1].finished) == (0, 0, False)


def test_an_active_session_past_its_last_step_moves_to_the_closing_check(
    repo: SessionRepository,
) -> None:
    session_id = repo.start(1, "release", PLAN, 1.0, NOW)
    repo.answer_pain_before(session_id, 1, 3, NOW)
    repo.db.execute("update sessions set current_step = 7")  # as an older version could leave it
    moved = repo.steps_through(session_id, 1, NOW)
    assert moved is not None and moved.status == "post-check"
