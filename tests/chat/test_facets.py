"""Facet answers: every topic answers every part of a question, phone-sized, with doses taken
from the programme's own numbers."""

from __future__ import annotations

import re

import pytest
from backchain.bot.chat import answers
from backchain.bot.content import Content, load_content
from backchain.bot.routine.plan import scaled_seconds
from backchain.bot.understanding.followup import FACETS

from tests.conftest import REPO

CONTENT = load_content(REPO / "content")
TAGS = re.compile(r"<[^>]+>")
# A reply may carry a heading and a dose or tool line beside the text; the whole stays short.
PHONE_SIZED = 520


# Safety topics always answer with their whole card: their advice comes as one unit.
ANSWERED_IN_PARTS = sorted(t.id for t in CONTENT.topics.values() if t.group != "safety")


@pytest.mark.parametrize("topic_id", ANSWERED_IN_PARTS)
@pytest.mark.parametrize("facet", FACETS)
def test_every_topic_answers_every_facet_briefly(topic_id: str, facet: str) -> None:
    topic = CONTENT.topics[topic_id]
    reply = answers.facet_reply(topic, facet, CONTENT, [])
    text = TAGS.sub("", reply.text)
    assert len(text) <= PHONE_SIZED, text
    if facet != "what":
        # A written answer or one built from the programme, never the summary standing in.
        assert topic.summary not in text
    assert reply.button_list()[0].data == f"t:more:{topic_id}"


@pytest.mark.parametrize("topic_id", ANSWERED_IN_PARTS)
def test_short_answer_is_phone_sized(topic_id: str, content: Content) -> None:
    reply = answers.short_reply(content.topics[topic_id], content, [])
    assert len(TAGS.sub("", reply.text)) <= 450


def test_dose_comes_from_the_programme(content: Content) -> None:
    program = content.program
    step = program.steps["piriformis-tp-ball"]
    seconds = {scaled_seconds(step, phase, 1.0) for phase in program.phases}
    text = answers.facet_text(content.topics["piriformis"], "dose", content)
    for value in seconds:
        assert f"{value} s" in text
    for phase in program.phases:
        assert f"{phase.sessions_per_week} in {phase.title}" in text
    assert "TP Massage Ball" in text  # the dose comes with its tool


def test_dose_follows_a_change_in_the_programme(content: Content) -> None:
    """Not a second copy: change the programme's seconds and the answer changes with it."""
    from dataclasses import replace
    from types import SimpleNamespace

    import msgspec

    step = content.program.steps["piriformis-tp-ball"]
    steps = {**content.program.steps, step.id: msgspec.structs.replace(step, seconds=80)}
    changed = SimpleNamespace(
        program=replace(content.program, steps=steps),
        topics=content.topics,
        messages=content.messages,
    )
    text = answers.facet_text(content.topics["piriformis"], "dose", changed)  # type: ignore[arg-type]
    assert "80 s" in text


def test_a_safety_question_gets_the_whole_safety_card(content: Content) -> None:
    from backchain.bot.understanding.understand import Meaning, Understanding

    safety = next(t for t in content.topics.values() if t.group == "safety")
    for facet in (None, "dose", "how"):
        u = Understanding(Meaning.TOPIC, topic=safety.id, facet=facet)
        assert answers.answer(u, content, []).text == answers.topic_text(safety)
