"""Progress: the summary figures, the pain chart and the CSV export of a user's sessions."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from backchain.bot.routine.plan import pain_direction, program_status
from backchain.bot.routine.program import Program

from backchain.records import SessionRecord, StepEvent, StoredSession

# Fallbacks only; the bot passes the texts from content/program.yaml.
DEFAULT_CHART_LABELS = {
    "chart_title": "Pain before and after each session",
    "chart_before": "Before",
    "chart_after": "After",
    "chart_axis": "Pain (0-10)",
}
CSV_COLUMNS = (
    "record",
    "session_id",
    "started_at",
    "finished_at",
    "phase",
    "status",
    "dose",
    "pain_before",
    "pain_after",
    "step_index",
    "step_id",
    "outcome",
    "seconds",
    "at",
)


@dataclass(frozen=True)
class PainTrend:
    sessions: int  # rated sessions the averages cover
    average_before: float | None
    average_after: float | None
    direction: str  # rising | falling | stable | unknown, of the pain before sessions


@dataclass(frozen=True)
class ProgressSummary:
    phase_id: str
    phase_title: str
    phase_number: int
    phase_count: int
    sessions_in_phase: int
    sessions_needed: int | None
    sessions_this_week: int
    weekly_target: int
    completed_sessions: int
    planned_sessions: int
    adherence_percent: int | None  # None before the first session
    minutes_total: int
    pain: PainTrend
    next_due: date | None


def _local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def _planned_sessions(
    program: Program, finished: Sequence[SessionRecord], today: date, tz: tzinfo
) -> int:
    """Sessions the schedule asked for from the first session until today, phase by phase."""
    phase_ids = {phase.id for phase in program.phases}
    segments: list[tuple[date, int]] = []
    for record in finished:
        phase = program.phase(record.phase) if record.phase in phase_ids else program.first_phase
        if not segments or segments[-1][1] != phase.sessions_per_week:
            segments.append((_local_day(record.started_at, tz), phase.sessions_per_week))
    expected = 0.0
    for position, (start, per_week) in enumerate(segments):
        end = segments[position + 1][0] if position + 1 < len(segments) else today + timedelta(1)
        expected += max(0, (end - start).days) * per_week / 7
    return max(1, math.floor(expected + 0.5))


def pain_trend(history: Sequence[SessionRecord], window: int) -> PainTrend:
    rated = [
        r for r in history if r.finished and (r.pain_before is not None or r.pain_after is not None)
    ][-window:]
    before = [float(r.pain_before) for r in rated if r.pain_before is not None]
    after = [float(r.pain_after) for r in rated if r.pain_after is not None]
    return PainTrend(
        sessions=len(rated),
        average_before=round(sum(before) / len(before), 1) if before else None,
        average_after=round(sum(after) / len(after), 1) if after else None,
        direction=pain_direction(before),
    )


def progress_summary(
    program: Program, history: Sequence[SessionRecord], now: datetime, tz: tzinfo
) -> ProgressSummary:
    """Figures for the progress reply: this week, adherence to the plan, phase and pain trend."""
    status = program_status(program, history, tz)
    phase = program.phase(status.phase_id)
    finished = sorted((r for r in history if r.finished), key=lambda r: (r.started_at, r.id))
    today = _local_day(now, tz)
    week_start = today - timedelta(days=today.weekday())
    this_week = sum(1 for r in finished if week_start <= _local_day(r.started_at, tz) <= today)
    planned = _planned_sessions(program, finished, today, tz) if finished else 0
    adherence = round(100 * min(len(finished), planned) / planned) if planned else None
    return ProgressSummary(
        phase_id=phase.id,
        phase_title=phase.title,
        phase_number=status.phase_index + 1,
        phase_count=len(program.phases),
        sessions_in_phase=status.sessions_in_phase,
        sessions_needed=status.sessions_needed,
        sessions_this_week=this_week,
        weekly_target=phase.sessions_per_week,
        completed_sessions=len(finished),
        planned_sessions=planned,
        adherence_percent=adherence,
        minutes_total=round(sum(r.seconds for r in finished) / 60),
        pain=pain_trend(finished, program.progression.trend_window),
        next_due=status.next_due,
    )


def render_pain_chart(
    history: Sequence[SessionRecord],
    path: Path,
    labels: Mapping[str, str] | None = None,
    tz: tzinfo = UTC,
) -> Path:
    """Draw pain before and after each finished session to a PNG; ValueError with no ratings."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    text = {**DEFAULT_CHART_LABELS, **(labels or {})}
    rated = sorted(
        (
            r
            for r in history
            if r.finished and (r.pain_before is not None or r.pain_after is not None)
        ),
        key=lambda r: r.started_at,
    )
    if not rated:
        raise ValueError("no finished session with a pain rating to chart")
    # Whole local days keep the markers on the date ticks.
    when = [mdates.date2num(datetime.combine(_local_day(r.started_at, tz), time())) for r in rated]
    # Figure without pyplot: no global state, safe to render from a worker thread.
    figure = Figure(figsize=(6, 4.2), dpi=180, layout="constrained")
    axes = figure.add_subplot()
    for attribute, label_key, marker in (
        ("pain_before", "chart_before", "o"),
        ("pain_after", "chart_after", "s"),
    ):
        points = [
            (t, getattr(r, attribute))
            for t, r in zip(when, rated, strict=True)
            if getattr(r, attribute) is not None
        ]
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker=marker,
            linewidth=2.2,
            markersize=7,
            label=text[label_key],
        )
    axes.set_ylim(-0.3, 10.3)
    axes.set_yticks(range(0, 11, 2))
    axes.set_ylabel(text["chart_axis"], fontsize=12)
    axes.set_title(text["chart_title"], fontsize=14)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=6)
    axes.xaxis_date()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.tick_params(labelsize=11)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=11, loc="best")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def _iso(moment: datetime | None, tz: tzinfo) -> str:
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


def _blank(value: object) -> object:
    return "" if value is None else value


def _session_row(session: StoredSession, tz: tzinfo) -> dict[str, object]:
    return {
        "record": "session",
        "session_id": session.id,
        "started_at": _iso(session.started_at, tz),
        "finished_at": _iso(session.finished_at, tz),
        "phase": session.phase,
        "status": session.status,
        "dose": session.dose,
        "pain_before": _blank(session.pain_before),
        "pain_after": _blank(session.pain_after),
    }


def _step_row(session: StoredSession, event: StepEvent, tz: tzinfo) -> dict[str, object]:
    return {
        "record": "step",
        "session_id": session.id,
        "phase": session.phase,
        "step_index": event.step_index,
        "step_id": event.step_id,
        "outcome": event.outcome,
        "seconds": event.seconds,
        "at": _iso(event.at, tz),
    }


class SessionSource(Protocol):
    """Where the export reads a user's sessions and steps (the sessions repository)."""

    def sessions(self, user_id: int) -> Sequence[StoredSession]: ...

    def events(self, user_id: int) -> Sequence[StepEvent]: ...


def export_csv(repo: SessionSource, user_id: int, path: Path, tz: tzinfo = UTC) -> Path:
    """Write the user's sessions, each followed by its steps, as one CSV a doctor can open."""
    events_by_session: dict[int, list[StepEvent]] = {}
    for event in repo.events(user_id):
        events_by_session.setdefault(event.session_id, []).append(event)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, restval="")
        writer.writeheader()
        for session in repo.sessions(user_id):
            writer.writerow(_session_row(session, tz))
            for event in events_by_session.get(session.id, []):
                writer.writerow(_step_row(session, event, tz))
    return path
