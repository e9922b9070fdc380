"""A question asked in a group: the private chat's first answer, and nothing stored."""

from __future__ import annotations

import pytest
from backchain.bot.chat.conversation import Conversation
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.services import Services

QUESTIONS = [
    "why does my hip hurt",
    "piriformus",
    "how many minutes on the piriformis?",
    "numbness in my groin and I can't control my bladder",
    "thanks",
    "asdfgh",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_answer_in_public_is_a_first_private_answer_and_stores_nothing(
    services: Services, text: str
) -> None:
    conversation = Conversation(services)
    public = conversation.answer_in_public(text)
    db = services.storage.db
    tables = ("users", "questions", "red_flag_events", "conversation_context")
    assert all(db[table].count == 0 for table in tables if db[table].exists())
    private = conversation.handle(Incoming.text_message(99, 99, text))
    said = [r.text for r in private.replies]
    assert [r.text for r in public.replies] == said[: len(public.replies)]
    assert public.replies[0].buttons == private.replies[0].buttons
