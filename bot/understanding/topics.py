"""Anatomy topics: loading and validating `content/topics/*.yaml`."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import Id, Model, OpenModel, Text, decode

from backchain.text import fold

TOPIC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
BODY_WORDS = (60, 250)
# A facet answer is phone-sized.
FACET_MAX_CHARS = 400
# Browsing order in /topics; a file may only use one of these groups. Their labels are
# messages ("group_<id>") so that a translation stays a data change.
Group = Literal["concepts", "anatomy", "symptoms", "everyday", "kits", "safety"]
GROUPS: tuple[str, ...] = typing.get_args(Group)


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    summary: str
    body: str
    aliases: tuple[str, ...]
    related: tuple[str, ...]
    tools: tuple[str, ...]
    group: str
    source_file: str
    facets: dict[str, str] = field(default_factory=dict, hash=False)  # facet -> short answer

    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


Facet = Literal["what", "why", "how", "dose", "tool", "avoid"]
FACETS: tuple[str, ...] = typing.get_args(Facet)


class _TopicEntry(OpenModel, frozen=True):
    """One topic as written. Open: fields added later (optional) pass through unread."""

    id: Id
    title: Text
    summary: Text
    body: Text
    aliases: Annotated[list[Text], msgspec.Meta(min_length=1)]
    related: list[Id] = []
    tools: list[Id] = []
    # Short answers to one kind of question about the topic ("what is it", "how do I roll it").
    facets: dict[Facet, Text] = {}


class _TopicFile(Model, frozen=True):
    group: Group
    topics: Annotated[list[_TopicEntry], msgspec.Meta(min_length=1)]


def _load_file(path: Path) -> list[Topic]:
    data, _ = decode(path, _TopicFile)
    file = str(path)
    topics = []
    for entry in data.topics:
        words = len(entry.body.split())
        if not BODY_WORDS[0] <= words <= BODY_WORDS[1]:
            raise ContentError(
                file,
                f"has {words} words; keep it between {BODY_WORDS[0]} and {BODY_WORDS[1]}",
                entry.id,
                "body",
            )
        topics.append(
            Topic(
                id=entry.id,
                title=entry.title,
                summary=entry.summary,
                body=entry.body,
                aliases=tuple(entry.aliases),
                related=tuple(entry.related),
                tools=tuple(entry.tools),
                group=data.group,
                source_file=file,
                facets=_facets({str(k): v for k, v in entry.facets.items()}, file, entry.id),
            )
        )
    return topics


def _facets(raw: Mapping[str, str], file: str, topic_id: str) -> dict[str, str]:
    """Facet texts as one paragraph each, phone-sized."""
    facets = {str(key): " ".join(text.split()) for key, text in raw.items()}
    for key, text in facets.items():
        if len(text) > FACET_MAX_CHARS:
            raise ContentError(
                file,
                f"has {len(text)} characters; keep it to {FACET_MAX_CHARS}",
                topic_id,
                f"facets.{key}",
            )
    return facets


def _check_references(topics: dict[str, Topic]) -> None:
    alias_owner: dict[str, str] = {}
    for topic in topics.values():
        for ref_field, refs in (("related", topic.related), ("tools", topic.tools)):
            for ref in refs:
                if ref not in topics:
                    raise ContentError(
                        topic.source_file, f"names unknown topic '{ref}'", topic.id, ref_field
                    )
                if ref == topic.id and ref_field == "related":
                    raise ContentError(
                        topic.source_file, "names the topic itself", topic.id, ref_field
                    )
        for tool in topic.tools:
            if topics[tool].group != "kits":
                raise ContentError(
                    topic.source_file, f"'{tool}' is not a kit or tool topic", topic.id, "tools"
                )
        for alias in topic.aliases:
            key = fold(alias)
            owner = alias_owner.setdefault(key, topic.id)
            if owner != topic.id:
                raise ContentError(
                    topic.source_file,
                    f"alias '{alias}' is already claimed by topic '{owner}'",
                    topic.id,
                    "aliases",
                )


def load_topics(directory: Path) -> dict[str, Topic]:
    """Every topic in `directory/*.yaml`, validated, keyed by id in file order."""
    if not directory.is_dir():
        raise ContentError(str(directory), "topics directory is missing")
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ContentError(str(directory), "holds no topic files (*.yaml)")
    topics: dict[str, Topic] = {}
    for path in files:
        for topic in _load_file(path):
            if topic.id in topics:
                raise ContentError(
                    str(path),
                    f"duplicate id, already defined in {topics[topic.id].source_file}",
                    topic.id,
                    "id",
                )
            topics[topic.id] = topic
    _check_references(topics)
    return topics
