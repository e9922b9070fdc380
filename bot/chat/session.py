"""The guided session: pain check, one step at a time with timers, pain check, summary.

Every event is written to SQLite the moment it happens; the session row is the source of truth,
so a restart (or a timer lost with it) never loses or repeats a step.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from backchain.bot.chat import health as health_flow
from backchain.bot.chat.callbacks import (
    DoctorChecked,
    GentlerDone,
    LeaveArea,
    MoreDetail,
    NewSession,
    NotCheckedYet,
    Pain,
    Press,
    Resume,
    SessionPress,
    StartOver,
    StartTimer,
    StepDone,
    StepHurt,
    StepSkip,
    StopSession,
    TimerEnd,
    TimerTick,
)
from backchain.bot.chat.replies import Button, Outcome, Reply, Timer
from backchain.bot.chat.services import Services
from backchain.bot.routine.outcomes import hold_reason
from backchain.bot.routine.plan import (
    PlannedStep,
    ProgramStatus,
    SessionPlan,
    plan_session,
    program_status,
    substitution_note,
)
from backchain.bot.understanding.pain import parse_pain
from backchain.storage.sessions import SessionNotFound, SessionRecord, StepAnswer, StoredSession
from backchain.storage.users import User

PAIN_SCALE = range(0, 11)
STEP_OUTCOMES = {"done": "done", "skip": "skipped", "hurt": "too-painful"}
# Real time on a step counts up to its plan plus this much: a phone left on the table for an
# hour is not an hour of massage.
STEP_TIME_CAP_EXTRA = 300


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def timer_prefix(user_id: int, session_id: int) -> str:
    return f"user:{user_id}:session:{session_id}:"


def pain_question(services: Services, session_id: int, when: Literal["before", "after"]) -> Reply:
    buttons = [Button(str(n), Pain(session_id, when, n).pack()) for n in PAIN_SCALE]
    rows = (tuple(buttons[:6]), tuple(buttons[6:]))
    return Reply(services.content.messages(f"pain_{when}_question"), rows)


def first_sentence(text: str) -> str:
    """The first sentence of a content text: the short form shown on a phone."""
    text = " ".join(text.split())
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z])", text)
    return text[: match.start()] if match else text


def step_text(
    services: Services, plan: SessionPlan, step: PlannedStep, detail: bool = False
) -> str:
    """One short message per step: tool, position, movement, time. The pressure guidance in
    full on the session's first step, then one line; `detail` gives every text in full."""
    msg = services.content.messages
    program = services.content.program
    sides = {"left-right": "step_time_sides", "left": "step_time_left", "right": "step_time_right"}
    time_key = sides.get(step.sides, "step_time_both")
    short = (lambda text: text.strip()) if detail else first_sentence
    lines = [
        msg("step_heading", number=step.index + 1, total=len(plan.steps), title=step.title),
        msg("step_tool", tool=program.tool_names.get(step.tool, step.tool)),
    ]
    if step.caution:
        lines.append(msg("step_caution", text=html.escape(step.caution, quote=False)))
    note = substitution_note(program, step)
    if note and detail:
        lines.append(f"<i>{html.escape(note, quote=False)}</i>")
    lines += [
        msg("step_position", text=short(step.position)),
        msg("step_technique", text=short(step.technique)),
    ]
    if detail or step.index == 0:
        lines.append(msg("step_pressure", text=step.pressure.strip()))
    else:
        lines.append(msg("step_pressure_short"))
    lines.append(msg(time_key, seconds=step.seconds))
    return "\n".join(lines)


def step_buttons(
    services: Services, session_id: int, index: int, timer: bool = True, detail: bool = True
) -> tuple[tuple[Button, ...], ...]:
    msg = services.content.messages
    first_row = [Button(msg("button_done"), StepDone(session_id, index).pack())]
    if timer:
        first_row.insert(0, Button(msg("button_timer"), StartTimer(session_id, index).pack()))
    last_row = [Button(msg("button_stop"), StopSession(session_id).pack())]
    if detail:
        last_row.insert(0, Button(msg("button_more"), MoreDetail(session_id, index).pack()))
    return (
        tuple(first_row),
        (
            Button(msg("button_skip"), StepSkip(session_id, index).pack()),
            Button(msg("button_hurt"), StepHurt(session_id, index).pack()),
        ),
        tuple(last_row),
    )


