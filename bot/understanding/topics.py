"""Anatomy topics: loading and validating `content/topics/*.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import optional_str_list, read_yaml_mapping, require_str

from backchain.text import fold

TOPIC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
BODY_WORDS = (60, 250)
# Browsing order in /topics; a file may only use one of these groups. Their labels are
# messages ("group_<id>") so that a translation stays a data change.
GROUPS: tuple[str, ...] = ("concepts", "anatomy", "symptoms", "kits", "safety")


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

    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


def _parse_topic(raw: Any, group: str, file: str, index: int) -> Topic:
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", f"#{index + 1}")
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not TOPIC_ID.match(topic_id):
        raise ContentError(file, "must be lower-case words joined by '-'", f"#{index + 1}", "id")
    body = require_str(raw, "body", file, topic_id)
    words = len(body.split())
    if not BODY_WORDS[0] <= words <= BODY_WORDS[1]:
        raise ContentError(
            file,
            f"has {words} words; keep it between {BODY_WORDS[0]} and {BODY_WORDS[1]}",
            topic_id,
            "body",
        )
    aliases = optional_str_list(raw, "aliases", file, topic_id)
    if not aliases:
        raise ContentError(file, "needs at least one alias", topic_id, "aliases")
    return Topic(
        id=topic_id,
        title=require_str(raw, "title", file, topic_id),
        summary=require_str(raw, "summary", file, topic_id),
        body=body,
        aliases=tuple(aliases),
        related=tuple(optional_str_list(raw, "related", file, topic_id)),
        tools=tuple(optional_str_list(raw, "tools", file, topic_id)),
        group=group,
        source_file=file,
    )


def _load_file(path: Path) -> list[Topic]:
    data = read_yaml_mapping(path)
    file = str(path)
    group = data.get("group")
    if group not in GROUPS:
        raise ContentError(file, f"must be one of {', '.join(GROUPS)}", None, "group")
    entries = data.get("topics")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "must be a non-empty list", None, "topics")
    return [_parse_topic(raw, group, file, i) for i, raw in enumerate(entries)]


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
