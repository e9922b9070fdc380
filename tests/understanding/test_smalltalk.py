"""Greetings and thanks get a kind reply; questions are never mistaken for small talk."""

from __future__ import annotations

from pathlib import Path

import pytest
from backchain.bot.content import Content
from backchain.bot.errors import ContentError
from backchain.bot.understanding.smalltalk import load_smalltalk


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("hi", "smalltalk_greeting"),
        ("Hello!! 👋", "smalltalk_greeting"),
        ("hey there", "smalltalk_greeting"),
        ("hello how are you", "smalltalk_greeting"),
        ("Thanks a lot", "smalltalk_thanks"),
        ("thank you!", "smalltalk_thanks"),
        ("good night", "smalltalk_goodbye"),
        ("what can you do?", "help"),
        ("HELP", "help"),
    ],
)
def test_social_messages(content: Content, text: str, key: str) -> None:
    assert content.smalltalk.reply_key(text) == key


@pytest.mark.parametrize(
    "text",
    [
        "hi my hip hurts when I sit",
        "help my back is killing me",
        "thanks but my knee still hurts",
        "hip",
        "sciatica",
        "",
        "hello " * 10,
        "highway",
    ],
)
def test_questions_are_not_small_talk(content: Content, text: str) -> None:
    assert content.smalltalk.reply_key(text) is None


def test_greeting_in_the_chat_is_not_logged_as_unanswered(services) -> None:
    from backchain.bot.chat.conversation import Conversation
    from backchain.bot.chat.incoming import Incoming

    outcome = Conversation(services).handle(Incoming.text_message(5, 5, "Good morning!"))
    assert "Hello!" in outcome.replies[0].text
    assert services.questions.unanswered_report() == []


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("intents: {g: {reply: nope, phrases: [hi]}}\n", "reply"),
        ("intents: {g: {reply: help, phrases: []}}\n", "phrases"),
        (
            "intents: {g: {reply: help, phrases: [hi]}, h: {reply: welcome, phrases: [Hi]}}\n",
            "phrases",
        ),
        ("max_words: 0\nintents: {g: {reply: help, phrases: [hi]}}\n", "max_words"),
        ("intents: []\n", "intents"),
    ],
)
def test_broken_smalltalk_file_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "smalltalk.yaml"
    path.write_text(text)
    with pytest.raises(ContentError, match=f"field '{field}'"):
        load_smalltalk(path, {"help", "welcome"})