def step_reply(services: Services, session_id: int, plan: SessionPlan, step: PlannedStep) -> Reply:
    return Reply(step_text(services, plan, step), step_buttons(services, session_id, step.index))


def _more_detail(services: Services, session: StoredSession, index: int) -> Outcome | None:
    """ "More detail": the same step message, edited in place to every text in full."""
    if not _step_is_current(session, index):
        return None
    plan = SessionPlan.from_json(session.plan)
    text = step_text(services, plan, plan.steps[index], detail=True)
    rows = step_buttons(services, session.id, index, detail=False)
    return Outcome().say(Reply(text, rows, edit=True))


def _closed_step(services: Services, plan: SessionPlan, index: int, key: str) -> Reply:
    """What a step message becomes once answered: one line, no buttons."""
    step = plan.steps[index]
    msg = services.content.messages
    return Reply(msg(key, number=index + 1, total=len(plan.steps), title=step.title), edit=True)


def _current_reply(services: Services, user: User, session: StoredSession) -> Reply:
    """What the session is waiting for now: a pain check or its current step.

    Any state the database can hold has an answer: an active session whose step counter is
    past its plan (left by an older version) is moved on to its closing pain check.
    """
    if session.status == "pain-check":
        return pain_question(services, session.id, "before")
    plan = SessionPlan.from_json(session.plan)
    if session.status == "active" and session.current_step >= len(plan.steps):
        services.sessions.steps_through(session.id, user.id, services.clock())
        return pain_question(services, session.id, "after")
    if session.status == "post-check":
        return pain_question(services, session.id, "after")
    return step_reply(services, session.id, plan, plan.steps[max(0, session.current_step)])


RED_FLAG_GATE_DAYS = 7
# Warnings about the body ask for a doctor's check before massage; a crisis warning gets its own
# help and never turns the routine into a question about being examined.
GATED_LEVELS = ("emergency", "urgent")


def red_flag_gate(services: Services, user: User) -> Reply | None:
    """Within a week of a red-flag warning, unless a doctor has checked them since: ask first."""
    events = [e for e in services.questions.red_flags_for_user(user.id) if e.level in GATED_LEVELS]
    if not events:
        return None
    last = events[-1].at
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if services.clock() - last > timedelta(days=RED_FLAG_GATE_DAYS):
        return None
    checked = services.routine_settings.get(user.id).checked_after_red_flag_at
    # Stored to the second; a warning logged earlier in that same second counts as before it.
    if checked is not None and checked >= last.replace(microsecond=0):
        return None
    msg = services.content.messages
    rows = (
        (Button(msg("button_doctor_checked"), DoctorChecked().pack()),),
        (Button(msg("button_not_checked"), NotCheckedYet().pack()),),
    )
    return Reply(msg("red_flag_gate"), rows)


def _gate_answer(services: Services, user: User, chat_id: int, checked: bool) -> Outcome | None:
    if red_flag_gate(services, user) is None:
        return None
    if not checked:
        return Outcome().say(Reply(services.content.messages("red_flag_not_checked")))
    settings = services.routine_settings.get(user.id)
    services.routine_settings.save(
        user.id, replace(settings, checked_after_red_flag_at=services.clock())
    )
    return begin(services, user, chat_id)


def current_reply(services: Services, user: User, session: StoredSession) -> Reply:
    """The step (or pain check) in hand again, buttons and all: after a question mid-session."""
    return _current_reply(services, user, session)


def begin(services: Services, user: User, chat_id: int) -> Outcome:
    """/session: offer to resume an unfinished session, else start today's."""
    gate = red_flag_gate(services, user)
    if gate is not None:
        return Outcome().say(gate)
    unfinished = services.sessions.unfinished(user.id)
    if unfinished is None:
        return _start_new(services, user)
    msg = services.content.messages
    rows = (
        (Button(msg("button_resume"), Resume(unfinished.id).pack()),),
        (Button(msg("button_start_over"), StartOver(unfinished.id).pack()),),
    )
    return Outcome().say(Reply(msg("resume_question"), rows))


