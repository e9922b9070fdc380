"""The weekly summary: sessions done, pain trend, what changed in the plan and why, next week."""

from __future__ import annotations

from datetime import timedelta

from backchain.bot.chat.callbacks import CheckinStart
from backchain.bot.chat.outcomes import checkin_items
from backchain.bot.chat.replies import Button, Reply
from backchain.bot.chat.services import Services
from backchain.bot.chat.session import todays_plan, user_zone
from backchain.bot.routine.progress import pain_trend
from backchain.storage.users import User

TREND_WORDS = {
    "falling": "weekly_trend_falling",
    "rising": "weekly_trend_rising",
    "stable": "weekly_trend_stable",
    "too-early": "weekly_trend_too_early",
}


def _change(services: Services, status_phase: str, advanced: bool, lowered: bool, held: str) -> str:
    msg = services.content.messages
    if advanced:
        return msg(
            "weekly_change_advanced", phase=services.content.program.phase(status_phase).title
        )
    if held:
        return msg(f"weekly_change_held_{held}")
    if lowered:
        return msg("weekly_change_lowered")
    return msg("weekly_change_none")


def summary_reply(services: Services, user: User) -> Reply:
    msg = services.content.messages
    program = services.content.program
    zone = user_zone(user)
    today = services.clock().astimezone(zone).date()
    history = services.sessions.history(user.id)
    week_ago = today - timedelta(days=7)
    done = [
        r
        for r in history
        if r.finished and week_ago < r.started_at.astimezone(zone).date() <= today
    ]
    status, plan = todays_plan(services, user)
    phase = program.phase(status.phase_id)
    trend = pain_trend([r for r in history if r.finished], program.progression.trend_window, zone)
    lines = [
        msg(
            "weekly_summary",
            sessions=msg.count("sessions", len(done)),
            target=phase.sessions_per_week,
        ),
        msg(TREND_WORDS[trend.direction]),
        _change(services, status.phase_id, status.advanced, status.dose_lowered, status.held_by),
        msg("weekly_next", phase=phase.title, target=phase.sessions_per_week),
    ]
    rows: tuple[tuple[Button, ...], ...] = ()
    if checkin_items(services, user):
        rows = ((Button(msg("button_checkin"), CheckinStart().pack()),),)
    return Reply("\n\n".join(lines), rows)
