"""Progress: the summary figures and the charts of a user's sessions and outcome scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from backchain.bot.routine.plan import pain_direction, program_status
from backchain.bot.routine.program import Program

from backchain.records import SessionRecord

# Fallbacks only; the bot passes the texts from content/program.yaml.
DEFAULT_CHART_LABELS = {
    "chart_title": "Pain before and after each session",
    "chart_before": "Before",
    "chart_after": "After",
    "chart_axis": "Pain (0-10)",
}


TREND_MIN_DAYS = 3  # separate days of pain ratings before a trend means anything


@dataclass(frozen=True)
class PainTrend:
    sessions: int  # rated sessions the averages cover
    days: int  # separate local days those sessions fall on
    average_before: float | None
    average_after: float | None
    direction: str  # rising | falling | stable | too-early, of the pain before sessions


@dataclass(frozen=True)
class WeekTally:
    start: date  # the Monday
    done: int
    target: int


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
    full_weeks: tuple[WeekTally, ...]  # every week since the first session, this one excluded
    adherence_percent: int | None  # over the full weeks; None before the first full week
    real_minutes: int  # measured time on the steps
    planned_minutes: int  # what the plans asked for the steps answered
    pain: PainTrend
    next_due: date | None


def _local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_tallies(
    program: Program, finished: Sequence[SessionRecord], today: date, tz: tzinfo
) -> list[WeekTally]:
    """Sessions done and planned in each week from the first session's week to this one.

    A week's target is the weekly number of the phase the person was in that week (the phase
    of its last session, else of the week before).
    """
    if not finished:
        return []
    phase_ids = {phase.id for phase in program.phases}
    by_week: dict[date, list[SessionRecord]] = {}
    for record in finished:
        by_week.setdefault(monday(_local_day(record.started_at, tz)), []).append(record)
    tallies: list[WeekTally] = []
    week = min(by_week)
    target = program.first_phase.sessions_per_week
    while week <= monday(today):
        records = by_week.get(week, [])
        if records and records[-1].phase in phase_ids:
            target = program.phase(records[-1].phase).sessions_per_week
        tallies.append(WeekTally(week, len(records), target))
        week += timedelta(days=7)
    return tallies


def adherence(full_weeks: Sequence[WeekTally]) -> int | None:
    """Planned sessions done over the full weeks; sessions above a week's plan do not carry."""
    planned = sum(week.target for week in full_weeks)
    if not planned:
        return None
    return round(100 * sum(min(week.done, week.target) for week in full_weeks) / planned)


def pain_trend(history: Sequence[SessionRecord], window: int, tz: tzinfo = UTC) -> PainTrend:
    """Averages over the last `window` rated sessions; a direction only with enough days."""
    rated = [
        r for r in history if r.finished and (r.pain_before is not None or r.pain_after is not None)
    ][-window:]
    before = [float(r.pain_before) for r in rated if r.pain_before is not None]
    after = [float(r.pain_after) for r in rated if r.pain_after is not None]
    days = len({_local_day(r.started_at, tz) for r in rated})
    return PainTrend(
        sessions=len(rated),
        days=days,
        average_before=round(sum(before) / len(before), 1) if before else None,
        average_after=round(sum(after) / len(after), 1) if after else None,
        direction=pain_direction(before) if days >= TREND_MIN_DAYS else "too-early",
    )


def progress_summary(
    program: Program, history: Sequence[SessionRecord], now: datetime, tz: tzinfo
) -> ProgressSummary:
    """Figures for the progress reply: this week, adherence over full weeks, phase, pain trend."""
    status = program_status(program, history, tz)
    phase = program.phase(status.phase_id)
    finished = sorted((r for r in history if r.finished), key=lambda r: (r.started_at, r.id))
    today = _local_day(now, tz)
    week_start = monday(today)
    this_week = sum(1 for r in finished if week_start <= _local_day(r.started_at, tz) <= today)
    full_weeks = tuple(
        w for w in week_tallies(program, finished, today, tz) if w.start < week_start
    )
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
        full_weeks=full_weeks,
        adherence_percent=adherence(full_weeks),
        real_minutes=round(sum(r.seconds for r in finished) / 60),
        planned_minutes=round(sum(r.planned_seconds for r in finished) / 60),
        pain=pain_trend(finished, program.progression.trend_window, tz),
        next_due=status.next_due,
    )


@dataclass(frozen=True)
class ScoreSeries:
    """One outcome line for the second panel: a label and its (moment, 0-10 score) points."""

    label: str
    points: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True)
class StepTally:
    """How often one step was skipped or too painful, for the summary page."""

    title: str
    skipped: int
    too_painful: int


def _rated(history: Sequence[SessionRecord]) -> list[SessionRecord]:
    return sorted(
        (
            r
            for r in history
            if r.finished and (r.pain_before is not None or r.pain_after is not None)
        ),
        key=lambda r: r.started_at,
    )


def _local_naive(moment: datetime, tz: tzinfo) -> datetime:
    """Matplotlib draws naive datetimes as given: local wall-clock time."""
    return moment.astimezone(tz).replace(tzinfo=None)


def _span(moments: Sequence[datetime]) -> tuple[datetime, datetime]:
    """The x range of the data: whole local days from the first to the last, never years."""
    first = datetime.combine(min(moments).date(), time())
    last = datetime.combine(max(moments).date(), time()) + timedelta(days=1)
    return first, last


