"""The shipped topic content loads, is complete and coherent; broken content fails clearly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.errors import ContentError
from bot.topics import BODY_WORDS, Topic, load_topics

TOPICS_DIR = Path(__file__).resolve().parent.parent / "content" / "topics"

REQUIRED_IDS: dict[str, tuple[str, ...]] = {
    "concepts": (
        "structural-integrity",
        "biomechanical-chain",
        "everyday-posture",
        "myofascial-compression",
        "periodization",
    ),
    "anatomy": (
        "foot",
        "soleus",
        "anterior-tibialis",
        "knee",
        "quadriceps",
        "pelvic-tilt",
        "it-band",
        "hamstrings",
        "psoas",
        "piriformis",
        "sciatic-nerve",
        "lower-back",
        "mid-back",
        "pectorals",
    ),
    "symptoms": ("hip-pain", "knee-pain"),
    "kits": (
        "hip-lower-back-kit",
        "foot-lower-leg-kit",
        "footballer",
        "baller-block",
        "quadballer",
        "tp-massage-ball",
    ),
}
ALIASES_PER_TOPIC = (8, 25)
# Words that, as a whole alias, would pull unrelated questions onto a topic.
TOO_GENERIC = frozenset(
    {
        *("a", "an", "the", "my", "me", "i", "it", "is", "of", "and", "or", "to", "in", "on"),
        *("at", "for", "with", "how", "what", "why", "when", "where", "help", "body"),
        *("pain", "ache", "aches", "hurt", "hurts", "sore", "back", "leg", "legs"),
        *("ball", "balls", "block", "football", "muscle", "muscles", "massage", "tool", "kit"),
    }
)
CHAIN_WORDS = ("soleus", "foot", "knee", "quad", "pelvi")
# Which kit each product belongs to; product bodies must name the same kit.
KIT_CONTENTS: dict[str, tuple[str, ...]] = {
    "hip-lower-back-kit": ("footballer", "baller-block"),
    "foot-lower-leg-kit": ("tp-massage-ball", "quadballer"),
}
MARKUP = re.compile(r"<[a-z/][^>]*>|\*\*|__|`|^\s*(?:#|[-*] )", re.MULTILINE)


@pytest.fixture(scope="module")
def topics() -> dict[str, Topic]:
    return load_topics(TOPICS_DIR)


ALL_REQUIRED = [(group, topic_id) for group, ids in REQUIRED_IDS.items() for topic_id in ids]


@pytest.mark.parametrize(("group", "topic_id"), ALL_REQUIRED)
def test_required_topic_exists_in_its_group(
    topics: dict[str, Topic], group: str, topic_id: str
) -> None:
    assert topic_id in topics
    assert topics[topic_id].group == group
    assert Path(topics[topic_id].source_file).name == f"{group}.yaml"


def test_every_body_is_within_word_limits(topics: dict[str, Topic]) -> None:
    low, high = BODY_WORDS
    for topic in topics.values():
        assert low <= len(topic.body.split()) <= high, topic.id


def test_bodies_are_plain_text_in_short_paragraphs(topics: dict[str, Topic]) -> None:
    for topic in topics.values():
        assert not MARKUP.search(topic.body), topic.id
        paragraphs = topic.paragraphs()
        assert len(paragraphs) >= 2, topic.id
        assert all(len(p.split()) <= 90 for p in paragraphs), topic.id


def test_summaries_are_one_line(topics: dict[str, Topic]) -> None:
    for topic in topics.values():
        assert "\n" not in topic.summary, topic.id


def test_related_and_tools_resolve(topics: dict[str, Topic]) -> None:
    for topic in topics.values():
        for ref in (*topic.related, *topic.tools):
            assert ref in topics, (topic.id, ref)
        assert all(topics[tool].group == "kits" for tool in topic.tools), topic.id


def test_every_anatomy_topic_has_a_related_topic(topics: dict[str, Topic]) -> None:
    for topic in topics.values():
        if topic.group == "anatomy":
            assert topic.related, topic.id


@pytest.mark.parametrize("topic_id", ["hip-pain", "knee-pain"])
def test_symptom_walks_the_chain(topics: dict[str, Topic], topic_id: str) -> None:
    body = topics[topic_id].body.lower()
    missing = [word for word in CHAIN_WORDS if word not in body]
    assert not missing, missing
    assert "biomechanical-chain" in topics[topic_id].related


@pytest.mark.parametrize("topic_id", REQUIRED_IDS["symptoms"])
def test_symptom_points_to_a_professional(topics: dict[str, Topic], topic_id: str) -> None:
    body = topics[topic_id].body.lower()
    assert "doctor or physiotherapist" in body
    assert "worse" in body


def test_alias_counts(topics: dict[str, Topic]) -> None:
    low, high = ALIASES_PER_TOPIC
    for topic in topics.values():
        assert low <= len(topic.aliases) <= high, (topic.id, len(topic.aliases))


def test_no_alias_is_a_bare_generic_word(topics: dict[str, Topic]) -> None:
    for topic in topics.values():
        generic = [a for a in topic.aliases if a.lower() in TOO_GENERIC]
        assert not generic, (topic.id, generic)


def test_aliases_are_unique_within_a_topic(topics: dict[str, Topic]) -> None:
    for topic in topics.values():
        keys = [" ".join(a.lower().split()) for a in topic.aliases]
        assert len(keys) == len(set(keys)), topic.id


@pytest.mark.parametrize(("kit_id", "products"), KIT_CONTENTS.items())
def test_kit_contents_are_consistent(
    topics: dict[str, Topic], kit_id: str, products: tuple[str, ...]
) -> None:
    kit = topics[kit_id]
    for product_id in products:
        assert product_id in kit.related
        assert kit_id in topics[product_id].related
        assert kit.title in topics[product_id].body, product_id
        assert topics[product_id].title.removeprefix("The ") in kit.body


def test_each_product_names_only_its_own_kit(topics: dict[str, Topic]) -> None:
    for kit_id, products in KIT_CONTENTS.items():
        other_titles = [topics[k].title for k in KIT_CONTENTS if k != kit_id]
        for product_id in products:
            for title in other_titles:
                assert title not in topics[product_id].body, (product_id, title)


@pytest.mark.parametrize(
    ("area", "tool"),
    [
        ("soleus", "footballer"),
        ("soleus", "baller-block"),
        ("soleus", "tp-massage-ball"),
        ("quadriceps", "quadballer"),
        ("psoas", "tp-massage-ball"),
        ("piriformis", "tp-massage-ball"),
        ("mid-back", "tp-massage-ball"),
        ("pectorals", "tp-massage-ball"),
    ],
)
def test_area_lists_the_tool_the_source_ties_to_it(
    topics: dict[str, Topic], area: str, tool: str
) -> None:
    assert tool in topics[area].tools


# --- validation errors on broken content -------------------------------------------------

BODY = " ".join(["word"] * 70)


def _topic(topic_id: str, **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": topic_id,
        "title": topic_id.title(),
        "summary": "One line.",
        "body": BODY,
        "aliases": [f"{topic_id} alias"],
    }
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


def _file(group: str, *entries: dict[str, Any]) -> str:
    return yaml.safe_dump({"group": group, "topics": list(entries)}, sort_keys=False)


@dataclass(frozen=True)
class Broken:
    """Files to write, and where the resulting error must point."""

    files: dict[str, str]
    file_name: str
    entry: str | None
    field: str | None
    detail: str


BROKEN_CASES = [
    pytest.param(
        Broken(
            files={"anatomy.yaml": _file("anatomy", _topic("knee", body=None))},
            file_name="anatomy.yaml",
            entry="knee",
            field="body",
            detail="is missing",
        ),
        id="missing-body",
    ),
    pytest.param(
        Broken(
            files={"anatomy.yaml": _file("anatomy", _topic("knee", body="Too short."))},
            file_name="anatomy.yaml",
            entry="knee",
            field="body",
            detail="has 2 words",
        ),
        id="body-too-short",
    ),
    pytest.param(
        Broken(
            files={"anatomy.yaml": _file("anatomy", _topic("knee", related=["ankle"]))},
            file_name="anatomy.yaml",
            entry="knee",
            field="related",
            detail="unknown topic 'ankle'",
        ),
        id="unknown-related",
    ),
    pytest.param(
        Broken(
            files={
                "anatomy.yaml": _file(
                    "anatomy",
                    _topic("knee", aliases=["Kneecap"]),
                    _topic("hip", aliases=["kneecap"]),
                )
            },
            file_name="anatomy.yaml",
            entry="hip",
            field="aliases",
            detail="already claimed by topic 'knee'",
        ),
        id="duplicate-alias",
    ),
    pytest.param(
        Broken(
            files={
                "anatomy.yaml": _file("anatomy", _topic("knee")),
                "symptoms.yaml": _file("symptoms", _topic("knee", aliases=["other"])),
            },
            file_name="symptoms.yaml",
            entry="knee",
            field="id",
            detail="duplicate id",
        ),
        id="duplicate-id",
    ),
    pytest.param(
        Broken(
            files={"anatomy.yaml": _file("bodyparts", _topic("knee"))},
            file_name="anatomy.yaml",
            entry=None,
            field="group",
            detail="must be one of",
        ),
        id="bad-group",
    ),
    pytest.param(
        Broken(
            files={"anatomy.yaml": "group: anatomy\ntopics: [unclosed\n"},
            file_name="anatomy.yaml",
            entry=None,
            field=None,
            detail="not valid YAML",
        ),
        id="not-yaml",
    ),
    pytest.param(
        Broken(
            files={"anatomy.yaml": _file("anatomy", _topic("knee"), _topic("hip", tools=["knee"]))},
            file_name="anatomy.yaml",
            entry="hip",
            field="tools",
            detail="'knee' is not a kit",
        ),
        id="tool-not-a-kit",
    ),
]


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_broken_content_names_file_entry_and_field(tmp_path: Path, case: Broken) -> None:
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_topics(tmp_path)
    error = caught.value
    message = str(error)
    assert error.file == str(tmp_path / case.file_name)
    assert message.startswith(error.file)
    assert (error.entry, error.field) == (case.entry, case.field)
    if case.entry is not None:
        assert f"entry '{case.entry}'" in message
    if case.field is not None:
        assert f"field '{case.field}'" in message
    assert case.detail in message


def test_missing_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-topics"
    with pytest.raises(ContentError, match="topics directory is missing") as caught:
        load_topics(missing)
    assert caught.value.file == str(missing)
    assert str(missing) in str(caught.value)
