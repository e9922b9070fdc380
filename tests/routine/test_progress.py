"""Progress figures, the pain chart and the CSV export."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backchain.bot.routine.program import Program
from backchain.bot.routine.progress import (
    CSV_COLUMNS,
    export_csv,
    progress_summary,
    render_pain_chart,
)
from backchain.storage import open_database
from backchain.storage.sessions import SessionRepository

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
    assert summary.minutes_total == 50


def test_adherence_is_sessions_done_over_sessions_planned(program: Program) -> None:
    summary = progress_summary(program, ON_TRACK, at_day(9), UTC)
    assert (summary.completed_sessions, summary.planned_sessions) == (5, 4)
    assert summary.adherence_percent == 100  # ahead of plan never shows above 100


def test_adherence_drops_when_sessions_are_missed(program: Program) -> None:
    history = [record(0, 5, 4), record(2, 5, 4)]
    summary = progress_summary(program, history, at_day(13), UTC)  # two weeks, three a week
    assert (summary.completed_sessions, summary.planned_sessions) == (2, 6)
    assert summary.adherence_percent == 33
    assert summary.sessions_this_week == 0


def test_adherence_follows_each_phase_target(program: Program) -> None:
    release = [record(2 * n, 5, 4) for n in range(6)]  # days 0-10
    restore = [record(14 + n, 4, 3, "restore") for n in range(4)]  # days 14-17
    summary = progress_summary(program, release + restore, at_day(20), UTC)
    # 14 days at 3 a week, then 7 days at 4 a week.
    assert summary.planned_sessions == 10
    assert summary.adherence_percent == 100
    assert (summary.phase_id, summary.weekly_target) == ("restore", 4)


def test_no_sessions_yet(program: Program) -> None:
    summary = progress_summary(program, [], at_day(0), UTC)
    assert summary.adherence_percent is None and summary.planned_sessions == 0
    assert summary.pain.direction == "unknown" and summary.pain.average_before is None


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


def test_csv_export_holds_the_users_sessions_and_steps(tmp_path: Path) -> None:
    db = open_database(None)
    for user_id in (1, 2):
        db.table("users").insert({"id": user_id, "created_at": MONDAY.isoformat()})
    repo = SessionRepository(db)
    session_id = repo.start(1, "release", "{}", 0.75, MONDAY)
    repo.set_pain_before(session_id, 1, 6)
    repo.record_step(session_id, 1, 0, "soleus-footballer", "done", 90, MONDAY)
    repo.record_step(session_id, 1, 1, "shin-tp-ball", "too-painful", 20, MONDAY)
    repo.set_pain_after(session_id, 1, 5)
    repo.finish(session_id, 1, MONDAY + timedelta(minutes=9))
    other = repo.start(2, "release", "{}", 1.0, MONDAY)
    repo.record_step(other, 2, 0, "secret-step", "done", 90, MONDAY)

    path = export_csv(repo, 1, tmp_path / "export.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)

    assert [row["record"] for row in rows] == ["session", "step", "step"]
    session = rows[0]
    assert datetime.fromisoformat(session["started_at"]) == MONDAY
    assert datetime.fromisoformat(session["finished_at"]) == MONDAY + timedelta(minutes=9)
    assert (session["pain_before"], session["pain_after"], session["status"]) == (
        "6",
        "5",
        "finished",
    )
    assert [(r["step_id"], r["outcome"], r["seconds"]) for r in rows[1:]] == [
        ("soleus-footballer", "done", "90"),
        ("shin-tp-ball", "too-painful", "20"),
    ]
    assert "secret-step" not in path.read_text(encoding="utf-8")
    assert export_csv(repo, 2, tmp_path / "two.csv").read_text().count("\n") == 3
