"""The health screen: a checklist at onboarding and in /health, and offers made from free text.

A condition is only ever stored after the person taps it: a mention in a question ("I'm on
warfarin") gets an offer with Yes and No buttons, never a silent change.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from backchain.bot.chat.callbacks import (
    HealthAdd,
    HealthAddSide,
    HealthDoctorOk,
    HealthDone,
    HealthNo,
    HealthNone,
    HealthOpen,
    HealthSide,
    HealthToggle,
    Press,
)
from backchain.bot.chat.replies import Button, Outcome, Reply
from backchain.bot.chat.replying import health_offer
from backchain.bot.chat.services import Services
from backchain.bot.routine.precautions import (
    SIDES,
    Condition,
    HealthProfile,
    doctor_first,
    intro_lines,
)
from backchain.storage.health import StoredHealth
from backchain.storage.users import User


def profile_of(services: Services, user_id: int) -> HealthProfile:
    """The stored screen as the plain data the routine rules read."""
    return _profile(services.health.get(user_id))


def _profile(stored: StoredHealth) -> HealthProfile:
    return HealthProfile(stored.conditions, dict(stored.sides), stored.doctor_ok_at is not None)


def checklist_reply(
    services: Services, selected: list[str], edit: bool = False, first_time: bool = True
) -> Reply:
    """The checklist: one toggle a condition, then "None of these" and "Done"."""
    msg = services.content.messages
    rows: list[tuple[Button, ...]] = []
    for condition in services.content.precautions.ordered():
        mark = "✅ " if condition.id in selected else "▫️ "
        rows.append((Button(mark + condition.label, HealthToggle(condition.id).pack()),))
    rows.append(
        (
            Button(msg("health_none_button"), HealthNone().pack()),
            Button(msg("health_done_button"), HealthDone().pack()),
        )
    )
    text = msg("health_ask") if first_time else msg("health_edit")
    return Reply(text, tuple(rows), edit=edit)


def start_screen(services: Services, user: User, then: str) -> Outcome:
    """Ask the checklist; `then` is where the conversation goes after it (focus or done)."""
    return Outcome().say(_open_checklist(services, user, services.health.get(user.id), then))


def show(services: Services, user: User) -> Outcome:
    """/health: what we know, what it changes, and the checklist to edit it."""
    stored = services.health.get(user.id)
    outcome = Outcome()
    if stored.conditions:
        outcome.say(Reply(summary_text(services, _profile(stored))))
    elif stored.screened:
        outcome.say(Reply(services.content.messages("health_nothing_recorded")))
    return outcome.say(_open_checklist(services, user, stored, "done"))


def _open_checklist(services: Services, user: User, stored: StoredHealth, then: str) -> Reply:
    """The checklist with what is stored ticked, remembered as the answer in progress."""
    selected = sorted(stored.conditions)
    state = {"health": selected, "sides": dict(stored.sides), "then": then}
    services.users.set_state(user.id, state, services.clock())
    return checklist_reply(services, selected, first_time=then == "focus")


def summary_text(services: Services, profile: HealthProfile) -> str:
    """What the profile holds and how the routine changes for it, one line each."""
    msg = services.content.messages
    precautions = services.content.precautions
    names = []
    for condition in precautions.ordered():
        if condition.id in profile.conditions:
            side = profile.sides.get(condition.id)
            label = html.escape(condition.label, quote=False)
            where = f" ({msg(f'side_{side}')})" if side else ""
            names.append(f"• {label}{where}")
    lines = [msg("health_recorded"), *names]
    changes = intro_lines(precautions, profile, services.content.program.texts["health_because"])
    if changes:
        lines += ["", msg("health_changes"), *(html.escape(c, quote=False) for c in changes)]
    waiting = [c for c in doctor_first(precautions, profile) if not profile.doctor_ok]
    if waiting:
        lines += ["", msg("health_doctor_first")]
    return "\n".join(lines)


def handle_press(
    services: Services, user: User, press: Press, next_question: Callable[[], Reply]
) -> Outcome | None:
    """A tap on the checklist, a side, an offer from free text, or a doctor's yes.

    `next_question` is what onboarding asks after the checklist (the focus area).
    """
    if isinstance(press, HealthAdd | HealthNo):
        return _answer_offer(services, user, press)
    if isinstance(press, HealthAddSide):
        return handle_add_side(services, user, press)
    if isinstance(press, HealthOpen):
        return show(services, user)
    if isinstance(press, HealthDoctorOk):
        services.health.doctor_agreed(user.id, services.clock())
        return Outcome().say(Reply(services.content.messages("health_doctor_ok_saved")))
    state = services.users.state(user.id)
    if "health" not in state:
        return None
    precautions = services.content.precautions
    selected: list[str] = [c for c in state["health"] if c in precautions.conditions]
    sides: dict[str, str] = dict(state.get("sides", {}))
    now = services.clock()
    if isinstance(press, HealthToggle):
        condition = press.condition
        if condition not in precautions.conditions:
            return None
        if condition in selected:
            selected.remove(condition)
            sides.pop(condition, None)
        else:
            selected.append(condition)
        services.users.set_state(user.id, {**state, "health": selected, "sides": sides}, now)
        first_time = state.get("then") == "focus"
        return Outcome().say(checklist_reply(services, selected, edit=True, first_time=first_time))
    then = next_question if state.get("then") == "focus" else None
    if isinstance(press, HealthNone):
        return _save(services, user, [], {}, then)
    if isinstance(press, HealthDone):
        return _next_side_or_save(services, user, selected, sides, then)
    if isinstance(press, HealthSide):
        condition, side = press.condition, press.side
        if condition not in selected or side not in SIDES:
            return None
        sides[condition] = side
        services.users.set_state(user.id, {**state, "sides": sides}, now)
        return _next_side_or_save(services, user, selected, sides, then)
    return None


def _next_side_or_save(
    services: Services,
    user: User,
    selected: list[str],
    sides: dict[str, str],
    then: Callable[[], Reply] | None,
) -> Outcome:
    precautions = services.content.precautions
    for condition_id in selected:
        condition = precautions.conditions[condition_id]
        if condition.sided and condition_id not in sides:
            return Outcome().say(side_question(services, condition, HealthSide))
    return _save(services, user, selected, sides, then)


def side_question(
    services: Services, condition: Condition, press: type[HealthSide | HealthAddSide]
) -> Reply:
    msg = services.content.messages
    rows = tuple((Button(msg(f"side_{side}"), press(condition.id, side).pack()),) for side in SIDES)
    return Reply(msg("health_which_side", condition=condition.label), rows)


def _save(
    services: Services,
    user: User,
    selected: list[str],
    sides: dict[str, str],
    then: Callable[[], Reply] | None,
) -> Outcome:
    now = services.clock()
    services.health.replace(user.id, selected, sides, now)
    msg = services.content.messages
    profile = profile_of(services, user.id)
    outcome = Outcome()
    if profile.conditions:
        outcome.say(Reply(summary_text(services, profile)))
    else:
        outcome.say(Reply(msg("health_saved_none")))
    if then is not None:
        services.users.set_state(user.id, {"focus": True}, now)
        return outcome.say(then())
    services.users.set_state(user.id, {}, now)
    return outcome


# --- conditions mentioned in free text --------------------------------------------------------


def offer_for(services: Services, user: User, text: str) -> Reply | None:
    """ "Shall I adjust your routine for this?" for the first mentioned condition not yet known."""
    return health_offer(services.content, text, services.health.get(user.id).conditions)


def _answer_offer(services: Services, user: User, press: HealthAdd | HealthNo) -> Outcome | None:
    precautions = services.content.precautions
    condition = precautions.conditions.get(press.condition)
    if condition is None:
        return None
    msg = services.content.messages
    if isinstance(press, HealthNo):
        return Outcome().say(Reply(msg("health_offer_declined")))
    if condition.sided:
        return Outcome().say(side_question(services, condition, HealthAddSide))
    return _add(services, user, condition, None)


def handle_add_side(services: Services, user: User, press: HealthAddSide) -> Outcome | None:
    condition = services.content.precautions.conditions.get(press.condition)
    side = press.side
    if condition is None or side not in SIDES:
        return None
    return _add(services, user, condition, side)


def _add(services: Services, user: User, condition: Condition, side: str | None) -> Outcome:
    services.health.add(user.id, condition.id, side, services.clock())
    profile = profile_of(services, user.id)
    return Outcome().say(Reply(summary_text(services, profile)))


def doctor_gate(services: Services, user: User) -> Reply | None:
    """Before a routine: conditions that need a doctor's yes first, unless one was given."""
    profile = profile_of(services, user.id)
    waiting = doctor_first(services.content.precautions, profile)
    if not waiting or profile.doctor_ok:
        return None
    msg = services.content.messages
    because = "; ".join(html.escape(c.because, quote=False) for c in waiting)
    rows = ((Button(msg("health_doctor_ok_button"), HealthDoctorOk().pack()),),)
    return Reply(msg("health_doctor_gate", because=because), rows)
