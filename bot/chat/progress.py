"""/progress: the user's own figures in days and weeks, a pain chart and outcome scores."""

from __future__ import annotations

from pathlib import Path

from backchain.bot.chat.replies import Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.chat.session import duration_text, user_zone
from backchain.bot.routine.plan import SessionPlan
from backchain.bot.routine.progress import (
    ProgressSummary,
    ScoreSeries,
    StepTally,
    progress_summary,
    render_pain_chart,
    render_summary_page,
    week_tallies,
)
from backchain.storage.users import User

TREND_KEYS = {
    "falling": "trend_falling",
    "rising": "trend_rising",
    "stable": "trend_stable",
    "too-early": "trend_too_early",
}
SUMMARY_LABELS = (
    "summary_title",
    "per_week_title",
    "done",
    "planned",
    "no_scores",
)


def score_series(services: Services, user: User) -> list[ScoreSeries]:
    """PSFS (average of the activities) and PEG (average of its three items), per rating time."""
    msg = services.content.messages
    by_scale: dict[str, dict[object, list[int]]] = {"psfs": {}, "peg": {}}
    for score in services.outcomes.scores(user.id):
        # Ratings given in one sitting share a minute; that is one point on the chart.
        key = score.at.replace(second=0, microsecond=0)
        by_scale[score.scale].setdefault(key, []).append(score.score)
    series = []
    for scale in ("psfs", "peg"):
        points = tuple(
            (moment, round(sum(values) / len(values), 1))
            for moment, values in sorted(by_scale[scale].items(), key=lambda item: str(item[0]))
        )
        series.append(ScoreSeries(msg(f"chart_{scale}"), points))  # type: ignore[arg-type]
    return series


def _outcome_lines(services: Services, series: list[ScoreSeries]) -> list[str]:
    msg = services.content.messages
    lines = []
    for line, scale in zip(series, ("psfs", "peg"), strict=True):
        if line.points:
            first, latest = line.points[0][1], line.points[-1][1]
            lines.append(msg(f"progress_{scale}", first=f"{first:.1f}", latest=f"{latest:.1f}"))
    return lines


def progress_lines(services: Services, summary: ProgressSummary) -> list[str]:
    msg = services.content.messages
    lines = [
        msg(
            "progress_phase",
            phase=summary.phase_title,
            number=summary.phase_number,
            count=summary.phase_count,
        ),
        msg(
            "progress_week",
            sessions=msg.count("sessions", summary.sessions_this_week),
            target=summary.weekly_target,
        ),
    ]
    if summary.adherence_percent is None:
        lines.append(msg("progress_adherence_first_week"))
    else:
        weeks = summary.full_weeks
        lines.append(
            msg(
                "progress_adherence",
                weeks=msg.count("weeks", len(weeks)),
                done=sum(min(w.done, w.target) for w in weeks),
                planned=sum(w.target for w in weeks),
                percent=summary.adherence_percent,
            )
        )
    lines.append(
        msg(
            "progress_time",
            real=duration_text(services, summary.real_minutes * 60),
            planned=duration_text(services, summary.planned_minutes * 60),
        )
    )
    if summary.pain.average_before is not None:
        lines.append(
            msg(
                "progress_pain",
                before=f"{summary.pain.average_before:.1f}",
                after=f"{summary.pain.average_after or 0:.1f}",
                sessions=msg.count("sessions", summary.pain.sessions),
            )
        )
    lines.append(msg(TREND_KEYS[summary.pain.direction], days=summary.pain.days))
    return lines


def chart_score_labels(services: Services) -> dict[str, str]:
    msg = services.content.messages
    return {
        "chart_scores_title": msg("chart_scores_title"),
        "chart_scores_axis": msg("chart_scores_axis"),
    }


def progress(services: Services, user: User) -> Outcome:
    from backchain.bot.chat.export import new_workdir

    msg = services.content.messages
    program = services.content.program
    zone = user_zone(user)
    history = services.sessions.history(user.id)
    summary = progress_summary(program, history, services.clock(), zone)
    if summary.completed_sessions == 0:
        return Outcome().say(Reply(msg("progress_empty")))
    series = score_series(services, user)
    text = "\n".join(progress_lines(services, summary) + _outcome_lines(services, series))
    labels = {**program.texts, **chart_score_labels(services)}
    try:
        chart = render_pain_chart(
            history, new_workdir(services, user) / "pain-chart.png", labels, zone, series
        )
    except ValueError:
        return Outcome().say(Reply(text))
    return Outcome().say(Reply(text, image=chart, temporary=True))


def step_tallies(services: Services, user: User) -> list[StepTally]:
    titles: dict[str, str] = {}
    for stored in services.sessions.sessions(user.id):
        for step in SessionPlan.from_json(stored.plan).steps:
            titles.setdefault(step.step_id, step.title)
    counts: dict[str, list[int]] = {}
    for event in services.sessions.events(user.id):
        tally = counts.setdefault(event.step_id, [0, 0])
        if event.outcome == "skipped":
            tally[0] += 1
        elif event.outcome == "too-painful":
            tally[1] += 1
    return [
        StepTally(titles.get(step_id, step_id), skipped, hurt)
        for step_id, (skipped, hurt) in counts.items()
    ]


def summary_notes(services: Services, user: User) -> list[str]:
    msg = services.content.messages
    troubled = [s for s in step_tallies(services, user) if s.skipped or s.too_painful]
    lines = [msg("page_steps_title")]
    lines += [
        msg("page_step_line", title=s.title, skipped=s.skipped, hurt=s.too_painful)
        for s in troubled
    ] or [msg("page_no_trouble")]
    return [*lines, "", msg("page_footnote")]


def summary_image(services: Services, user: User, path: Path) -> Path | None:
    """The one-page summary for a physiotherapist; None before the first finished session."""
    msg = services.content.messages
    program = services.content.program
    zone = user_zone(user)
    history = services.sessions.history(user.id)
    finished = [r for r in history if r.finished]
    today = services.clock().astimezone(zone).date()
    labels = {**program.texts, **{key: msg(f"page_{key}") for key in SUMMARY_LABELS}}
    labels.update(chart_score_labels(services))
    try:
        return render_summary_page(
            history,
            week_tallies(program, finished, today, zone),
            score_series(services, user),
            summary_notes(services, user),
            labels,
            path,
            zone,
        )
    except ValueError:
        return None
