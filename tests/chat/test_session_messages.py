"""A session that reads well on a phone: short step messages, pressure guidance once, full text
on request, and answered messages closed in place."""

from __future__ import annotations

import pytest
from backchain.bot.chat.services import Services
from backchain.bot.chat.session import first_sentence

from tests.chat.test_conversation import ALICE, Chat

KIT = ("Hip & Lower Back Kit", "Foot & Lower Leg Kit")


@pytest.fixture
def alice(services: Services) -> Chat:
    chat = Chat(services, ALICE)
    chat.onboard(*KIT)
    chat.say("/session")
    return chat


def test_steps_are_short_with_the_pressure_guidance_once(alice: Chat) -> None:
    first = alice.press("4").replies[-1]
    assert 'moderate, "good" discomfort' in first.text
    second = alice.press("Done").replies[-1]
    assert 'moderate, "good" discomfort' not in second.text
    assert "about 5 out of 10, never sharp" in second.text
    assert len(second.text) < 400, len(second.text)  # was about 650 characters


def test_more_detail_shows_the_full_text_in_place(alice: Chat, services: Services) -> None:
    short = alice.press("4").replies[-1]
    detail = alice.press("More detail").replies
    assert len(detail) == 1 and detail[0].edit
    assert len(detail[0].text) > len(short.text)
    assert 'moderate, "good" discomfort' in detail[0].text
    assert not any("More detail" in b.label for b in detail[0].button_list())
    assert any("Done" in b.label for b in detail[0].button_list())


def test_answered_messages_are_closed_in_place(alice: Chat) -> None:
    noted, step = alice.press("4").replies
    assert noted.edit and noted.buttons == () and "4/10" in noted.text
    closed, following = alice.press("Done").replies
    assert closed.edit and closed.buttons == () and "Step 1 of" in closed.text
    assert not following.edit and following.buttons


def test_only_the_current_step_has_live_buttons(alice: Chat) -> None:
    alice.press("4")
    first_done = next(b.data for b in alice.last.replies[-1].button_list() if "Done" in b.label)
    alice.press("Done")
    # The old step's "Done" changes nothing and says nothing.
    assert alice.press_data(first_done).replies == []


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Sit on the floor. Set the ball down.", "Sit on the floor."),
        ("One sentence only", "One sentence only"),
        ("Roll from 1.5 cm above. Then stop.", "Roll from 1.5 cm above."),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    assert first_sentence(text) == first
