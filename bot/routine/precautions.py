"""Precautions: which programme steps a health condition leaves out or changes, and why.

The rules live in `content/health.yaml`, written and sourced by a physiotherapist. This module
only reads them (typed models: an error names the file, the entry and the field) and applies them
to the steps of a plan. It is pure: the profile comes in as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import Id, Model, Text, convert, read_yaml_mapping

from backchain.text import normalize

SIDES = ("left", "right", "both")
Side = Literal["left", "right", "both"]
Url = Annotated[str, msgspec.Meta(pattern=r"^https://\S+$")]
SafetyTopic = Annotated[str, msgspec.Meta(pattern=r"^safety-[a-z0-9-]+$")]
Label = Annotated[str, msgspec.Meta(min_length=3, max_length=64)]


class Source(Model, frozen=True):
    id: Id
    publisher: Text
    title: Text
    url: Url


class Exclusion(Model, frozen=True):
    step: Id
    why: Text


class StepChange(Model, frozen=True):
    """A step kept but changed; each text given replaces the programme's own."""

    step: Id
    note: Text  # one line shown on the step: what changed
    position: str | None = None
    technique: str | None = None
    pressure: str | None = None
    max_seconds: Annotated[int, msgspec.Meta(ge=10, le=120)] | None = None
    rolling_only: bool = False  # a still hold becomes slow, light rolling
    other_side_only: bool = False  # sided conditions: only the side that was not operated


class Condition(Model, frozen=True):
    id: Id
    topic: SafetyTopic  # the safety topic that answers questions about it
    label: Label
    because: Text
    summary: Text
    mentions: Annotated[tuple[Text, ...], msgspec.Meta(min_length=1)]
    sources: Annotated[tuple[Id, ...], msgspec.Meta(min_length=1)]
    doctor_first: bool = False
    sided: bool = False
    exclude: tuple[Exclusion, ...] = ()
    change: tuple[StepChange, ...] = ()

    @property
    def changes(self) -> dict[str, StepChange]:
        return {change.step: change for change in self.change}

    @property
    def excluded(self) -> dict[str, str]:
        return {rule.step: rule.why for rule in self.exclude}


class _HealthFile(Model, frozen=True):
    sources: Annotated[tuple[Source, ...], msgspec.Meta(min_length=1)]
    conditions: Annotated[tuple[Condition, ...], msgspec.Meta(min_length=1)]


@dataclass(frozen=True)
class Precautions:
    """Every condition of the health screen, in checklist order, with its rules and sources."""

    conditions: dict[str, Condition]
    sources: dict[str, Source]

    def ordered(self) -> list[Condition]:
        return list(self.conditions.values())

    @cached_property
    def mention_words(self) -> tuple[tuple[Condition, tuple[tuple[str, ...], ...]], ...]:
        """Each condition with its `mentions` as normalised words, made once for every message
        that is checked against them."""
        return tuple(
            (c, tuple(words for m in c.mentions if (words := tuple(normalize(m).split()))))
            for c in self.ordered()
        )


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
    data = convert(read_yaml_mapping(path), _HealthFile, file)
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
        repeated = sorted({step for step in named if named.count(step) > 1})
        if repeated:
            raise ContentError(
                file,
                f"step(s) {', '.join(repeated)} left out and changed, or twice",
                condition.id,
                "change",
            )
        if not condition.sided and any(c.other_side_only for c in condition.change):
            raise ContentError(file, "other_side_only needs `sided: true`", condition.id, "change")
        conditions[condition.id] = condition
    return Precautions(conditions, sources)