def todays_plan(services: Services, user: User) -> tuple[ProgramStatus, SessionPlan]:
    """Where the user stands in the program and the session planned for them today."""
    from backchain.bot.chat.outcomes import points

    program = services.content.program
    zone = user_zone(user)
    rule = services.content.care.outcome_rule
    hold = hold_reason(
        rule, points(services, user.id, "psfs"), points(services, user.id, "peg"), zone
    )
    status = program_status(program, services.sessions.history(user.id), zone, hold)
    plan = plan_session(
        program,
        status.phase_id,
        set(user.owned_tools),
        user.focus or "general",
        status.next_dose,
        health_flow.profile_of(services, user.id),
        services.content.precautions,
    )
    return status, plan


def plan_size(services: Services, plan: SessionPlan) -> dict[str, str]:
    """ "3 steps" and "about 4 minutes" for the texts that announce a session."""
    msg = services.content.messages
    return {
        "steps": msg.count("steps", len(plan.steps)),
        "minutes": msg.count("minutes", max(1, round(plan.total_seconds / 60))),
    }


def duration_text(services: Services, seconds: int) -> str:
    """ "45 seconds" under a minute, else whole minutes: "1 minute", "6 minutes"."""
    msg = services.content.messages
    if seconds < 60:
        return msg.count("seconds", seconds)
    return msg.count("minutes", round(seconds / 60))


def _start_new(services: Services, user: User) -> Outcome:
    msg = services.content.messages
    program = services.content.program
    gate = health_flow.doctor_gate(services, user)
    if gate is not None:
        return Outcome().say(gate)
    status, plan = todays_plan(services, user)
    if not plan.steps:
        return Outcome().say(Reply(msg("session_needs_tools")))
    session_id = services.sessions.start(
        user.id, status.phase_id, plan, status.next_dose, services.clock()
    )
    phase = program.phase(status.phase_id)
    lines = [msg("session_intro", phase=phase.title, **plan_size(services, plan))]
    lines += [html.escape(note, quote=False) for note in plan.health_notes]
    if status.advanced:
        lines.insert(0, msg("phase_advanced", phase=phase.title))
    if status.sessions_in_phase == 0:
        intro = services.content.care.phase_intros[phase.id]
        lines.append(f"<i>{html.escape(intro.strip(), quote=False)}</i>")
    today = services.clock().astimezone(user_zone(user)).date()
    if status.next_due is not None and today < status.next_due:
        lines.append(msg("rest_day_note", when=status.next_due.strftime("%A")))
    if status.dose_lowered:
        lines.append(msg("dose_lowered"))
    if plan.note:
        lines.append(f"<i>{html.escape(plan.note, quote=False)}</i>")
    outcome = Outcome().say(Reply("\n\n".join(lines)))
    return outcome.say(pain_question(services, session_id, "before"))


def handle_press(
    services: Services, user: User, chat_id: int, press: Press, replayed: bool = False
) -> Outcome | None:
    """A session or timer button. None means stale or forged: the caller says it has expired.

    A press already counted says nothing (a double tap), unless it is `replayed` after a
    restart: its first reply may have been lost, so the person gets where the session stands.
    """
    outcome = _handle_press(services, user, chat_id, press)
    if replayed and outcome is not None and not outcome.replies:
        return _where_it_stands(services, user, press) or outcome
    return outcome


def _where_it_stands(services: Services, user: User, press: Press) -> Outcome | None:
    """The step or check a session waits for, or the summary of one just finished."""
    if not isinstance(press, SessionPress) or isinstance(press, TimerTick | TimerEnd):
        return None
    try:
        session = services.sessions.get(press.session, user.id)
    except SessionNotFound:
        return None
    if not session.closed:
        return Outcome().say(_current_reply(services, user, session))
    if session.status == "finished":
        return Outcome().say(_summary(services, user, session.id))
    return None


