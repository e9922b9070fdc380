"""A new user's first message needs no storage: the storage-free answer is the chat's, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from backchain.bot.adapters.plain import render_reply
from backchain.bot.chat.conversation import Conversation
from backchain.bot.chat.incoming import Incoming, Kind
from backchain.bot.chat.replying import first_answer
from backchain.bot.chat.services import Services

DATA = Path(__file__).resolve().parent.parent / "data"


def questions() -> list[str]:
    """Every question of the data files (the last column; not the dialogues), each once."""
    seen: dict[str, None] = {}
    paths = [p for p in sorted(DATA.rglob("*.tsv")) if "dialogues" not in p.name]
    for path in [*paths, DATA / "not_red_flags.txt"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.split("\t")[-1]
            if text.strip() and not line.startswith("#"):
                seen.setdefault(text, None)
    return list(seen)


QUESTIONS = questions()


def test_the_data_files_hold_many_questions() -> None:
    assert len(QUESTIONS) > 3000


@pytest.mark.parametrize("chunk", range(8))
def test_first_answer_is_what_the_chat_says_to_a_new_user(services: Services, chunk: int) -> None:
    conversation = Conversation(services)
    understander = services.understander
    extra = ["", "   ", "I'm not pregnant, just sore", "had my hip replaced last year", "x" * 5000]
    for number, text in enumerate(QUESTIONS[chunk::8] + extra):
        incoming = Incoming.text_message(10_000 + number, 10_000 + number, text)
        if incoming.kind is not Kind.TEXT:
            continue
        chat = [render_reply(r) for r in conversation.handle(incoming).replies]
        fast = [render_reply(r) for r in first_answer(services.content, understander, text).replies]
        assert fast == chat, text
