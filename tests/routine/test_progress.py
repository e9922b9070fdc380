"""Progress figures, the pain chart and the CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backchain.bot.routine.program import Program
from backchain.bot.routine.progress import (
    TREND_MIN_DAYS,
    ScoreSeries,
    WeekTally,
    progress_summary,
    render_pain_chart,
)

from backchain.records import SessionRecord
from tests.support.content_fixtures import MONDAY, closed_session, shipped_program


@pytest.fixture(scope="module")
def program() -> Program:
    return shipped_program()


def record(
    day: int,
    before: int | None,
    after: int | None,
    phase: str = "release",
    status: str = "finished",
) -> SessionRecord:
    """A closed session of six steps and ten minutes, with its two pain scores."""
    return closed_session(day, phase, before, after, status=status, seconds=600)


def at_day(day: int) -> datetime:
    return MONDAY + timedelta(days=day, hours=1)


# Mon, Wed, Fri, then Mon and Wed of the next week, pain coming down.
ON_TRACK = [record(0, 7, 6), record(2, 7, 5), record(4, 6, 5), record(7, 5, 4), record(9, 4, 3)]


def test_summary_counts_this_week_against_the_phase_target(program: Program) -> None:
    summary = progress_summary(program, ON_TRACK, at_day(9), UTC)
    assert (summary.phase_id, summary.phase_number, summary.phase_count) == ("release", 1, 3)
    assert (summary.sessions_in_phase, summary.sessions_needed) == (5, 6)
    assert (summary.sessions_this_week, summary.weekly_target) == (2, 3)
    assert summary.real_minutes == 50


def test_first_week_has_no_adherence_figure_yet(program: Program) -> None:
    four_on_day_one = [closed_session(0, session_id=n) for n in range(4)]
    summary = progress_summary(program, four_on_day_one, at_day(0), UTC)
    assert (summary.sessions_this_week, summary.weekly_target) == (4, 3)
    assert summary.adherence_percent is None and summary.full_weeks == ()


def test_adherence_is_over_full_weeks_and_extra_sessions_do_not_carry(program: Program) -> None:
    summary = progress_summary(program, ON_TRACK, at_day(9), UTC)
    assert summary.full_weeks == (WeekTally(MONDAY.date(), 3, 3),)
    assert summary.adherence_percent == 100
    crammed = [closed_session(0, session_id=n) for n in range(5)]
    summary = progress_summary(program, crammed, at_day(14), UTC)
    assert [w.done for w in summary.full_weeks] == [5, 0]
    assert summary.adherence_percent == 50  # 3 of 6: five in one week count as three


def test_adherence_drops_when_sessions_are_missed(program: Program) -> None:
    history = [record(0, 5, 4), record(2, 5, 4)]
    summary = progress_summary(program, history, at_day(14), UTC)  # two full weeks, three a week
    assert summary.adherence_percent == 33
    assert summary.sessions_this_week == 0


def test_adherence_follows_each_phase_target(program: Program) -> None:
    release = [record(2 * n, 5, 4) for n in range(6)]  # days 0-10
    restore = [record(14 + n, 4, 3, "restore") for n in range(4)]  # days 14-17
    summary = progress_summary(program, release + restore, at_day(21), UTC)
    assert [(w.done, w.target) for w in summary.full_weeks] == [(4, 3), (2, 3), (4, 4)]
    assert summary.adherence_percent == 90  # (3 + 2 + 4) of 10
    assert (summary.phase_id, summary.weekly_target) == ("restore", 4)


def test_real_and_planned_minutes_are_kept_apart(program: Program) -> None:
    quick = [closed_session(0, seconds=15)]
    summary = progress_summary(program, quick, at_day(0), UTC)
    assert summary.real_minutes == 0 and summary.planned_minutes > 5


def test_no_trend_before_three_separate_days(program: Program) -> None:
    same_morning = [closed_session(0, before=8 - n, session_id=n) for n in range(4)]
    assert progress_summary(program, same_morning, at_day(0), UTC).pain.direction == "too-early"
    two_days = [record(0, 8, 7), record(1, 6, 5), record(1, 4, 3)]
    trend = progress_summary(program, two_days, at_day(1), UTC).pain
    assert (trend.direction, trend.days) == ("too-early", 2)
    three_days = [*two_days, record(2, 3, 2)]
    trend = progress_summary(program, three_days, at_day(2), UTC).pain
    assert (trend.direction, trend.days) == ("falling", TREND_MIN_DAYS)


def test_no_sessions_yet(program: Program) -> None:
    summary = progress_summary(program, [], at_day(0), UTC)
    assert summary.adherence_percent is None and summary.completed_sessions == 0
    assert summary.pain.direction == "too-early" and summary.pain.average_before is None


def test_pain_trend_averages_the_last_sessions_and_gives_a_direction(program: Program) -> None:
    old = [record(-20 + n, 9, 9) for n in range(5)]  # outside the window of five
    summary = progress_summary(program, old + ON_TRACK, at_day(9), UTC)
    assert summary.pain.sessions == 5
    assert (summary.pain.average_before, summary.pain.average_after) == (5.8, 4.6)
    assert summary.pain.direction == "falling"


def test_abandoned_sessions_are_not_progress(program: Program) -> None:
    history = [*ON_TRACK, record(10, 8, None, status="abandoned")]
    summary = progress_summary(program, history, at_day(10), UTC)
    assert summary.completed_sessions == 5 and summary.pain.average_before == 5.8


def test_chart_is_a_non_empty_png(program: Program, tmp_path: Path) -> None:
    path = render_pain_chart(ON_TRACK, tmp_path / "charts" / "pain.png", program.texts)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(data[16:20], "big")
    assert width >= 900, "wide enough to read on a phone"


def test_chart_copes_with_missing_ratings(tmp_path: Path) -> None:
    history = [record(0, 5, None), record(2, None, 3), record(4, 4, 3)]
    assert render_pain_chart(history, tmp_path / "pain.png").stat().st_size > 0


def test_chart_without_ratings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_pain_chart([record(0, None, None)], tmp_path / "pain.png")


def test_chart_of_one_day_spans_one_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    spans: list[tuple[float, float]] = []
    original = Figure.savefig

    def spy(self: Figure, *args: object, **kwargs: object) -> None:
        spans.extend(tuple(axes.get_xlim()) for axes in self.axes)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    one_day = [closed_session(0, session_id=n) for n in range(4)]
    render_pain_chart(one_day, tmp_path / "one.png")
    assert [round(high - low, 3) for low, high in spans] == [1.0]  # a day, not 2024-2030
    spans.clear()
    scores = [ScoreSeries("PEG", ((MONDAY + timedelta(days=13), 4.0),))]
    render_pain_chart(ON_TRACK, tmp_path / "two.png", scores=scores)
    assert [round(high - low) for low, high in spans] == [14, 14]  # two panels, the data's span
