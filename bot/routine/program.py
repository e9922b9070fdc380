"""The periodized program: loading and validating `content/program.yaml`."""

from __future__ import annotations

import string
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.understanding.topics import Topic
from backchain.bot.yamlfile import Id, Model, OpenModel, Text, decode

FocusArea = Literal["hip", "lower-back", "knee", "sciatica", "general"]
FOCUS_AREAS: tuple[str, ...] = typing.get_args(FocusArea)
Sides = Literal["both", "left-right"]
SIDES: tuple[str, ...] = typing.get_args(Sides)
Mode = Literal["rolling", "still"]
MODES: tuple[str, ...] = typing.get_args(Mode)
SECONDS_PER_SIDE = (10, 120)
STILL_MAX_SECONDS = 90  # longer still compression on one spot brings no extra benefit
PHASE_DOSE = (0.25, 1.5)
# Each text must be present and may only use these placeholders.
TEXT_FIELDS: dict[str, frozenset[str]] = {
    "left_out": frozenset({"steps", "tools"}),
    "substituted": frozenset({"tool", "alternative"}),
    "health_because": frozenset({"because", "summary"}),
    "chart_title": frozenset(),
    "chart_before": frozenset(),
    "chart_after": frozenset(),
    "chart_axis": frozenset(),
}


def _between(low: float, high: float) -> msgspec.Meta:
    return msgspec.Meta(ge=low, le=high)


Seconds = Annotated[int, _between(*SECONDS_PER_SIDE)]
Dose = Annotated[float, _between(*PHASE_DOSE)]
Week = Annotated[int, msgspec.Meta(ge=1)]
PerWeek = Annotated[int, _between(1, 7)]


class Source(Model, frozen=True):
    title: Text
    authors: Text
    year: Annotated[int, _between(1900, 2100)]
    published: Text
    supports: Text


class StepTemplate(Model, frozen=True):
    id: Id
    title: Text
    tool: Id
    target: Id
    position: Text
    technique: Text
    pressure: Text
    sides: Sides
    mode: Mode
    seconds: Seconds
    focus: Annotated[tuple[FocusArea, ...], msgspec.Meta(min_length=1)]
    alternative: Id | None = None
    alternative_technique: Text | None = None
    alternative_position: Text | None = None
    # tool id -> the position used when that tool is owned too
    position_with: dict[Id, Text] = {}
    foundation: bool = False


class Phase(Model, frozen=True):
    id: Id
    title: Text
    description: Text
    first_week: Week
    sessions_per_week: PerWeek
    min_days_between: PerWeek
    dose: Dose
    steps: Annotated[tuple[Id, ...], msgspec.Meta(min_length=1)]
    last_week: Week | None = None
    min_sessions: int | None = None

    @property
    def open_ended(self) -> bool:
        return self.last_week is None


class Progression(Model, frozen=True):
    start_dose: float
    max_dose: float
    min_dose: float
    lower_factor: Annotated[float, msgspec.Meta(gt=0, lt=1)]
    recover_step: Annotated[float, msgspec.Meta(gt=0, le=0.5)]
    pain_rise: Annotated[int, _between(1, 10)]
    trend_window: Annotated[int, _between(2, 30)]


class _Texts(Model, frozen=True):
    left_out: Text
    substituted: Text
    health_because: Text
    chart_title: Text
    chart_before: Text
    chart_after: Text
    chart_axis: Text


KitTools = Annotated[list[Id], msgspec.Meta(min_length=1)]


class _ProgramFile(OpenModel, frozen=True):
    """The program's own sections; others in the same file (outcomes, phase intros, gentler
    ways, guards) belong to the session care loader, which reads them itself."""

    title: Text
    steps: Annotated[list[StepTemplate], msgspec.Meta(min_length=1)]
    phases: Annotated[list[Phase], msgspec.Meta(min_length=1)]
    progression: Progression
    texts: _Texts
    sources: Annotated[tuple[Source, ...], msgspec.Meta(min_length=1)]
    tool_names: dict[Id, Text]
    kits: Annotated[dict[Id, KitTools], msgspec.Meta(min_length=1)]
    # A YAML anchor (&pressure) the steps' pressure texts share; not read on its own.
    pressure_rule: Text | None = None


@dataclass(frozen=True)
class Program:
    title: str
    phases: tuple[Phase, ...]
    steps: dict[str, StepTemplate]
    progression: Progression
    texts: dict[str, str]
    sources: tuple[Source, ...]
    tool_names: dict[str, str]
    kit_contents: dict[str, tuple[str, ...]]

    @property
    def first_phase(self) -> Phase:
        return self.phases[0]

    def phase(self, phase_id: str) -> Phase:
        """The phase with this id; KeyError when the program has none."""
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    def phase_index(self, phase_id: str) -> int:
        return self.phases.index(self.phase(phase_id))

    def next_phase(self, phase_id: str) -> Phase | None:
        index = self.phase_index(phase_id)
        return self.phases[index + 1] if index + 1 < len(self.phases) else None


