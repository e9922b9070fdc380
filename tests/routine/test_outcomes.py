"""The outcome-score rule: weekly averages, and when PSFS or PEG hold the phase."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from backchain.bot.routine.outcomes import OutcomeRule, change, hold_reason, weekly_means
from backchain.bot.routine.plan import program_status

from tests.support.content_fixtures import closed_session, shipped_program

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULE = OutcomeRule(psfs_drop=2, peg_rise=2, check_every_days=7)


def week(n: int, *scores: float) -> list[tuple[datetime, float]]:
    return [(MONDAY + timedelta(days=7 * n, minutes=i), float(s)) for i, s in enumerate(scores)]


def test_weekly_means_average_each_week() -> None:
    points = week(0, 4, 6) + week(1, 7)
    assert weekly_means(points, UTC) == [
        (MONDAY.date(), 5.0),
        ((MONDAY + timedelta(7)).date(), 7.0),
    ]
    assert change(points, UTC) == 2.0
    assert change(week(0, 4, 6), UTC) is None  # one week says nothing about change


@pytest.mark.parametrize(
    ("psfs", "peg", "reason"),
    [
        (week(0, 6, 6) + week(1, 4, 4), [], "psfs"),  # activities 2 points harder
        (week(0, 6) + week(1, 5), [], ""),  # one point is within the noise
        ([], week(0, 4, 4, 4) + week(2, 6, 7, 5), "peg"),  # pain more in the way
        ([], week(0, 6, 6, 6) + week(1, 3, 3, 3), ""),  # better never holds
        (week(0, 5) + week(1, 8), week(0, 5) + week(1, 8), "peg"),
    ],
)
def test_hold_reason(psfs: list, peg: list, reason: str) -> None:
    assert hold_reason(RULE, psfs, peg, UTC) == reason


def test_a_hold_keeps_the_phase_that_session_pain_would_end() -> None:
    program = shipped_program()
    six_good = [closed_session(2 * n, before=5, after=4, session_id=n) for n in range(6)]
    assert program_status(program, six_good).phase_id == "restore"
    held = program_status(program, six_good, hold="peg")
    assert (held.phase_id, held.held_by, held.advanced) == ("release", "peg", False)
