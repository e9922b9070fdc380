"""Safety questions reach their safety topic, also when a body area or a kit is named.

`tests/data/safety_questions.tsv` was written without sight of the vocabulary and scored once
before any tuning (68.8% reached a safety topic); it is a regression file now.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backchain.bot.content import Content
from backchain.bot.understanding.matcher import Matcher

DATA = Path(__file__).resolve().parents[1] / "data"


def rows(name: str) -> list[tuple[str, str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line and not line.startswith("#")]


def test_nearly_every_safety_question_reaches_a_safety_topic(
    matcher: Matcher, content: Content
) -> None:
    questions = rows("safety_questions.tsv")
    reached = exact = 0
    for expected, question in questions:
        topic = matcher.match(question).topic or ""
        flagged = content.red_flags.screen(question) is not None
        reached += topic.startswith("safety-") or flagged
        exact += topic == expected
    assert len(questions) >= 190
    assert reached / len(questions) >= 0.97
    assert exact / len(questions) >= 0.90


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("can i use the footballer on my varicose veins", "safety-varicose-veins"),
        ("I'm 24 weeks pregnant, is self-massage safe", "safety-pregnancy"),
        ("I take apixaban, is the massage ok", "safety-blood-thinners"),
        ("I'm 82 with osteoporosis", "safety-osteoporosis"),
        ("new hip in March, safe to use the kit?", "safety-joint-replacement"),
        ("I had a DVT last year, is calf massage dangerous", "safety-clot-history"),
        ("I'm diabetic with numb feet, can I use the Footballer?", "safety-diabetes-feet"),
        ("can I do this with a herniated disc", "safety-herniated-disc"),
        ("is it ok after an epidural", "safety-epidural"),
        ("I have a pacemaker, can I use the ball", "safety-pacemaker"),
        ("is rolling ok with fibromyalgia", "safety-fibromyalgia"),
        ("can my 12 year old use the quadballer", "safety-children"),
        ("is bruising normal after rolling", "safety-bruising"),
        ("on rivaroxiban, can i roll", "safety-blood-thinners"),  # one slip in a medicine
        ("had a laminectomy in june, is the ball ok", "safety-recent-surgery"),
    ],
)
def test_kinds_of_safety_question(matcher: Matcher, question: str, topic: str) -> None:
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize(
    "question",
    [
        "herniated disc",  # a plain disc question stays with the lower back
        "I bent over to pick up my kid and now my lower back is locked",
        "I've had low back pain on and off for about 3 years",  # a duration is not an age
        "ball pit for a kids party",
        "how to knit a scarf",
    ],
)
def test_everyday_words_alone_do_not_make_a_safety_question(
    matcher: Matcher, question: str
) -> None:
    assert not (matcher.match(question).topic or "").startswith("safety-")
