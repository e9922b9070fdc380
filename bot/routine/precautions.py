"""Precautions: which programme steps a health condition leaves out or changes, and why.

The rules live in `content/health.yaml`, written and sourced by a physiotherapist. This module
only reads them (typed models: an error names the file, the entry and the field) and applies them
to the steps of a plan. It is pure: the profile comes in as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import read_yaml_mapping
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SIDES = ("left", "right", "both")
Side = Literal["left", "right", "both"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Model):
    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    publisher: str = Field(min_length=2)
    title: str = Field(min_length=3)
    url: str = Field(pattern=r"^https://\S+$")


class Exclusion(_Model):
    step: str
    why: str = Field(min_length=3)


class StepChange(_Model):
    """A step kept but changed; each text given replaces the programme's own."""

    step: str
    note: str = Field(min_length=3)  # one line shown on the step: what changed
    position: str | None = None
    technique: str | None = None
    pressure: str | None = None
    max_seconds: int | None = Field(default=None, ge=10, le=120)
    rolling_only: bool = False  # a still hold becomes slow, light rolling
    other_side_only: bool = False  # sided conditions: only the side that was not operated


class Condition(_Model):
    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    topic: str = Field(pattern=r"^safety-[a-z0-9-]+$")  # the safety topic that answers it
    label: str = Field(min_length=3, max_length=64)
    because: str = Field(min_length=3)
    summary: str = Field(min_length=3)
    doctor_first: bool = False
    sided: bool = False
    mentions: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    exclude: tuple[Exclusion, ...] = ()
    change: tuple[StepChange, ...] = ()

    @model_validator(mode="after")
    def _one_rule_per_step(self) -> Condition:
        steps = [rule.step for rule in self.exclude] + [change.step for change in self.change]
        repeated = sorted({step for step in steps if steps.count(step) > 1})
        if repeated:
            raise ValueError(f"step(s) {', '.join(repeated)} both left out and changed, or twice")
        if not self.sided and any(change.other_side_only for change in self.change):
            raise ValueError("other_side_only needs `sided: true`")
        return self

    @property
    def changes(self) -> dict[str, StepChange]:
        return {change.step: change for change in self.change}

    @property
    def excluded(self) -> dict[str, str]:
        return {rule.step: rule.why for rule in self.exclude}


class _HealthFile(_Model):
    sources: tuple[Source, ...] = Field(min_length=1)
    conditions: tuple[Condition, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Precautions:
    """Every condition of the health screen, in checklist order, with its rules and sources."""

    conditions: dict[str, Condition]
    sources: dict[str, Source]

    def ordered(self) -> list[Condition]:
        return list(self.conditions.values())


@dataclass(frozen=True)
class HealthProfile:
    """What a person told the health screen: condition ids, and the side of sided ones."""

    conditions: frozenset[str] = frozenset()
    sides: Mapping[str, str] = field(default_factory=dict)
    doctor_ok: bool = False  # a doctor (or parent) agreed to the routine for doctor-first ones

    def side_of(self, condition: str) -> str:
        return self.sides.get(condition, "both")


@dataclass(frozen=True)
class StepVerdict:
    """What the profile does to one step: left out (with why), or changed, or nothing."""

    excluded_because: tuple[str, ...] = ()
    changes: tuple[StepChange, ...] = ()
    only_side: str | None = None  # "left" or "right" when one side must be spared

    @property
    def excluded(self) -> bool:
        return bool(self.excluded_because)


def verdict(
    precautions: Precautions, profile: HealthProfile, step_id: str, sides: str
) -> StepVerdict:
    """Apply every condition of `profile` to one step. The strictest rule wins: any exclusion."""
    excluded: list[str] = []
    changes: list[StepChange] = []
    spared: set[str] = set()
    for condition in active(precautions, profile):
        why = condition.excluded.get(step_id)
        if why is not None:
            excluded.append(why)
            continue
        change = condition.changes.get(step_id)
        if change is None:
            continue
        if change.other_side_only:
            side = profile.side_of(condition.id)
            if side == "both" or sides != "left-right":
                excluded.append(change.note)
                continue
            spared.add(side)
        changes.append(change)
    only_side = None
    if spared:
        remaining = {"left", "right"} - spared
        if not remaining:
            excluded.append("both sides need sparing")
        else:
            only_side = remaining.pop()
    return StepVerdict(tuple(excluded), tuple(changes), only_side)


def active(precautions: Precautions, profile: HealthProfile) -> list[Condition]:
    """The profile's conditions that the content knows, in checklist order."""
    return [c for c in precautions.ordered() if c.id in profile.conditions]


def doctor_first(precautions: Precautions, profile: HealthProfile) -> list[Condition]:
    """Conditions that need a doctor's (or parent's) yes before any routine."""
    return [c for c in active(precautions, profile) if c.doctor_first]


def intro_lines(precautions: Precautions, profile: HealthProfile, because: str) -> list[str]:
    """One line per condition that changes the plan: "Because you're pregnant: ..."."""
    return [
        because.format(because=c.because, summary=c.summary)
        for c in active(precautions, profile)
        if c.exclude or c.change
    ]


def load_precautions(path: Path, step_ids: Iterable[str]) -> Precautions:
    """Read `health.yaml`, check every step and source it names, or raise ContentError."""
    file = str(path)
    raw = read_yaml_mapping(path)
    try:
        data = _HealthFile.model_validate(raw)
    except ValidationError as exc:
        raise _content_error(file, raw, exc) from exc
    sources = {source.id: source for source in data.sources}
    known_steps = set(step_ids)
    conditions: dict[str, Condition] = {}
    for condition in data.conditions:
        if condition.id in conditions:
            raise ContentError(file, "appears twice", condition.id, "id")
        for source in condition.sources:
            if source not in sources:
                raise ContentError(file, f"unknown source '{source}'", condition.id, "sources")
        named = [rule.step for rule in condition.exclude] + [c.step for c in condition.change]
        for step in named:
            if step not in known_steps:
                raise ContentError(file, f"unknown programme step '{step}'", condition.id, "step")
        conditions[condition.id] = condition
    return Precautions(conditions, sources)


def _content_error(file: str, raw: dict[str, object], exc: ValidationError) -> ContentError:
    """The first validation problem, named by file, entry (condition id) and field."""
    problem = exc.errors()[0]
    location = [str(part) for part in problem["loc"]]
    entry = None
    if len(location) >= 2 and location[0] in ("conditions", "sources"):
        items = raw.get(location[0])
        index = int(location[1]) if location[1].isdigit() else -1
        if isinstance(items, list) and 0 <= index < len(items) and isinstance(items[index], dict):
            entry = str(items[index].get("id", f"#{index + 1}"))
        location = location[2:]
    field_name = ".".join(location) or None
    return ContentError(file, problem["msg"], entry, field_name)
