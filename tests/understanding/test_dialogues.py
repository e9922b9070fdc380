"""Conversations as data: each turn is read with the context the turns before it left behind.

tests/data/conversation/dialogues.tsv is written for this project; the blind dialogues (scored
once before any tuning, then kept) are a regression floor, not a target.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backchain.bot.chat.conversation import Conversation
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.reading import build_understander
from backchain.bot.chat.services import Services
from backchain.bot.content import Content
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.understand import Context, Meaning, Understander, Understanding

from tests.conftest import Clock

# Apart from tests/data/*.tsv, which the red-flag screen's record of old answers must cover.
DATA = Path(__file__).resolve().parents[1] / "data" / "conversation"
Turn = tuple[str, str]  # expected, text


def load(path: Path) -> dict[str, list[Turn]]:
    conversations: dict[str, list[Turn]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, expected, text = line.split("\t", 2)
            conversations.setdefault(name, []).append((expected, text))
    return conversations


OWN = load(DATA / "dialogues.tsv")
BLIND = load(DATA / "dialogues_blind.tsv")


@pytest.fixture(scope="module")
def understander(content: Content, matcher: Matcher) -> Understander:
    return build_understander(content, matcher)


def turn_ok(expected: str, u: Understanding) -> bool:
    """The shared evaluation's rule, plus SMALL for small talk."""
    for option in expected.split(","):
        want, _, facet = option.partition(":")
        if want in ("RED", "CLOT") and u.is_red_flag and u.red_flag_level != "crisis":
            return True
        if want == "CRISIS" and u.red_flag_level == "crisis":
            return True
        if want == "SMALL" and u.meaning is Meaning.SMALL_TALK:
            return True
        if want == "SAFETY" and (str(u.topic or "").startswith("safety-") or u.is_red_flag):
            return True
        plain = not u.is_red_flag and u.meaning is not Meaning.AMBIGUOUS
        if want == "NONE" and u.topic is None and plain:
            return True
        topic = u.topic
        if u.meaning is Meaning.AMBIGUOUS and u.match is not None:
            topic = u.match.topic
        if topic == want and not u.is_red_flag and (not facet or u.facet == facet):
            return True
    return False


def run(understander: Understander, turns: list[Turn]) -> list[tuple[str, str, Understanding]]:
    context = Context()
    results = []
    for expected, text in turns:
        understanding = understander.understand(text, context)
        context = understanding.next_context(context)
        results.append((expected, text, understanding))
    return results


@pytest.mark.parametrize("name", sorted(OWN))
def test_dialogue(name: str, understander: Understander) -> None:
    misses = [
        f"{text!r}: wanted {expected}, got {u.meaning.value} {u.topic}:{u.facet}"
        for expected, text, u in run(understander, OWN[name])
        if not turn_ok(expected, u)
    ]
    assert misses == []


def test_own_dialogues_are_many() -> None:
    assert len(OWN) >= 30 and sum(map(len, OWN.values())) >= 90


# Measured when the blind dialogues became a regression file; raise it as the reading improves.
BLIND_FLOOR = 0.85


def test_blind_dialogues_stay_above_their_floor(understander: Understander) -> None:
    results = [r for turns in BLIND.values() for r in run(understander, turns)]
    good = sum(turn_ok(expected, u) for expected, _, u in results)
    assert good / len(results) >= BLIND_FLOOR, f"{good}/{len(results)}"


def test_chat_keeps_the_thread_across_a_restart(services: Services, clock: Clock) -> None:
    """The context lives in SQLite: a new engine on the same database still knows the topic."""
    first = Conversation(services)
    first.handle(Incoming.text_message(7, 7, "what is the piriformis"))
    again = Conversation(services).handle(Incoming.text_message(7, 7, "how long?"))
    assert "Deep buttock (piriformis)" in again.replies[0].text
    assert "45 s in Release" in again.replies[0].text


def test_chat_forgets_the_thread_after_a_while(services: Services, clock: Clock) -> None:
    chat = Conversation(services)
    chat.handle(Incoming.text_message(7, 7, "what is the piriformis"))
    clock.advance(minutes=services.understander.rules.remember_minutes + 1)
    later = chat.handle(Incoming.text_message(7, 7, "how long?"))
    assert later.replies[0].text == services.content.messages("not_sure")


def test_same_card_is_never_sent_twice_in_a_row(services: Services) -> None:
    chat = Conversation(services)
    first = chat.handle(Incoming.text_message(7, 7, "piriformis")).replies[0]
    second = chat.handle(Incoming.text_message(7, 7, "piriformis")).replies[0]
    assert first.text != second.text
    assert services.content.messages("anything_specific") in second.text
    assert any(b.data == "t:f:piriformis:dose" for b in second.button_list())


def test_red_flag_follow_up_restates_the_advice(services: Services) -> None:
    chat = Conversation(services)
    chat.handle(Incoming.text_message(7, 7, "i cant feel anything when i wipe and my back hurts"))
    reply = chat.handle(Incoming.text_message(7, 7, "it's probably nothing")).replies[0]
    assert reply.text.startswith(services.content.messages("red_flag_follow_up_emergency")[:40])
