"""No message breaks a line mid-sentence: phones wrap text themselves, so a line break the
writer did not mean ("guide a gentle\nself-massage") wraps badly. Meant breaks end a sentence,
a heading or a label, or start a bullet."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import yaml
from backchain.bot.content import Content

# A break after a word or a comma, before a lower-case word, is one the writer did not mean.
MID_SENTENCE = re.compile(r"[a-z0-9,;]\n[a-z(\"']")


def texts(content: Content) -> Iterator[tuple[str, str]]:
    for name in ("messages.yaml", "smalltalk.yaml"):
        data = yaml.safe_load((content.directory / name).read_text(encoding="utf-8"))
        for key, value in data.items():
            if isinstance(value, str):
                yield f"{name}:{key}", value
    for topic in content.topics.values():
        yield f"{topic.id}.summary", topic.summary
        yield f"{topic.id}.body", topic.body
        for facet, text in topic.facets.items():
            yield f"{topic.id}.facets.{facet}", text


def test_no_message_or_topic_breaks_a_line_mid_sentence(content: Content) -> None:
    broken = [name for name, text in texts(content) if MID_SENTENCE.search(text)]
    assert broken == []


@pytest.mark.parametrize(
    ("text", "broken"),
    [("guide a gentle\nself-massage", True), ("Done.\nNext", False), ("• one\n• two", False)],
)
def test_the_check_catches_a_mid_sentence_break(text: str, broken: bool) -> None:
    assert bool(MID_SENTENCE.search(text)) is broken
