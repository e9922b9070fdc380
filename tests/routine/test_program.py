"""Loading content/program.yaml: the real file, and one broken copy per validation rule."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from backchain.bot.errors import ContentError
from backchain.bot.routine.plan import scaled_seconds
from backchain.bot.routine.program import SECONDS_PER_SIDE, STILL_MAX_SECONDS, load_program
from backchain.bot.understanding.topics import load_topics

from tests.support.content_fixtures import KIT_CONTENTS, PROGRAM_FILE, TOPICS_DIR, small_topics


@pytest.fixture(scope="module")
def raw_program() -> dict[str, Any]:
    return yaml.safe_load(PROGRAM_FILE.read_text(encoding="utf-8"))


def test_real_program_loads_with_three_phases_in_order() -> None:
    program = load_program(PROGRAM_FILE, small_topics())
    assert [phase.id for phase in program.phases] == ["release", "restore", "maintain"]
    assert program.phases[-1].open_ended
    assert program.next_phase("maintain") is None
    assert all(phase.min_sessions for phase in program.phases[:-1])


def test_program_runs_longer_than_four_weeks_before_maintenance() -> None:
    program = load_program(PROGRAM_FILE, small_topics())
    assert program.phases[-1].first_week > 5


def test_first_phase_is_gentle_and_every_other_day() -> None:
    program = load_program(PROGRAM_FILE, small_topics())
    release = program.first_phase
    assert release.min_days_between == 2
    assert release.sessions_per_week == 3
    for step_id in release.steps:
        step = program.steps[step_id]
        per_area = scaled_seconds(step, release, 1.0) * (2 if step.sides == "left-right" else 1)
        # Evidence: first sessions of one to two minutes per area.
        assert 60 <= per_area <= 120, step_id


def test_every_step_dose_is_within_the_evidence() -> None:
    program = load_program(PROGRAM_FILE, small_topics())
    for step in program.steps.values():
        assert SECONDS_PER_SIDE[0] <= step.seconds <= SECONDS_PER_SIDE[1]
        if step.mode == "still":
            assert step.seconds <= STILL_MAX_SECONDS
        assert "sharp" in step.pressure


def test_program_cites_its_sources() -> None:
    program = load_program(PROGRAM_FILE, small_topics())
    years = {source.year for source in program.sources}
    assert len(program.sources) >= 5
    assert {2015, 2019, 2020} <= years


def test_kits_know_their_tools() -> None:
    program = load_program(PROGRAM_FILE, small_topics())
    assert program.kit_contents == KIT_CONTENTS
    assert program.tool_names["tp-massage-ball"] == "TP Massage Ball"


def _step(raw: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for step in raw["steps"] if step["id"] == step_id)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets raw[path...] = value; a str first key names a step id."""

    def mutate(raw: dict[str, Any]) -> None:
        first, *rest = path
        target: Any = _step(raw, first) if first not in raw else raw[first]
        for key in rest[:-1]:
            target = target[key]
        target[rest[-1]] = value

    return mutate


def _duplicate_step(raw: dict[str, Any]) -> None:
    raw["steps"][1]["id"] = raw["steps"][0]["id"]


def _drop_sources(raw: dict[str, Any]) -> None:
    del raw["sources"]


def _add_kit(kit: str) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        raw["kits"][kit] = ["footballer"]

    return mutate


def _drop_tool_name(raw: dict[str, Any]) -> None:
    del raw["tool_names"]["quadballer"]


BROKEN = [
    (
        "unknown tool",
        _set(("soleus-footballer", "tool"), "foam-roller"),
        "soleus-footballer",
        "tool",
    ),
    ("tool not a kit", _set(("soleus-footballer", "tool"), "soleus"), "soleus-footballer", "tool"),
    ("unknown target", _set(("shin-tp-ball", "target"), "elbow"), "shin-tp-ball", "target"),
    (
        "unknown alternative",
        _set(("quads-quadballer", "alternative"), "stick"),
        "quads-quadballer",
        "alternative",
    ),
    ("too long", _set(("soleus-footballer", "seconds"), 150), "soleus-footballer", "seconds"),
    ("too short", _set(("soleus-footballer", "seconds"), 5), "soleus-footballer", "seconds"),
    ("still hold too long", _set(("psoas-tp-ball", "seconds"), 100), "psoas-tp-ball", "seconds"),
    ("bad sides", _set(("pecs-tp-ball", "sides"), "one"), "pecs-tp-ball", "sides"),
    ("bad focus", _set(("pecs-tp-ball", "focus"), ["neck"]), "pecs-tp-ball", "focus"),
    ("duplicate step id", _duplicate_step, "soleus-footballer", "id"),
    ("phase names unknown step", _set(("phases", 0, "steps"), ["nope"]), "release", "steps"),
    ("min_sessions zero", _set(("phases", 0, "min_sessions"), 0), "release", "min_sessions"),
    ("phase unreachable", _set(("phases", 0, "min_sessions"), 20), "release", "min_sessions"),
    ("gap between phases", _set(("phases", 1, "first_week"), 4), "restore", "first_week"),
    ("middle phase open-ended", _set(("phases", 1, "last_week"), None), "restore", "last_week"),
    ("last phase ends", _set(("phases", 2, "last_week"), 9), "maintain", "last_week"),
    ("last phase has a bar", _set(("phases", 2, "min_sessions"), 5), "maintain", "min_sessions"),
    ("phase dose too high", _set(("phases", 0, "dose"), 3), "release", "dose"),
    ("floor above start", _set(("progression", "min_dose"), 1.2), "progression", "min_dose"),
    ("unknown placeholder", _set(("texts", "left_out"), "{step}"), "texts", "left_out"),
    ("no sources", _drop_sources, None, "sources"),
    (
        "kit holds an unknown tool",
        _set(("kits", "hip-lower-back-kit"), ["stick"]),
        "hip-lower-back-kit",
        "kits",
    ),
    (
        "kit holds a kit",
        _set(("kits", "hip-lower-back-kit"), ["foot-lower-leg-kit"]),
        "hip-lower-back-kit",
        "kits",
    ),
    ("kit is not a kit topic", _add_kit("soleus"), "soleus", "kits"),
    ("tool without a short name", _drop_tool_name, "tool_names", "quadballer"),
]


@pytest.mark.parametrize(
    ("mutate", "entry", "field"),
    [pytest.param(m, e, f, id=name) for name, m, e, f in BROKEN],
)
def test_broken_program_names_file_entry_and_field(
    tmp_path: Path,
    raw_program: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
    entry: str | None,
    field: str,
) -> None:
    raw = copy.deepcopy(raw_program)
    mutate(raw)
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_program(path, small_topics())
    assert (caught.value.file, caught.value.entry, caught.value.field) == (str(path), entry, field)


def test_missing_program_file_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="missing"):
        load_program(tmp_path / "program.yaml", small_topics())


def test_real_program_matches_the_real_topics() -> None:
    topics = load_topics(TOPICS_DIR)
    program = load_program(PROGRAM_FILE, topics)
    for step in program.steps.values():
        assert topics[step.target].group == "anatomy", step.id
    assert set(program.kit_contents) == {"hip-lower-back-kit", "foot-lower-leg-kit"}
