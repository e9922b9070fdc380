"""The plan obeys the health screen: every condition and every pair of them, against every phase
and every tool set, never plans an excluded step and always shows a changed step's text."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from backchain.bot.content import Content
from backchain.bot.errors import ContentError
from backchain.bot.routine.plan import plan_session
from backchain.bot.routine.precautions import HealthProfile, Precautions, load_precautions

ROOT = Path(__file__).resolve().parents[2]


def tool_sets(content: Content) -> list[frozenset[str]]:
    """Every combination of kits and single tools a person can own (the empty set excluded)."""
    choices = list(content.program.kit_contents) + sorted(content.program.tool_names)
    sets = {
        frozenset(combo)
        for size in range(1, len(choices) + 1)
        for combo in itertools.combinations(choices, size)
    }
    return sorted(sets, key=sorted)


def profiles(precautions: Precautions) -> list[HealthProfile]:
    """Every condition alone and every pair; sided ones on the left (pairs) or each side (alone)."""
    ids = list(precautions.conditions)
    out: list[HealthProfile] = []
    for condition in ids:
        if precautions.conditions[condition].sided:
            for side in ("left", "right", "both"):
                out.append(HealthProfile(frozenset({condition}), {condition: side}))
        else:
            out.append(HealthProfile(frozenset({condition})))
    for a, b in itertools.combinations(ids, 2):
        sides = {c: "left" for c in (a, b) if precautions.conditions[c].sided}
        out.append(HealthProfile(frozenset({a, b}), sides))
    return out


def test_every_condition_and_pair_against_every_phase_and_tool_set(content: Content) -> None:
    precautions = content.precautions
    program = content.program
    checked = 0
    for profile in profiles(precautions):
        conditions = [precautions.conditions[c] for c in sorted(profile.conditions)]
        excluded = {rule.step for c in conditions for rule in c.exclude}
        for phase in program.phases:
            for tools in tool_sets(content):
                plan = plan_session(
                    program, phase.id, set(tools), "general", 1.0, profile, precautions
                )
                planned = {step.step_id: step for step in plan.steps}
                assert not excluded & set(planned), (profile, phase.id, tools)
                for condition in conditions:
                    for change in condition.change:
                        step = planned.get(change.step)
                        if step is None:
                            continue
                        assert step.caution and change.note in step.caution
                        _check_texts(precautions, conditions, change.step, step)
                        if change.max_seconds is not None:
                            assert step.seconds <= change.max_seconds
                        if change.rolling_only:
                            assert step.mode == "rolling"
                        if change.other_side_only:
                            side = profile.side_of(condition.id)
                            assert step.sides in ("left", "right") and step.sides != side
                checked += 1
                lines = " ".join(plan.health_notes)
                for condition in conditions:
                    if condition.exclude or condition.change:
                        assert condition.summary in lines
    assert checked > 1000


def _check_texts(precautions: Precautions, conditions: list, step_id: str, step: object) -> None:
    """Checklist order decides: the first condition that moves the person gives position and
    technique together; otherwise the first technique; the first pressure."""
    ordered = [c for c in precautions.ordered() if c in conditions]
    changes = [c.changes[step_id] for c in ordered if step_id in c.changes]
    template_step = step  # the planned step
    moved = [c for c in changes if c.position]
    if moved:
        assert template_step.position == moved[0].position
        if moved[0].technique:
            assert template_step.technique == moved[0].technique
    elif any(c.technique for c in changes):
        assert template_step.technique == next(c.technique for c in changes if c.technique)
    if any(c.pressure for c in changes):
        assert template_step.pressure == next(c.pressure for c in changes if c.pressure)


def test_no_health_profile_means_the_plan_is_unchanged(content: Content) -> None:
    program = content.program
    tools = set(program.tool_names)
    for phase in program.phases:
        bare = plan_session(program, phase.id, tools, "hip", 1.0)
        none = plan_session(
            program, phase.id, tools, "hip", 1.0, HealthProfile(), content.precautions
        )
        assert bare == none


def test_a_sided_condition_on_both_sides_leaves_the_step_out(content: Content) -> None:
    precautions = content.precautions
    for condition in precautions.ordered():
        spared = [c.step for c in condition.change if c.other_side_only]
        if not spared:
            continue
        profile = HealthProfile(frozenset({condition.id}), {condition.id: "both"})
        plan = plan_session(
            content.program,
            "restore",
            set(content.program.tool_names),
            "hip",
            1.0,
            profile,
            precautions,
        )
        assert not set(spared) & {step.step_id for step in plan.steps}
        assert set(spared) <= {step.step_id for step in plan.left_out}


def test_step_texts_name_only_the_tools_the_person_uses(content: Content) -> None:
    """No "Set the Footballer on the Baller Block" for someone with a TP Massage Ball only."""
    program = content.program
    names = program.tool_names
    for phase in program.phases:
        for tools in tool_sets(content):
            plan = plan_session(program, phase.id, set(tools), "general", 1.0)
            owned = set(tools)
            for kit in tools:
                owned |= set(program.kit_contents.get(kit, ()))
            for step in plan.steps:
                text = f"{step.position} {step.technique}".lower()
                for tool, name in names.items():
                    if name.lower() in text:
                        assert tool in owned, (phase.id, sorted(tools), step.step_id, name)
                assert "two tp massage balls" not in text and "the balls" not in text


def test_health_content_checks_steps_and_sources(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "content" / "health.yaml").read_text(encoding="utf-8"))
    steps = ["soleus-footballer", "psoas-tp-ball", "piriformis-tp-ball", "quads-quadballer"]
    first = raw["conditions"][0]
    bad_step = {**first, "exclude": [{"step": "no-such-step", "why": "x" * 5}], "change": []}
    path = tmp_path / "health.yaml"
    path.write_text(yaml.safe_dump({**raw, "conditions": [bad_step]}), encoding="utf-8")
    with pytest.raises(ContentError, match="unknown programme step 'no-such-step'"):
        load_precautions(path, steps)
    bad_source = {**first, "sources": ["nowhere"], "exclude": [], "change": []}
    path.write_text(yaml.safe_dump({**raw, "conditions": [bad_source]}), encoding="utf-8")
    with pytest.raises(ContentError, match="unknown source 'nowhere'"):
        load_precautions(path, steps)
    no_text = {**first, "summary": None}
    path.write_text(yaml.safe_dump({**raw, "conditions": [no_text]}), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_precautions(path, steps)
    assert caught.value.entry == first["id"] and caught.value.field == "summary"
    no_note = {**first, "exclude": [], "change": [{"step": "psoas-tp-ball"}]}
    path.write_text(yaml.safe_dump({**raw, "conditions": [no_note]}), encoding="utf-8")
    with pytest.raises(ContentError, match="note"):
        load_precautions(path, steps)
