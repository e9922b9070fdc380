"""/progress and /export: the user's own figures, a pain chart and a CSV file."""

from __future__ import annotations

import csv
from pathlib import Path

from backchain.bot.chat.replies import Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.chat.session import user_zone
from backchain.bot.routine.progress import export_csv, progress_summary, render_pain_chart
from backchain.storage.users import User

TREND_KEYS = {
    "falling": "trend_falling",
    "rising": "trend_rising",
    "stable": "trend_stable",
    "unknown": "trend_unknown",
}


def _user_file(services: Services, user: User, name: str) -> Path:
    """A per-user file name, so two users' charts never overwrite each other."""
    folder = services.files_dir / str(user.id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def progress(services: Services, user: User) -> Outcome:
    msg = services.content.messages
    program = services.content.program
    zone = user_zone(user)
    history = services.sessions.history(user.id)
    summary = progress_summary(program, history, services.clock(), zone)
    if summary.completed_sessions == 0:
        return Outcome().say(Reply(msg("progress_empty")))
    lines = [
        msg(
            "progress_phase",
            phase=summary.phase_title,
            number=summary.phase_number,
            count=summary.phase_count,
        ),
        msg("progress_week", done=summary.sessions_this_week, target=summary.weekly_target),
        msg(
            "progress_adherence",
            percent=summary.adherence_percent or 0,
            done=summary.completed_sessions,
            planned=summary.planned_sessions,
            minutes=summary.minutes_total,
        ),
    ]
    if summary.pain.average_before is not None:
        lines.append(
            msg(
                "progress_pain",
                before=f"{summary.pain.average_before:.1f}",
                after=f"{summary.pain.average_after or 0:.1f}",
                sessions=summary.pain.sessions,
            )
        )
    lines.append(msg(TREND_KEYS.get(summary.pain.direction, "trend_unknown")))
    reply = Reply("\n".join(lines))
    try:
        chart = render_pain_chart(
            history, _user_file(services, user, "pain-chart.png"), program.texts, zone
        )
    except ValueError:
        return Outcome().say(reply)
    return Outcome().say(Reply(reply.text, image=chart))


def export(services: Services, user: User) -> Outcome:
    """Two CSV files: sessions with their steps, and the questions asked with red-flag events."""
    zone = user_zone(user)
    sessions = export_csv(
        services.sessions, user.id, _user_file(services, user, "backchain-sessions.csv"), zone
    )
    questions = _user_file(services, user, "backchain-questions.csv")
    with questions.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["asked_at", "question", "topic", "score", "red_flag_level"])
        for row in services.questions.for_user(user.id):
            writer.writerow(
                [
                    row["asked_at"],
                    row["text"],
                    row["topic"] or "",
                    row["score"],
                    row["red_flag_level"] or "",
                ]
            )
    health = _user_file(services, user, "backchain-health-profile.csv")
    labels = services.content.precautions.conditions
    with health.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["condition", "side", "added_at"])
        for condition, side, added_at in services.health.rows_for_export(user.id):
            known = labels.get(condition)
            writer.writerow([known.label if known else condition, side or "", added_at])
    msg = services.content.messages
    return (
        Outcome()
        .say(Reply(msg("export_ready"), document=sessions))
        .say(Reply(msg("export_questions"), document=questions))
        .say(Reply(msg("export_health"), document=health))
    )
