"""PSFS activities and outcome scores, and routine settings, on a fresh database per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from backchain.storage import open_database
from backchain.storage.outcomes import OutcomeRepository
from backchain.storage.routine_settings import RoutineSettings, RoutineSettingsRepository
from backchain.storage.users import UserRepository
from sqlite_utils import Database

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def db() -> Database:
    database = open_database(None)
    for user_id in (1, 2):
        UserRepository(database).ensure(user_id, NOW)
    return database


def test_up_to_three_activities_each_with_a_first_score(db: Database) -> None:
    repo = OutcomeRepository(db)
    for n, name in enumerate(["tie my  shoes", "sit through a meeting", "walk the dog", "run"]):
        added = repo.add_activity(1, name, 4 + n, NOW)
        assert (added is None) == (n == 3)
    assert [a.text for a in repo.activities(1)] == [
        "tie my shoes",
        "sit through a meeting",
        "walk the dog",
    ]
    assert [(s.item, s.score) for s in repo.scores(1)] == [("1", 4), ("2", 5), ("3", 6)]
    assert repo.activities(2) == [] and repo.scores(2) == []


def test_scores_are_checked_and_ordered(db: Database) -> None:
    repo = OutcomeRepository(db)
    repo.record(1, "peg", "pain", 6, NOW + timedelta(days=7))
    repo.record(1, "peg", "pain", 7, NOW)
    assert [s.score for s in repo.scores(1)] == [7, 6]
    for bad in [("peg", "mood", 3), ("gad7", "pain", 3), ("peg", "pain", 11)]:
        with pytest.raises(ValueError):
            repo.record(1, *bad, NOW)


def test_forget_removes_outcomes_and_settings(db: Database) -> None:
    repo = OutcomeRepository(db)
    settings = RoutineSettingsRepository(db)
    repo.add_activity(1, "tie my shoes", 4, NOW)
    repo.record(1, "peg", "pain", 6, NOW)
    settings.save(1, RoutineSettings(rest_day_note=True, summary_weekday=6))
    assert settings.get(1) == RoutineSettings(True, 6)
    UserRepository(db).delete_everything(1)
    assert repo.scores(1) == [] and repo.activities(1) == []
    assert settings.get(1) == RoutineSettings()