def _handle_press(services: Services, user: User, chat_id: int, press: Press) -> Outcome | None:
    if isinstance(press, NewSession):
        return begin(services, user, chat_id)
    if isinstance(press, DoctorChecked | NotCheckedYet):
        return _gate_answer(services, user, chat_id, isinstance(press, DoctorChecked))
    if not isinstance(press, SessionPress):
        return None
    try:
        session = services.sessions.get(press.session, user.id)
    except SessionNotFound:
        return None
    if session.closed:
        # A timer that fires late, or a second tap on the closing pain check: nothing to say.
        late = isinstance(press, TimerTick | TimerEnd) or _pain_after_of_finished(session, press)
        return Outcome() if late else None
    if isinstance(press, TimerTick | TimerEnd):
        return _timer_event(services, user, session, press)
    if isinstance(press, Resume):
        # The resume question becomes the step it resumes: one message, replaced in place.
        return Outcome().say(replace(_current_reply(services, user, session), edit=True))
    if isinstance(press, StartOver):
        return _start_over(services, user, session)
    if isinstance(press, Pain):
        return _pain(services, user, session, press)
    if isinstance(press, StopSession):
        return _pause(services, user, session)
    if isinstance(press, StartTimer):
        return _start_timer(services, user, session, press.step)
    if isinstance(press, MoreDetail):
        return _more_detail(services, session, press.step)
    if isinstance(press, StepHurt):
        return _offer_gentler(services, session, press.step)
    if isinstance(press, GentlerDone):
        return _step_outcome(services, user, session, press.step, "hurt", gentle=True)
    if isinstance(press, LeaveArea):
        return _step_outcome(services, user, session, press.step, "hurt")
    if isinstance(press, StepDone | StepSkip):
        return _step_outcome(services, user, session, press.step, press.action)
    return None


def _pain_after_of_finished(session: StoredSession, press: SessionPress) -> bool:
    return isinstance(press, Pain) and press.when == "after" and session.status == "finished"


def _start_over(services: Services, user: User, session: StoredSession) -> Outcome:
    services.sessions.abandon(session.id, user.id, services.clock())
    outcome = _start_new(services, user)
    outcome.cancel_timers.append(timer_prefix(user.id, session.id))
    return outcome


def _pain(services: Services, user: User, session: StoredSession, press: Pain) -> Outcome | None:
    when, score = press.when, press.score
    if score not in PAIN_SCALE:
        return None
    if when == "before":
        stop = score >= services.content.care.guards.no_session_from
        moved = services.sessions.answer_pain_before(
            session.id, user.id, score, services.clock(), stop=stop
        )
        if moved is None:
            # The check was answered already: a second tap, or the same press handled again
            # after a restart. Like a double tap on a step, it changes nothing and says nothing.
            return Outcome()
        noted = Reply(services.content.messages("pain_before_noted", score=score), edit=True)
        if stop:
            text = services.content.messages("pain_too_high_today", pain=score)
            return Outcome().say(noted).say(Reply(text))
        return Outcome().say(noted).say(_current_reply(services, user, moved))
    if when == "after" and services.sessions.finish(session.id, user.id, score, services.clock()):
        noted = Reply(services.content.messages("pain_after_noted", score=score), edit=True)
        return Outcome().say(noted).say(_summary(services, user, session.id))
    return None


def _step_is_current(session: StoredSession, step_index: int) -> bool:
    return session.status == "active" and session.current_step == step_index


TIMER_UPDATE_SECONDS = 15  # how often a running timer's message is edited (Telegram limits)


