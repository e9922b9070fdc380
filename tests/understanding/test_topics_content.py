"""The shipped topic content loads, is complete and coherent; broken content fails clearly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from backchain.bot.errors import ContentError
from backchain.bot.understanding.topics import BODY_WORDS, Topic, load_topics

from tests.support.content_fixtures import ANATOMY_IDS, KIT_CONTENTS, TOPICS_DIR

REQUIRED_IDS: dict[str, tuple[str, ...]] = {
    "concepts": (
        "structural-integrity",
        "biomechanical-chain",
        "everyday-posture",
        "myofascial-compression",
        "periodization",
    ),
    "anatomy": ANATOMY_IDS,
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


# A kit and its products name each other, and product bodies name the kit they come in.
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


def _anatomy(*entries: dict[str, Any]) -> dict[str, str]:
    return {"anatomy.yaml": _file("anatomy", *entries)}


# Broken topic files, by case.
BROKEN_FILES: dict[str, dict[str, str]] = {
    "missing-body": _anatomy(_topic("knee", body=None)),
    "body-too-short": _anatomy(_topic("knee", body="Too short.")),
    "unknown-related": _anatomy(_topic("knee", related=["ankle"])),
    "duplicate-alias": _anatomy(
        _topic("knee", aliases=["Kneecap"]), _topic("hip", aliases=["kneecap"])
    ),
    "duplicate-id": {
        "anatomy.yaml": _file("anatomy", _topic("knee")),
        "symptoms.yaml": _file("symptoms", _topic("knee", aliases=["other"])),
    },
    "bad-group": {"anatomy.yaml": _file("bodyparts", _topic("knee"))},
    "not-yaml": {"anatomy.yaml": "group: anatomy\ntopics: [unclosed\n"},
    "tool-not-a-kit": _anatomy(_topic("knee"), _topic("hip", tools=["knee"])),
}
# Where each error must point: file, entry and field, and words of its message.
BROKEN_CASES = [
    ("missing-body", "anatomy.yaml", "knee", "body", "is missing"),
    ("body-too-short", "anatomy.yaml", "knee", "body", "has 2 words"),
    ("unknown-related", "anatomy.yaml", "knee", "related", "unknown topic 'ankle'"),
    ("duplicate-alias", "anatomy.yaml", "hip", "aliases", "already claimed by topic 'knee'"),
    ("duplicate-id", "symptoms.yaml", "knee", "id", "duplicate id"),
    ("bad-group", "anatomy.yaml", None, "group", "must be one of"),
    ("not-yaml", "anatomy.yaml", None, None, "not valid YAML"),
    ("tool-not-a-kit", "anatomy.yaml", "hip", "tools", "'knee' is not a kit"),
]


@pytest.mark.parametrize(
    ("case", "file_name", "entry", "field", "detail"),
    BROKEN_CASES,
    ids=[case for case, *_ in BROKEN_CASES],
)
def test_broken_content_names_file_entry_and_field(
    tmp_path: Path, case: str, file_name: str, entry: str | None, field: str | None, detail: str
) -> None:
    for name, text in BROKEN_FILES[case].items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_topics(tmp_path)
    error = caught.value
    message = str(error)
    assert error.file == str(tmp_path / file_name)
    assert message.startswith(error.file)
    assert (error.entry, error.field) == (entry, field)
    if entry is not None:
        assert f"entry '{entry}'" in message
    if field is not None:
        assert f"field '{field}'" in message
    assert detail in message


def test_missing_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-topics"
    with pytest.raises(ContentError, match="topics directory is missing") as caught:
        load_topics(missing)
    assert caught.value.file == str(missing)
    assert str(missing) in str(caught.value)


def test_facets_and_fields_added_later_are_read(tmp_path: Path) -> None:
    facets = {"what": "A deep hip muscle.", "how": "Lie on a ball under the buttock."}
    entry = _topic("knee", facets=facets, reviewed_by="a physiotherapist")
    (tmp_path / "anatomy.yaml").write_text(_file("anatomy", entry), encoding="utf-8")
    assert load_topics(tmp_path)["knee"].facets == facets


def test_an_unknown_facet_is_named(tmp_path: Path) -> None:
    entry = _topic("knee", facets={"colour": "red"})
    (tmp_path / "anatomy.yaml").write_text(_file("anatomy", entry), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_topics(tmp_path)
    assert (caught.value.entry, caught.value.field) == ("knee", "facets")
    assert "'colour'" in caught.value.detail
