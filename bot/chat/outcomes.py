"""PSFS and PEG in the chat: activities named at onboarding, one tap per rating each week."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from backchain.bot.chat.callbacks import (
    ActivityAdd,
    ActivityStop,
    CheckinStart,
    FirstScore,
    Press,
    Rate,
)
from backchain.bot.chat.replies import Button, Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.routine.outcomes import Point
from backchain.storage.outcomes import MAX_ACTIVITIES, PEG_ITEMS
from backchain.storage.users import User

AWAITING = "awaiting"
SCORES = range(0, 11)


def points(services: Services, user_id: int, scale: str) -> list[Point]:
    """One scale's ratings as (moment, score) points for the rules."""
    return [(s.at, float(s.score)) for s in services.outcomes.scores(user_id) if s.scale == scale]


def score_rows(press: type[FirstScore | Rate], item: str) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(str(n), press(item, n).pack()) for n in SCORES]
    return (tuple(buttons[:6]), tuple(buttons[6:]))


def ask_activity(services: Services, user: User, first: bool) -> Reply:
    """ "Name an everyday thing your pain makes hard": a button to type one, or Skip / Done.

    Typed text counts as an activity only after the button: someone who ignores the question
    and asks something else gets an answer, not a new activity.
    """
    msg = services.content.messages
    key, button = ("psfs_intro", "button_psfs_skip") if first else ("psfs_more", "button_psfs_done")
    rows = (
        (Button(msg("button_psfs_add"), ActivityAdd().pack()),),
        (Button(msg(button), ActivityStop().pack()),),
    )
    return Reply(msg(key), rows)


def handle_awaited_text(services: Services, user: User, text: str) -> Outcome | None:
    """A typed activity name; None when the conversation was not waiting for one."""
    state = services.users.state(user.id)
    if state.get(AWAITING) != "psfs-activity" or text.startswith("/"):
        return None
    activity = " ".join(text.split())[:80]
    services.users.set_state(user.id, {"psfs-pending": activity}, services.clock())
    msg = services.content.messages
    return Outcome().say(
        Reply(msg("psfs_rate_new", activity=activity), score_rows(FirstScore, "new"))
    )


def _question(services: Services, user: User, item: str) -> Reply:
    msg = services.content.messages
    if item.startswith("psfs-"):
        names = {str(a.position): a.text for a in services.outcomes.activities(user.id)}
        text = msg("checkin_psfs", activity=names.get(item.removeprefix("psfs-"), ""))
    else:
        text = msg(f"checkin_{item.replace('-', '_')}")
    return Reply(text, score_rows(Rate, item))


def checkin_items(services: Services, user: User) -> list[str]:
    psfs = [f"psfs-{a.position}" for a in services.outcomes.activities(user.id)]
    return psfs + [f"peg-{item}" for item in PEG_ITEMS]


def start_checkin(services: Services, user: User) -> Outcome:
    msg = services.content.messages
    items = checkin_items(services, user)
    return Outcome().say(Reply(msg("checkin_intro"))).say(_question(services, user, items[0]))


def handle_press(services: Services, user: User, press: Press) -> Outcome | None:
    msg = services.content.messages
    now = services.clock()
    if isinstance(press, CheckinStart):
        return start_checkin(services, user)
    if isinstance(press, ActivityAdd):
        if len(services.outcomes.activities(user.id)) >= MAX_ACTIVITIES:
            return None
        services.users.set_state(user.id, {AWAITING: "psfs-activity"}, now)
        return Outcome().say(Reply(msg("psfs_type")))
    if isinstance(press, ActivityStop):
        services.users.set_state(user.id, {}, now)
        return Outcome().say(Reply(msg("psfs_stopped")))
    if isinstance(press, FirstScore):
        pending = services.users.state(user.id).get("psfs-pending")
        score = press.score
        if not pending or score not in SCORES:
            return None
        added = services.outcomes.add_activity(user.id, str(pending), score, now)
        services.users.set_state(user.id, {}, now)
        # The rating question is replaced in place by what comes next.
        if added is None or added.position >= MAX_ACTIVITIES:
            return Outcome().say(Reply(msg("psfs_saved_all"), edit=True))
        return Outcome().say(replace(ask_activity(services, user, first=False), edit=True))
    if isinstance(press, Rate):
        item, score = press.item, press.score
        items = checkin_items(services, user)
        if item not in items or score not in SCORES:
            return None
        scale, key = item.split("-", 1)
        services.outcomes.record(user.id, scale, key, score, now)
        following = items.index(item) + 1
        # One message for the whole check, each answer replacing its question with the next.
        if following < len(items):
            return Outcome().say(replace(_question(services, user, items[following]), edit=True))
        return Outcome().say(Reply(msg("checkin_thanks"), edit=True))
    return None


def checkin_due(services: Services, user: User) -> bool:
    """No PEG rating yet (a baseline is worth having), or none for about a week."""
    every = services.content.care.outcome_rule.check_every_days
    peg = [s.at for s in services.outcomes.scores(user.id) if s.scale == "peg"]
    return not peg or (services.clock() - peg[-1].astimezone(UTC)).days >= every - 1


def checkin_rows(services: Services, user: User) -> tuple[tuple[Button, ...], ...]:
    """The weekly check's button, when it is due; none otherwise."""
    if not checkin_due(services, user):
        return ()
    label = services.content.messages("button_checkin")
    return ((Button(label, CheckinStart().pack()),),)
