"""/remind, /timezone and /reminders, and the reminder message itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, time

from backchain.bot.chat import session as session_flow
from backchain.bot.chat.callbacks import (
    Press,
    RemindersOff,
    ReminderTime,
    RestDayNote,
    SkipToday,
    Snooze,
    StartFromReminder,
    SummaryDay,
)
from backchain.bot.chat.replies import Button, Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.routine.schedule import format_time_of_day, parse_time_of_day
from backchain.bot.routine.timezones import find_timezone
from backchain.storage.users import User

COMMON_TIMES = (time(7, 0), time(8, 0), time(12, 0), time(18, 0), time(20, 0), time(21, 30))
AWAITING = "awaiting"
# "/remind off" and its everyday spellings.
OFF_WORDS = frozenset({"off", "stop", "none", "no", "never", "cancel", "disable"})


def _hhmm(value: time) -> int:
    return value.hour * 100 + value.minute


def ask_time(services: Services, user: User) -> Outcome:
    msg = services.content.messages
    services.users.set_state(user.id, {AWAITING: "remind-time"}, services.clock())
    buttons = [Button(format_time_of_day(t), ReminderTime(_hhmm(t)).pack()) for t in COMMON_TIMES]
    rows = (tuple(buttons[:3]), tuple(buttons[3:]))
    return Outcome().say(Reply(msg("ask_reminder_time", zone=user.timezone), rows))


def ask_timezone(services: Services, user: User) -> Outcome:
    services.users.set_state(user.id, {AWAITING: "timezone"}, services.clock())
    return Outcome().say(Reply(services.content.messages("ask_timezone", zone=user.timezone)))


def remind_with_argument(services: Services, user: User, chat_id: int, argument: str) -> Outcome:
    """/remind 7:30, /remind 7pm, /remind off: done at once, or a one-line hint."""
    msg = services.content.messages
    if argument.lower() in OFF_WORDS:
        services.reminders.disable(user.id)
        return Outcome().say(Reply(msg("remind_off_done")))
    value = parse_time_of_day(argument)
    if value is None:
        return Outcome().say(Reply(msg("remind_bad_argument", text=argument)))
    return _set_time(services, user, chat_id, value)


def timezone_with_argument(services: Services, user: User, argument: str) -> Outcome:
    """/timezone Berlin, /timezone UTC+2: set at once, or a one-line hint."""
    msg = services.content.messages
    match = find_timezone(argument)
    if match is None:
        return Outcome().say(Reply(msg("timezone_bad_argument", text=argument)))
    services.users.set_state(user.id, {}, services.clock())
    services.reminders.set_timezone(user.id, match.zone, services.clock())
    return Outcome().say(Reply(msg("timezone_set", zone=match.zone)))


def show(services: Services, user: User) -> Outcome:
    msg = services.content.messages
    reminder = services.reminders.get(user.id)
    if reminder is None or not reminder.enabled:
        return Outcome().say(Reply(msg("reminders_off", zone=user.timezone)))
    rows = ((Button(msg("button_reminders_off"), RemindersOff().pack()),),)
    text = msg("reminders_on", time=format_time_of_day(reminder.local_time), zone=reminder.zone)
    return Outcome().say(Reply(text, rows))


def _set_time(services: Services, user: User, chat_id: int, value: time) -> Outcome:
    services.users.set_state(user.id, {}, services.clock())
    reminder = services.reminders.set_daily(
        user.id, chat_id, value, user.timezone, services.clock()
    )
    text = services.content.messages(
        "reminder_set", time=format_time_of_day(value), zone=reminder.zone
    )
    if user.timezone == "UTC":
        text += "\n\n" + services.content.messages("reminder_set_zone_hint")
    return Outcome().say(Reply(text)).say(rest_days_question(services))


def rest_days_question(services: Services) -> Reply:
    msg = services.content.messages
    rows = (
        (
            Button(msg("button_rest_quiet"), RestDayNote(0).pack()),
            Button(msg("button_rest_note"), RestDayNote(1).pack()),
        ),
    )
    return Reply(msg("ask_rest_days"), rows)


def summary_day_question(services: Services) -> Reply:
    msg = services.content.messages
    days = [Button(msg(f"weekday_{n}"), SummaryDay(n).pack()) for n in range(7)]
    rows = (
        tuple(days[:4]),
        tuple(days[4:]),
        (Button(msg("button_no_summary"), SummaryDay(7).pack()),),
    )
    return Reply(msg("ask_summary_day"), rows)


def handle_awaited_text(services: Services, user: User, chat_id: int, text: str) -> Outcome | None:
    """A reply to "what time?" or "which time zone?"; None when the text is something else."""
    awaiting = services.users.state(user.id).get(AWAITING)
    if awaiting not in ("remind-time", "timezone"):
        return None
    msg = services.content.messages
    if awaiting == "remind-time":
        value = parse_time_of_day(text)
        if value is not None:
            return _set_time(services, user, chat_id, value)
        retry = Reply(msg("bad_time"))
    else:
        match = find_timezone(text, services.content.timezones)
        if match is not None:
            services.users.set_state(user.id, {}, services.clock())
            services.reminders.set_timezone(user.id, match.zone, services.clock())
            return Outcome().say(Reply(msg("timezone_set", zone=match.zone)))
        retry = Reply(msg("bad_timezone"))
    # Someone who asks a question instead of answering gets the answer, not a scolding.
    if services.matcher.match(text).topic is not None:
        services.users.set_state(user.id, {}, services.clock())
        return None
    return Outcome().say(retry)


def handle_press(services: Services, user: User, chat_id: int, press: Press) -> Outcome | None:
    msg = services.content.messages
    now = services.clock()
    if isinstance(press, ReminderTime):
        if press.hour > 23 or press.minute > 59:
            return None
        return _set_time(services, user, chat_id, time(press.hour, press.minute))
    if isinstance(press, RemindersOff):
        services.reminders.disable(user.id)
        return Outcome().say(Reply(msg("reminders_turned_off")))
    if isinstance(press, StartFromReminder):
        return session_flow.begin(services, user, chat_id)
    if isinstance(press, RestDayNote | SummaryDay):
        settings = services.routine_settings.get(user.id)
        if isinstance(press, RestDayNote) and press.note in (0, 1):
            settings = replace(settings, rest_day_note=bool(press.note))
            services.routine_settings.save(user.id, settings)
            return Outcome().say(replace(summary_day_question(services), edit=True))
        if isinstance(press, SummaryDay) and 0 <= press.weekday <= 7:
            day = press.weekday
            settings = replace(settings, summary_weekday=None if day == 7 else day)
            services.routine_settings.save(user.id, settings)
            return Outcome().say(Reply(msg("routine_settings_saved"), edit=True))
        return None
    if isinstance(press, Snooze):
        done = services.reminders.snooze(user.id, now)
        return Outcome().say(Reply(msg("reminder_snoozed"), edit=True)) if done else None
    if isinstance(press, SkipToday):
        done = services.reminders.skip_today(user.id, now)
        return Outcome().say(Reply(msg("reminder_skipped"), edit=True)) if done else None
    return None


def reminder_replies(services: Services, user: User) -> list[Reply]:
    """What the daily reminder says today; an empty list means stay quiet.

    On a day the plan has a session: the nudge. On a planned rest day: nothing, or a short
    rest-day note if the person chose so. On their chosen weekday: the weekly summary first.
    """
    from backchain.bot.chat import weekly

    msg = services.content.messages
    today = services.clock().astimezone(session_flow.user_zone(user)).date()
    settings = services.routine_settings.get(user.id)
    replies: list[Reply] = []
    if settings.summary_weekday == today.weekday():
        replies.append(weekly.summary_reply(services, user))
    if services.sessions.finished_on(user.id, today):
        return replies
    gate = session_flow.red_flag_gate(services, user)
    if gate is not None:
        return [*replies, gate]
    status, plan = session_flow.todays_plan(services, user)
    if not status.due(today):
        if settings.rest_day_note:
            when = status.next_due.strftime("%A") if status.next_due else ""
            replies.append(Reply(msg("rest_day_reminder", when=when)))
        return replies
    phase = services.content.program.phase(status.phase_id)
    text = msg("reminder_text", phase=phase.title, **session_flow.plan_size(services, plan))
    rows = (
        (Button(msg("button_start_now"), StartFromReminder().pack()),),
        (
            Button(msg("button_snooze"), Snooze().pack()),
            Button(msg("button_skip_today"), SkipToday().pack()),
        ),
    )
    replies.append(Reply(text, rows))
    return replies


def quiet_today(services: Services) -> Callable[[int, date], bool]:
    """For the ticker: nothing to send, because the session is done and it is not summary day."""

    def quiet(user_id: int, day: date) -> bool:
        if services.routine_settings.get(user_id).summary_weekday == day.weekday():
            return False
        return services.sessions.finished_on(user_id, day)

    return quiet