def _timer_text(
    services: Services, plan: SessionPlan, index: int, elapsed: int
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The step message while its timer runs: the step and one status line."""
    msg = services.content.messages
    step = plan.steps[index]
    if step.sides == "left-right" and elapsed < step.seconds:
        status = msg("timer_first_side", seconds=step.seconds - elapsed)
    elif step.sides == "left-right":
        status = msg("timer_second_side", seconds=step.total_seconds - elapsed)
    else:
        status = msg("timer_left", seconds=step.total_seconds - elapsed)
    if step.sides == "left-right" and elapsed == step.seconds:
        status = msg("timer_switch_sides") + "\n" + status
    return step_text(services, plan, step) + "\n\n" + status, ()


def _start_timer(
    services: Services, user: User, session: StoredSession, index: int
) -> Outcome | None:
    """The step message turns into its own countdown, edited in place; no new messages."""
    if not _step_is_current(session, index):
        return None
    plan = SessionPlan.from_json(session.plan)
    step = plan.steps[index]
    prefix = timer_prefix(user.id, session.id)
    outcome = Outcome(cancel_timers=[prefix])
    moments = set(range(TIMER_UPDATE_SECONDS, step.total_seconds, TIMER_UPDATE_SECONDS))
    if step.sides == "left-right":
        moments.add(step.seconds)
    for elapsed in sorted(moments):
        outcome.timers.append(
            Timer(
                elapsed,
                TimerTick(session.id, index, elapsed).pack(),
                prefix + f"{index}:tick:{elapsed}",
            )
        )
    outcome.timers.append(
        Timer(
            step.total_seconds,
            TimerEnd(session.id, index).pack(),
            prefix + f"{index}:end",
        )
    )
    text, _ = _timer_text(services, plan, index, 0)
    rows = step_buttons(services, session.id, index, timer=False, detail=False)
    return outcome.say(Reply(text, rows, edit=True))


def _timer_event(
    services: Services, user: User, session: StoredSession, press: TimerTick | TimerEnd
) -> Outcome:
    """A timer fired: edit the countdown, or close the step when the time is up. Dropped
    silently if the user already moved on."""
    index = press.step
    if not _step_is_current(session, index):
        return Outcome()
    plan = SessionPlan.from_json(session.plan)
    if isinstance(press, TimerTick):
        elapsed = press.elapsed
        if not 0 < elapsed < plan.steps[index].total_seconds:
            return Outcome()
        text, _ = _timer_text(services, plan, index, elapsed)
        rows = step_buttons(services, session.id, index, timer=False, detail=False)
        return Outcome().say(Reply(text, rows, edit=True))
    outcome = _step_outcome(services, user, session, index, "done", closing_key="step_time_up")
    return outcome or Outcome()


def _offer_gentler(services: Services, session: StoredSession, index: int) -> Outcome | None:
    """ "Too painful": first a gentler way to do the same area, or leave the area for today."""
    if not _step_is_current(session, index):
        # A step already answered (a second tap, or a press handled again after a restart)
        # says nothing, as "Done" and "Skip" do.
        return Outcome() if session.current_step > index else None
    msg = services.content.messages
    step = SessionPlan.from_json(session.plan).steps[index]
    gentler = services.content.care.gentler.get(step.step_id)
    if gentler is None:
        return _move_on_reply(services, session, index)
    rows = (
        (Button(msg("button_gentle_done"), GentlerDone(session.id, index).pack()),),
        (Button(msg("button_leave_area"), LeaveArea(session.id, index).pack()),),
    )
    text = msg("gentler_offer", title=step.title, how=gentler.how.strip())
    return Outcome().say(Reply(text, rows, edit=True))


def _move_on_reply(services: Services, session: StoredSession, index: int) -> Outcome:
    msg = services.content.messages
    rows = ((Button(msg("button_leave_area"), LeaveArea(session.id, index).pack()),),)
    return Outcome().say(Reply(msg("too_painful_noted"), rows, edit=True))


def same_area_after(
    services: Services, plan: SessionPlan, index: int
) -> tuple[tuple[int, str], ...]:
    """The steps right after `index` that work the same body area: left out after a painful one."""
    care = services.content.care
    area = care.area(plan.steps[index].step_id)
    following = []
    for step in plan.steps[index + 1 :]:
        if care.area(step.step_id) != area:
            break
        following.append((step.index, step.step_id))
    return tuple(following)


def _step_outcome(
    services: Services,
    user: User,
    session: StoredSession,
    index: int,
    action: str,
    gentle: bool = False,
    closing_key: str | None = None,
) -> Outcome | None:
    plan = SessionPlan.from_json(session.plan)
    if not 0 <= index < len(plan.steps):
        return None
    if not _step_is_current(session, index):
        # A double tap on a step already logged changes nothing and says nothing.
        return Outcome() if session.current_step > index else None
    step = plan.steps[index]
    answer = StepAnswer(
        session_id=session.id,
        user_id=user.id,
        index=index,
        step_id=step.step_id,
        outcome=STEP_OUTCOMES[action],
        planned_seconds=step.total_seconds,
        step_count=len(plan.steps),
        cap_seconds=step.total_seconds + STEP_TIME_CAP_EXTRA,
        also_skip=same_area_after(services, plan, index) if action == "hurt" else (),
    )
    moved = services.sessions.complete_step(answer, services.clock())
    if moved is None:
        return Outcome()
    outcome = Outcome(cancel_timers=[timer_prefix(user.id, session.id)])
    if closing_key is None:
        closing_key = {"done": "step_closed_done", "skip": "step_closed_skipped"}.get(
            action, "step_closed_gentle" if gentle else "step_closed_left"
        )
    outcome.say(_closed_step(services, plan, index, closing_key))
    return outcome.say(_current_reply(services, user, moved))


def _pause(services: Services, user: User, session: StoredSession) -> Outcome:
    outcome = Outcome(cancel_timers=[timer_prefix(user.id, session.id)])
    return outcome.say(Reply(services.content.messages("session_paused")))


def rising_over_three(history: list[SessionRecord]) -> bool:
    """Pain before the last three finished sessions went up each time."""
    before = [r.pain_before for r in history if r.finished and r.pain_before is not None][-3:]
    return len(before) == 3 and before[0] < before[1] < before[2]


def _summary(services: Services, user: User, session_id: int) -> Reply:
    msg = services.content.messages
    zone = user_zone(user)
    history = services.sessions.history(user.id)
    record = next(r for r in history if r.id == session_id)
    status = program_status(services.content.program, history, zone)
    finished_at = record.finished_at or services.clock()
    lines = [
        msg(
            "summary",
            done=record.done,
            total=record.done + record.skipped + record.too_painful,
            real=duration_text(services, record.seconds),
            planned=duration_text(services, record.planned_seconds),
            start=record.started_at.astimezone(zone).strftime("%H:%M"),
            end=finished_at.astimezone(zone).strftime("%H:%M"),
            before=record.pain_before,
            after=record.pain_after,
        ),
    ]
    if status.next_due is not None:
        today = services.clock().astimezone(zone).date()
        due = status.next_due
        when = msg("due_today") if due <= today else due.strftime("%A %d %B")
        lines.append(msg("next_session", when=when))
    if (
        record.pain_change is not None
        and record.pain_change >= services.content.care.guards.rise_after
    ):
        lines.append(msg("pain_rose"))
    elif rising_over_three(history):
        lines.append(msg("pain_rising_sessions"))
    from backchain.bot.chat.outcomes import checkin_rows

    # The weekly PSFS and PEG check rides on the summary when due, for everyone, with or
    # without the weekly summary message.
    return Reply("\n\n".join(lines), checkin_rows(services, user))


def handle_typed_pain(services: Services, user: User, text: str) -> Outcome | None:
    """A pain score typed while a session waits for one; None otherwise."""
    score = parse_pain(text)
    if score is None:
        return None
    session = services.sessions.unfinished(user.id)
    if session is None:
        return None
    plan = SessionPlan.from_json(session.plan)
    when: Literal["before", "after"]
    if session.status == "pain-check":
        when = "before"
    elif session.status == "post-check" or (
        session.status == "active" and session.current_step >= len(plan.steps)
    ):
        when = "after"
        if session.status == "active":
            session = (
                services.sessions.steps_through(session.id, user.id, services.clock()) or session
            )
    else:
        return None
    return _pain(services, user, session, Pain(session.id, when, score))
