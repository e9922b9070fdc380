"""The conversation keeps its thread: commands typed with arguments, questions mid-session,
and replies that follow from the message before."""

from __future__ import annotations

import pytest
from backchain.bot.chat.services import Services

from tests.chat.test_conversation import ALICE, Chat, only


@pytest.fixture
def alice(services: Services) -> Chat:
    return Chat(services, ALICE)


@pytest.mark.parametrize(
    ("command", "hour", "minute"),
    [("/remind 7:30", 7, 30), ("/remind 7pm", 19, 0), ("/remind@BackchainBot 21:15", 21, 15)],
)
def test_remind_with_a_time_sets_it_at_once(
    alice: Chat, services: Services, command: str, hour: int, minute: int
) -> None:
    outcome = alice.say(command)
    reminder = services.reminders.get(ALICE)
    assert reminder is not None and reminder.enabled
    assert (reminder.local_time.hour, reminder.local_time.minute) == (hour, minute)
    assert services.content.messages("ask_reminder_time", zone="UTC") not in alice.texts()
    assert not any(b.data.startswith("r:time:") for r in outcome.replies for b in r.button_list())


def test_remind_off_turns_it_off(alice: Chat, services: Services) -> None:
    alice.say("/remind 8:00")
    reply = only(alice.say("/remind off"))
    assert reply.text == services.content.messages("remind_off_done")
    reminder = services.reminders.get(ALICE)
    assert reminder is not None and not reminder.enabled


def test_remind_with_nonsense_gets_a_one_line_hint_and_no_loop(
    alice: Chat, services: Services
) -> None:
    reply = only(alice.say("/remind banana"))
    assert "banana" in reply.text and "/remind 7:30" in reply.text
    assert "\n" not in reply.text
    # Not waiting for a time: the next message is read as a question.
    assert "piriformis" in only(alice.say("piriformis")).text.lower()


@pytest.mark.parametrize(
    ("command", "zone"), [("/timezone Berlin", "Europe/Berlin"), ("/timezone UTC+2", None)]
)
def test_timezone_with_an_argument_sets_it_at_once(
    alice: Chat, services: Services, command: str, zone: str | None
) -> None:
    reply = only(alice.say(command))
    user = services.users.get(ALICE)
    assert user.timezone != "UTC"
    if zone:
        assert user.timezone == zone
    assert user.timezone in reply.text


def test_timezone_nonsense_gets_a_hint(alice: Chat, services: Services) -> None:
    reply = only(alice.say("/timezone Zzqxville"))
    assert "Zzqxville" in reply.text and "/timezone Berlin" in reply.text


def test_start_with_the_bot_name_is_start(alice: Chat, services: Services) -> None:
    outcome = alice.say("/start@BackchainBot")
    assert "not a diagnosis" in outcome.replies[0].text


def test_a_question_mid_session_gets_its_answer_then_the_step_again(
    alice: Chat, services: Services
) -> None:
    alice.onboard("Hip & Lower Back Kit", "Foot & Lower Leg Kit")
    alice.say("/session")
    alice.press("5")
    step = alice.last.replies[-1]
    done = next(b.data for b in step.button_list() if "Done" in b.label)
    outcome = alice.say("how long?")
    assert len(outcome.replies) == 2
    assert "⏱" in outcome.replies[0].text  # the dose of the step in hand
    assert outcome.replies[1].text == step.text
    assert done in [b.data for b in outcome.replies[1].button_list()]
    # "Done" is still Done: the step completes and the next one comes.
    after = alice.press_data(done)
    assert "Step 2" in after.replies[-1].text


def test_small_talk_mid_session_does_not_repeat_the_step(alice: Chat) -> None:
    alice.onboard("Hip & Lower Back Kit")
    alice.say("/session")
    alice.press("5")
    assert len(alice.say("thanks").replies) == 1


def test_tell_me_more_sends_the_whole_card(alice: Chat, services: Services) -> None:
    short = only(alice.say("what is the piriformis"))
    assert len(short.text) < 450
    full = only(alice.press("Tell me more"))
    assert services.content.topics["piriformis"].paragraphs()[0][:40] in full.text


def test_facet_button_answers_that_part(alice: Chat, services: Services) -> None:
    alice.say("piriformis")
    repeat = only(alice.say("piriformis"))
    assert services.content.messages("anything_specific") in repeat.text
    dose = only(alice.press("How long, how often"))
    assert "45 s in Release" in dose.text


def test_forget_deletes_the_thread(alice: Chat, services: Services) -> None:
    alice.say("what is the piriformis")
    alice.say("/forget")
    alice.press("Yes")
    rows = services.storage.db.execute("SELECT COUNT(*) FROM conversation_context").fetchone()
    assert rows == (0,)