def load_program(path: Path, topics: dict[str, Topic]) -> Program:
    """The program in `path`, validated against the loaded topics."""
    data, _ = decode(path, _ProgramFile)
    checks = _Checks(str(path), topics)
    steps = checks.steps(data.steps)
    checks.phases(data.phases, steps)
    checks.progression(data.progression)
    checks.texts(data.texts)
    checks.tool_names(data.tool_names, steps)
    checks.kits(data.kits)
    return Program(
        title=data.title,
        phases=tuple(data.phases),
        steps=steps,
        progression=data.progression,
        texts={key: getattr(data.texts, key) for key in TEXT_FIELDS},
        sources=data.sources,
        tool_names=dict(data.tool_names),
        kit_contents={kit: tuple(tools) for kit, tools in data.kits.items()},
    )


class _Checks:
    """What no field type can say: references to topics and steps, rules across fields."""

    def __init__(self, file: str, topics: dict[str, Topic]):
        self.file = file
        self.topics = topics

    def fail(self, message: str, entry: str | None, field: str) -> ContentError:
        return ContentError(self.file, message, entry, field)

    def tool(self, tool: str, entry: str, field: str) -> None:
        if tool not in self.topics:
            raise self.fail(f"names unknown topic '{tool}'", entry, field)
        if self.topics[tool].group != "kits":
            raise self.fail(f"'{tool}' is not a kit or tool topic", entry, field)

    def steps(self, templates: list[StepTemplate]) -> dict[str, StepTemplate]:
        steps: dict[str, StepTemplate] = {}
        for step in templates:
            if step.id in steps:
                raise self.fail("duplicate step id", step.id, "id")
            self.tool(step.tool, step.id, "tool")
            if step.alternative is not None:
                if step.alternative == step.tool:
                    raise self.fail("must be another tool id or null", step.id, "alternative")
                self.tool(step.alternative, step.id, "alternative")
            if step.target not in self.topics:
                raise self.fail(f"names unknown topic '{step.target}'", step.id, "target")
            for tool in step.position_with:
                self.tool(tool, step.id, "position_with")
            if step.mode == "still" and step.seconds > STILL_MAX_SECONDS:
                message = f"a still hold must not exceed {STILL_MAX_SECONDS} seconds"
                raise self.fail(message, step.id, "seconds")
            steps[step.id] = step
        return steps

    def phases(self, phases: list[Phase], steps: dict[str, StepTemplate]) -> None:
        """Known steps, and every phase reachable: contiguous weeks, a finite bar, one open end."""
        seen: set[str] = set()
        for phase in phases:
            if phase.id in seen:
                raise self.fail("duplicate phase id", phase.id, "id")
            seen.add(phase.id)
            for step_id in phase.steps:
                if step_id not in steps:
                    raise self.fail(f"names unknown step '{step_id}'", phase.id, "steps")
            if len(set(phase.steps)) != len(phase.steps):
                raise self.fail("lists a step twice", phase.id, "steps")
        expected_week = 1
        for position, phase in enumerate(phases):
            if phase.first_week != expected_week:
                message = f"must be {expected_week} to follow the previous phase"
                raise self.fail(message, phase.id, "first_week")
            if position == len(phases) - 1:
                if phase.last_week is not None or phase.min_sessions is not None:
                    field = "last_week" if phase.last_week is not None else "min_sessions"
                    message = "the last phase must be open-ended (no last_week, no min_sessions)"
                    raise self.fail(message, phase.id, field)
                continue
            if phase.last_week is None or phase.last_week < phase.first_week:
                message = "must be a week on or after first_week; only the last phase is open-ended"
                raise self.fail(message, phase.id, "last_week")
            if phase.min_sessions is None or phase.min_sessions <= 0:
                message = "must be more than 0 so the next phase can be reached"
                raise self.fail(message, phase.id, "min_sessions")
            planned = phase.sessions_per_week * (phase.last_week - phase.first_week + 1)
            if phase.min_sessions > planned:
                message = f"needs {phase.min_sessions} sessions but its weeks plan only {planned}"
                raise self.fail(message, phase.id, "min_sessions")
            expected_week = phase.last_week + 1

    def progression(self, p: Progression) -> None:
        if not 0 < p.min_dose <= p.start_dose <= p.max_dose <= 1.5:
            message = "needs 0 < min_dose <= start_dose <= max_dose <= 1.5"
            raise self.fail(message, "progression", "min_dose")

    def texts(self, texts: _Texts) -> None:
        for key, allowed in TEXT_FIELDS.items():
            text = getattr(texts, key)
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            if names - allowed:
                message = f"uses unknown placeholders {sorted(names - allowed)}"
                raise self.fail(message, "texts", key)

    def tool_names(self, names: dict[str, str], steps: dict[str, StepTemplate]) -> None:
        for tool in names:
            self.tool(tool, tool, "tool_names")
        for step in steps.values():
            for used in (step.tool, step.alternative):
                if used is not None and used not in names:
                    raise self.fail(f"needs a short name for '{used}'", "tool_names", used)

    def kits(self, kits: dict[str, list[str]]) -> None:
        for kit, tools in kits.items():
            self.tool(kit, kit, "kits")
            for tool in tools:
                if tool in kits:
                    raise self.fail(f"'{tool}' must be a tool id", kit, "kits")
                self.tool(tool, kit, "kits")