def _date_axis(axes: Any, span: tuple[datetime, datetime]) -> None:
    from matplotlib import dates as mdates

    axes.set_xlim(*span)
    days = (span[1] - span[0]).days
    if days <= 1:
        locator: Any = mdates.HourLocator(byhour=range(0, 24, 4))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    else:
        locator = mdates.DayLocator(interval=max(1, days // 7))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))
    axes.xaxis.set_major_locator(locator)
    axes.tick_params(axis="x", labelrotation=30, labelsize=9)
    axes.grid(True, alpha=0.3)


def _pain_panel(
    axes: Any, rated: Sequence[SessionRecord], text: Mapping[str, str], tz: tzinfo
) -> None:
    for attribute, label_key, marker in (
        ("pain_before", "chart_before", "o"),
        ("pain_after", "chart_after", "s"),
    ):
        points = [
            (_local_naive(r.started_at, tz), getattr(r, attribute))
            for r in rated
            if getattr(r, attribute) is not None
        ]
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker=marker,
            linewidth=2,
            markersize=7,
            label=text[label_key],
        )
    axes.set_ylim(-0.3, 10.3)
    axes.set_yticks(range(0, 11, 2))
    axes.set_ylabel(text["chart_axis"], fontsize=10)
    axes.set_title(text["chart_title"], fontsize=12)
    axes.legend(fontsize=9, loc="best")


def _score_panel(
    axes: Any, series: Sequence[ScoreSeries], text: Mapping[str, str], tz: tzinfo
) -> None:
    for line in series:
        axes.plot(
            [_local_naive(p[0], tz) for p in line.points],
            [p[1] for p in line.points],
            marker="D",
            linewidth=2,
            markersize=6,
            label=line.label,
        )
    axes.set_ylim(-0.3, 10.3)
    axes.set_yticks(range(0, 11, 2))
    axes.set_ylabel(text.get("chart_scores_axis", "Score (0-10)"), fontsize=10)
    axes.set_title(text.get("chart_scores_title", "Outcome scores"), fontsize=12)
    axes.legend(fontsize=9, loc="best")


def render_pain_chart(
    history: Sequence[SessionRecord],
    path: Path,
    labels: Mapping[str, str] | None = None,
    tz: tzinfo = UTC,
    scores: Sequence[ScoreSeries] = (),
) -> Path:
    """Pain before and after each finished session, and outcome scores on a second panel once
    there are any, to a PNG. The x axis spans the data. ValueError with nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    text = {**DEFAULT_CHART_LABELS, **(labels or {})}
    rated = _rated(history)
    scores = [line for line in scores if line.points]
    if not rated:
        raise ValueError("no finished session with a pain rating to chart")
    moments = [_local_naive(r.started_at, tz) for r in rated]
    moments += [_local_naive(p[0], tz) for line in scores for p in line.points]
    span = _span(moments)
    # Figure without pyplot: no global state, safe to render from a worker thread.
    figure = Figure(figsize=(6, 7.5 if scores else 4.2), dpi=150, layout="constrained")
    panels = figure.subplots(2 if scores else 1, 1, sharex=True, squeeze=False)[:, 0]
    _pain_panel(panels[0], rated, text, tz)
    _date_axis(panels[0], span)
    if scores:
        _score_panel(panels[1], scores, text, tz)
        _date_axis(panels[1], span)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def render_summary_page(
    history: Sequence[SessionRecord],
    weeks: Sequence[WeekTally],
    scores: Sequence[ScoreSeries],
    notes: Sequence[str],
    text: Mapping[str, str],
    path: Path,
    tz: tzinfo = UTC,
) -> Path:
    """One page to show a physiotherapist: sessions per week, pain before and after, outcome
    scores, and `notes` (what was skipped or too painful) as lines of text. ValueError with no
    finished session."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = {**DEFAULT_CHART_LABELS, **text}
    finished = [r for r in history if r.finished]
    if not finished:
        raise ValueError("no finished session to summarise")
    figure = Figure(figsize=(8.27, 11.69), dpi=110, layout="constrained")  # A4 portrait
    figure.suptitle(labels["summary_title"], fontsize=15, fontweight="bold")
    grid = figure.subplots(4, 1, height_ratios=[1, 1.2, 1.2, 1], squeeze=True)
    bars, pain, outcome, table = grid
    bars.bar(
        [w.start.strftime("%d %b") for w in weeks], [w.done for w in weeks], label=labels["done"]
    )
    bars.bar(
        [w.start.strftime("%d %b") for w in weeks],
        [w.target for w in weeks],
        fill=False,
        edgecolor="black",
        linestyle="--",
        label=labels["planned"],
    )
    bars.set_title(labels["per_week_title"], fontsize=12)
    bars.legend(fontsize=9)
    bars.yaxis.get_major_locator().set_params(integer=True)
    rated = _rated(history)
    moments = [_local_naive(r.started_at, tz) for r in rated]
    moments += [_local_naive(p[0], tz) for line in scores for p in line.points]
    if rated:
        _pain_panel(pain, rated, labels, tz)
        _date_axis(pain, _span(moments))
    else:
        pain.set_axis_off()
    if any(line.points for line in scores):
        _score_panel(outcome, [line for line in scores if line.points], labels, tz)
        _date_axis(outcome, _span(moments))
    else:
        outcome.set_axis_off()
        outcome.text(0.5, 0.5, labels["no_scores"], ha="center", va="center", fontsize=11)
    table.set_axis_off()
    table.text(0, 1, "\n".join(notes), va="top", ha="left", fontsize=10, wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
