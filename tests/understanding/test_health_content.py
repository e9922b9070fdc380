"""content/health.yaml: every condition is complete, names real steps and real sources."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.support.content_fixtures import CONTENT, PROGRAM_FILE, TOPICS_DIR

HEALTH_FILE = CONTENT / "health.yaml"
CONDITION_IDS = (
    "pregnancy",
    "blood-thinners",
    "clot-history",
    "osteoporosis",
    "recent-surgery",
    "hip-replacement",
    "knee-replacement",
    "varicose-veins",
    "diabetic-neuropathy",
    "cancer",
    "skin",
    "under-16",
)
SIDED = frozenset({"hip-replacement", "knee-replacement"})
DOCTOR_FIRST = frozenset({"recent-surgery", "cancer", "under-16"})
REQUIRED_TEXT = ("label", "because", "summary")
LABEL_CHARS = 48
MIN_MENTIONS = 8
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CHANGE_KEYS = frozenset(
    {"step", "note", "position", "technique", "pressure", "max_seconds", "rolling_only"}
    | {"other_side_only"}
)
# The safety topic that explains each condition in plain words.
TOPIC_FOR = {
    "pregnancy": "safety-pregnancy",
    "blood-thinners": "safety-blood-thinners",
    "clot-history": "safety-clot-history",
    "osteoporosis": "safety-osteoporosis",
    "recent-surgery": "safety-recent-surgery",
    "hip-replacement": "safety-joint-replacement",
    "knee-replacement": "safety-joint-replacement",
    "varicose-veins": "safety-varicose-veins",
    "diabetic-neuropathy": "safety-diabetes-feet",
    "cancer": "safety-cancer",
    "skin": "safety-skin",
    "under-16": "safety-children",
}


def _load(path: Any) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict)
    return data


HEALTH = _load(HEALTH_FILE)
PROGRAM = _load(PROGRAM_FILE)
STEPS = {step["id"]: step for step in PROGRAM["steps"]}
SOURCES = {source["id"]: source for source in HEALTH["sources"]}
CONDITIONS = {condition["id"]: condition for condition in HEALTH["conditions"]}
BY_CONDITION = [pytest.param(c, id=c["id"]) for c in HEALTH["conditions"]]


def _step_refs(condition: dict[str, Any]) -> list[str]:
    entries = [*condition.get("exclude", []), *condition.get("change", [])]
    return [entry["step"] for entry in entries]


def test_condition_ids_are_exactly_the_screen_in_order() -> None:
    assert tuple(c["id"] for c in HEALTH["conditions"]) == CONDITION_IDS


def test_sources_are_complete_and_unique() -> None:
    ids = [source["id"] for source in HEALTH["sources"]]
    assert len(ids) == len(set(ids))
    for source in HEALTH["sources"]:
        assert KEBAB.match(source["id"]), source["id"]
        assert source["publisher"].strip() and source["title"].strip(), source["id"]
        assert source["url"].startswith("https://"), source["id"]


def test_every_source_is_cited() -> None:
    cited = {ref for c in HEALTH["conditions"] for ref in c["sources"]}
    assert cited == set(SOURCES)


@pytest.mark.parametrize("condition", BY_CONDITION)
def test_condition_has_its_texts_mentions_and_sources(condition: dict[str, Any]) -> None:
    for key in REQUIRED_TEXT:
        assert isinstance(condition.get(key), str) and condition[key].strip(), key
        assert "\n" not in condition[key].strip(), key
    assert len(condition["label"]) <= LABEL_CHARS
    mentions = condition["mentions"]
    assert len(mentions) >= MIN_MENTIONS
    assert all(m == m.lower() and m == " ".join(m.split()) for m in mentions), mentions
    assert len(mentions) == len(set(mentions))
    assert condition["sources"], "needs at least one source"
    for ref in condition["sources"]:
        assert ref in SOURCES, ref


@pytest.mark.parametrize("condition", BY_CONDITION)
def test_every_step_named_exists_in_the_program(condition: dict[str, Any]) -> None:
    refs = _step_refs(condition)
    unknown = [ref for ref in refs if ref not in STEPS]
    assert not unknown
    assert len(refs) == len(set(refs)), "a step is both left out and changed, or listed twice"


@pytest.mark.parametrize("condition", BY_CONDITION)
def test_every_exclusion_says_why(condition: dict[str, Any]) -> None:
    for entry in condition.get("exclude", []):
        assert set(entry) == {"step", "why"}, entry
        assert entry["why"].strip(), entry["step"]


@pytest.mark.parametrize("condition", BY_CONDITION)
def test_every_change_has_a_note_and_only_known_fields(condition: dict[str, Any]) -> None:
    for change in condition.get("change", []):
        step = change["step"]
        assert isinstance(change.get("note"), str) and change["note"].strip(), step
        assert "\n" not in change["note"].strip(), step
        assert set(change) <= CHANGE_KEYS, set(change) - CHANGE_KEYS
        if "max_seconds" in change:
            assert 10 <= change["max_seconds"] < STEPS[step]["seconds"], step
        if change.get("rolling_only"):
            assert STEPS[step]["mode"] == "still", f"{step} already rolls"
        if change.get("other_side_only"):
            assert condition.get("sided") is True, step
            assert STEPS[step]["sides"] == "left-right", step


def test_sided_and_doctor_first_are_where_the_screen_needs_them() -> None:
    assert {c["id"] for c in HEALTH["conditions"] if c.get("sided")} == SIDED
    assert {c["id"] for c in HEALTH["conditions"] if c["doctor_first"]} == DOCTOR_FIRST


def test_no_calf_or_shin_work_in_pregnancy_or_after_a_clot() -> None:
    lower_leg = {"soleus-footballer", "calf-sides-tp-balls", "shin-tp-ball"}
    for condition_id in ("pregnancy", "clot-history"):
        left_out = {e["step"] for e in CONDITIONS[condition_id]["exclude"]}
        assert lower_leg <= left_out, condition_id


def test_no_face_down_step_survives_pregnancy_unchanged() -> None:
    pregnancy = CONDITIONS["pregnancy"]
    left_out = {e["step"] for e in pregnancy["exclude"]}
    moved = {c["step"] for c in pregnancy["change"] if "position" in c}
    face_down = {i for i, s in STEPS.items() if "face down" in s["position"].lower()}
    assert face_down and face_down <= left_out | moved
    assert all("face down" not in c.get("position", "").lower() for c in pregnancy["change"])


def test_blood_thinners_hold_no_still_pressure() -> None:
    condition = CONDITIONS["blood-thinners"]
    left_out = {e["step"] for e in condition["exclude"]}
    changes = {c["step"]: c for c in condition["change"]}
    for step_id, step in STEPS.items():
        if step_id in left_out:
            continue
        assert step_id in changes, step_id
        assert "pressure" in changes[step_id] and "max_seconds" in changes[step_id], step_id
        if step["mode"] == "still":
            assert changes[step_id].get("rolling_only") is True, step_id


def test_each_condition_has_a_safety_topic() -> None:
    topics = _load(TOPICS_DIR / "safety.yaml")
    ids = {topic["id"] for topic in topics["topics"]}
    missing = {c: t for c, t in TOPIC_FOR.items() if t not in ids}
    assert not missing
    assert set(TOPIC_FOR) == set(CONDITION_IDS)


def test_a_mention_names_one_condition() -> None:
    owners: dict[str, str] = {}
    for condition in HEALTH["conditions"]:
        for mention in condition["mentions"]:
            assert owners.setdefault(mention, condition["id"]) == condition["id"], mention


CLOSING = "You can tell me about this in /health and I'll adjust your routine."


@pytest.mark.parametrize("topic_id", sorted(set(TOPIC_FOR.values())))
def test_a_condition_topic_ends_by_pointing_to_the_health_screen(topic_id: str) -> None:
    topics = {t["id"]: t for t in _load(TOPICS_DIR / "safety.yaml")["topics"]}
    assert topics[topic_id]["body"].strip().endswith(CLOSING)
