"""The health screen in the conversation: onboarding, /health, offers from free text, the
doctor-first gate, and what a session then plans."""

from __future__ import annotations

import zipfile

import pytest
from backchain.bot.chat.services import Services
from backchain.bot.routine.plan import SessionPlan

from tests.chat.test_conversation import ALICE, Chat


@pytest.fixture
def alice(services: Services) -> Chat:
    return Chat(services, ALICE)


def onboard_with(chat: Chat, *conditions: str, side: str | None = None) -> None:
    chat.say("/start")
    chat.press("Hip & Lower Back Kit")
    chat.press("Foot & Lower Leg Kit")
    chat.press("Done")
    for label in conditions:
        chat.press(label)
    chat.press("Done")
    if side is not None:
        chat.press(side)
    chat.press("Hip")


def label(services: Services, condition: str) -> str:
    return services.content.precautions.conditions[condition].label


def started_plan(services: Services) -> SessionPlan:
    session = services.sessions.unfinished(ALICE)
    assert session is not None
    return SessionPlan.from_json(session.plan)


def test_checklist_follows_the_tools_and_none_of_these_is_one_tap(
    alice: Chat, services: Services
) -> None:
    alice.say("/start")
    alice.press("Hip & Lower Back Kit")
    outcome = alice.press("Done")
    labels = [b.label for b in outcome.replies[-1].button_list()]
    for condition in services.content.precautions.ordered():
        assert "▫️ " + condition.label in labels
    assert "None of these" in labels
    alice.press("None of these")
    assert "bother you most" in alice.texts()
    assert services.health.get(ALICE).screened
    assert services.health.get(ALICE).conditions == frozenset()


def test_toggling_edits_the_checklist_in_place(alice: Chat, services: Services) -> None:
    alice.say("/start")
    alice.press("Done")
    pregnancy = label(services, "pregnancy")
    edited = alice.press(pregnancy).replies[-1]
    assert edited.edit and "✅ " + pregnancy in [b.label for b in edited.button_list()]
    edited = alice.press(pregnancy).replies[-1]
    assert "▫️ " + pregnancy in [b.label for b in edited.button_list()]


def test_pregnancy_changes_the_session_and_says_why(alice: Chat, services: Services) -> None:
    onboard_with(alice, label(services, "pregnancy"))
    assert services.health.get(ALICE).conditions == {"pregnancy"}
    intro = alice.say("/session")
    condition = services.content.precautions.conditions["pregnancy"]
    assert condition.summary in intro.replies[0].text
    plan = started_plan(services)
    excluded = {rule.step for rule in condition.exclude}
    assert excluded and not excluded & {step.step_id for step in plan.steps}
    for step in plan.steps:
        assert "face down" not in step.position.lower()
        assert "on your front" not in step.position.lower()


def test_a_new_hip_asks_the_side_and_spares_it(alice: Chat, services: Services) -> None:
    onboard_with(alice, label(services, "hip-replacement"), side="Left")
    stored = services.health.get(ALICE)
    assert stored.conditions == {"hip-replacement"} and stored.sides == {"hip-replacement": "left"}
    alice.say("/session")
    spared = {
        c.step
        for c in services.content.precautions.conditions["hip-replacement"].change
        if c.other_side_only
    }
    for step in started_plan(services).steps:
        if step.step_id in spared:
            assert step.sides == "right"


def test_health_command_shows_and_edits(alice: Chat, services: Services) -> None:
    onboard_with(alice)
    outcome = alice.say("/health")
    assert "none of the health conditions" in outcome.replies[0].text.lower()
    alice.press(label(services, "blood-thinners"))
    outcome = alice.press("Done")
    assert services.health.get(ALICE).conditions == {"blood-thinners"}
    assert (
        services.content.precautions.conditions["blood-thinners"].label in outcome.replies[0].text
    )
    labels = [b.label for b in alice.say("/health").replies[-1].button_list()]
    assert "✅ " + label(services, "blood-thinners") in labels


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("I'm 24 weeks pregnant, is self-massage safe", "pregnancy"),
        ("I take apixaban, is the massage ok", "blood-thinners"),
        ("I'm on warfarin, can I roll my calves?", "blood-thinners"),
        ("I had my hip replaced in March, safe to use the kit?", "hip-replacement"),
    ],
)
def test_a_condition_mentioned_in_passing_is_offered_never_stored(
    alice: Chat, services: Services, text: str, condition: str
) -> None:
    if condition not in services.content.precautions.conditions:
        pytest.skip(f"{condition} is not in the health screen")
    onboard_with(alice)
    outcome = alice.say(text)
    assert len(outcome.replies) >= 2  # the answer first, then the offer
    offer = outcome.replies[-1]
    assert services.content.precautions.conditions[condition].label in offer.text
    assert services.health.get(ALICE).conditions == frozenset()  # nothing added silently
    alice.press("Yes")
    if services.content.precautions.conditions[condition].sided:
        alice.press("Right")
    assert condition in services.health.get(ALICE).conditions


def test_no_offer_for_a_negated_mention_or_a_known_condition(
    alice: Chat, services: Services
) -> None:
    # The offer is its Yes button: a safety topic's answer may itself mention adjusting.
    yes = services.content.messages("health_offer_yes")

    def offered(text: str) -> bool:
        return any(b.label == yes for r in alice.say(text).replies for b in r.button_list())

    onboard_with(alice, label(services, "pregnancy"))
    assert not offered("I'm pregnant, can I roll?")
    alice.say("/health")
    alice.press(label(services, "pregnancy"))
    alice.press("Done")
    assert not offered("I'm not pregnant")


def test_declining_an_offer_changes_nothing(alice: Chat, services: Services) -> None:
    onboard_with(alice)
    alice.say("I'm pregnant, is the footballer safe?")
    assert "not changed anything" in alice.press("No").replies[0].text
    assert services.health.get(ALICE).conditions == frozenset()


def test_doctor_first_conditions_gate_the_routine(alice: Chat, services: Services) -> None:
    waiting = [c for c in services.content.precautions.ordered() if c.doctor_first]
    assert waiting
    onboard_with(alice, waiting[0].label, side="Left" if waiting[0].sided else None)
    gate = alice.say("/session").replies[-1]
    assert "doctor" in gate.text.lower() and services.sessions.unfinished(ALICE) is None
    alice.press("My doctor says it's fine")
    alice.say("/session")
    assert services.sessions.unfinished(ALICE) is not None


def test_forget_and_export_cover_the_health_screen(alice: Chat, services: Services) -> None:
    onboard_with(alice, label(services, "pregnancy"))
    archive = alice.say("/export").replies[0].document
    assert archive is not None
    with zipfile.ZipFile(archive) as bundle:
        text = bundle.read("health-screen.csv").decode("utf-8")
    assert "condition,side,added" in text and text.count("\n") == 2
    alice.say("/forget")
    alice.press("Yes")
    rows = services.storage.db.execute("SELECT COUNT(*) FROM health_conditions").fetchone()
    screens = services.storage.db.execute("SELECT COUNT(*) FROM health_screen").fetchone()
    assert rows == (0,) and screens == (0,)


def test_forged_health_presses_are_refused(alice: Chat, services: Services) -> None:
    onboard_with(alice)
    expired = services.content.messages("button_expired")
    for data in ("hs:t:no-such-thing", "hs:add:nothing", "hs:side:pregnancy:up", "hs:t:pregnancy"):
        assert alice.press_data(data).replies[0].text == expired
    assert services.health.get(ALICE).conditions == frozenset()
