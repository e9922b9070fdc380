"""The periodized program: loading and validating `content/program.yaml`."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchain.bot.errors import ContentError
from backchain.bot.understanding.topics import TOPIC_ID, Topic
from backchain.bot.yamlfile import optional_str_list, read_yaml_mapping, require_str

FOCUS_AREAS = ("hip", "lower-back", "knee", "sciatica", "general")
SIDES = ("both", "left-right")
MODES = ("rolling", "still")
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


@dataclass(frozen=True)
class Source:
    title: str
    authors: str
    year: int
    published: str
    supports: str


@dataclass(frozen=True)
class StepTemplate:
    id: str
    title: str
    tool: str
    alternative: str | None
    alternative_technique: str | None
    alternative_position: str | None
    target: str
    position_with: dict[str, str]  # tool id -> the position used when that tool is owned too
    position: str
    technique: str
    pressure: str
    sides: str
    mode: str
    seconds: int
    focus: tuple[str, ...]
    foundation: bool


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    description: str
    first_week: int
    last_week: int | None
    sessions_per_week: int
    min_sessions: int | None
    min_days_between: int
    dose: float
    steps: tuple[str, ...]

    @property
    def open_ended(self) -> bool:
        return self.last_week is None


@dataclass(frozen=True)
class Progression:
    start_dose: float
    max_dose: float
    min_dose: float
    lower_factor: float
    recover_step: float
    pain_rise: int
    trend_window: int


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


def _require_int(raw: dict[str, Any], key: str, file: str, entry: str | None) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ContentError(file, "must be a whole number", entry, key)
    return value


def _require_number(raw: dict[str, Any], key: str, file: str, entry: str | None) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContentError(file, "must be a number", entry, key)
    return float(value)


def _require_choice(
    raw: dict[str, Any], key: str, choices: tuple[str, ...], file: str, entry: str
) -> str:
    value = raw.get(key)
    if value not in choices:
        raise ContentError(file, f"must be one of {', '.join(choices)}", entry, key)
    return str(value)


def _optional_text(raw: dict[str, Any], key: str, file: str, entry: str) -> str | None:
    if raw.get(key) is None:
        return None
    return require_str(raw, key, file, entry)


def _entry_id(raw: Any, file: str, kind: str, index: int) -> str:
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", f"{kind} #{index + 1}")
    value = raw.get("id")
    if not isinstance(value, str) or not TOPIC_ID.match(value):
        raise ContentError(
            file, "must be lower-case words joined by '-'", f"{kind} #{index + 1}", "id"
        )
    return value


def _check_tool(tool: str, topics: dict[str, Topic], file: str, entry: str, key: str) -> None:
    if tool not in topics:
        raise ContentError(file, f"names unknown topic '{tool}'", entry, key)
    if topics[tool].group != "kits":
        raise ContentError(file, f"'{tool}' is not a kit or tool topic", entry, key)


def _check_seconds(seconds: int, mode: str, file: str, entry: str) -> None:
    low, high = SECONDS_PER_SIDE
    if not low <= seconds <= high:
        raise ContentError(
            file, f"must be between {low} and {high} seconds per side", entry, "seconds"
        )
    if mode == "still" and seconds > STILL_MAX_SECONDS:
        raise ContentError(
            file, f"a still hold must not exceed {STILL_MAX_SECONDS} seconds", entry, "seconds"
        )


def _parse_step(raw: Any, topics: dict[str, Topic], file: str, index: int) -> StepTemplate:
    step_id = _entry_id(raw, file, "step", index)
    tool = require_str(raw, "tool", file, step_id)
    _check_tool(tool, topics, file, step_id, "tool")
    alternative = raw.get("alternative")
    if alternative is not None:
        if not isinstance(alternative, str) or alternative == tool:
            raise ContentError(file, "must be another tool id or null", step_id, "alternative")
        _check_tool(alternative, topics, file, step_id, "alternative")
    target = require_str(raw, "target", file, step_id)
    if target not in topics:
        raise ContentError(file, f"names unknown topic '{target}'", step_id, "target")
    mode = _require_choice(raw, "mode", MODES, file, step_id)
    seconds = _require_int(raw, "seconds", file, step_id)
    _check_seconds(seconds, mode, file, step_id)
    if not isinstance(raw.get("foundation", False), bool):
        raise ContentError(file, "must be true or false", step_id, "foundation")
    focus = optional_str_list(raw, "focus", file, step_id)
    unknown = [area for area in focus if area not in FOCUS_AREAS]
    if not focus or unknown:
        raise ContentError(
            file, f"must list focus areas from {', '.join(FOCUS_AREAS)}", step_id, "focus"
        )
    return StepTemplate(
        id=step_id,
        title=require_str(raw, "title", file, step_id),
        tool=tool,
        alternative=alternative,
        alternative_technique=_optional_text(raw, "alternative_technique", file, step_id),
        alternative_position=_optional_text(raw, "alternative_position", file, step_id),
        position_with=_position_with(raw, topics, file, step_id),
        target=target,
        position=require_str(raw, "position", file, step_id),
        technique=require_str(raw, "technique", file, step_id),
        pressure=require_str(raw, "pressure", file, step_id),
        sides=_require_choice(raw, "sides", SIDES, file, step_id),
        mode=mode,
        seconds=seconds,
        focus=tuple(focus),
        foundation=raw.get("foundation", False),
    )


def _position_with(
    raw: dict[str, Any], topics: dict[str, Topic], file: str, step_id: str
) -> dict[str, str]:
    value = raw.get("position_with") or {}
    if not isinstance(value, dict):
        raise ContentError(file, "must map tool ids to texts", step_id, "position_with")
    for tool, text in value.items():
        _check_tool(str(tool), topics, file, step_id, "position_with")
        if not isinstance(text, str) or not text.strip():
            raise ContentError(file, f"text for '{tool}' is missing", step_id, "position_with")
    return {str(tool): str(text) for tool, text in value.items()}


def _parse_steps(
    data: dict[str, Any], topics: dict[str, Topic], file: str
) -> dict[str, StepTemplate]:
    entries = data.get("steps")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "must be a non-empty list", None, "steps")
    steps: dict[str, StepTemplate] = {}
    for index, raw in enumerate(entries):
        step = _parse_step(raw, topics, file, index)
        if step.id in steps:
            raise ContentError(file, "duplicate step id", step.id, "id")
        steps[step.id] = step
    return steps


def _parse_phase(raw: Any, steps: dict[str, StepTemplate], file: str, index: int) -> Phase:
    phase_id = _entry_id(raw, file, "phase", index)
    dose = _require_number(raw, "dose", file, phase_id)
    if not PHASE_DOSE[0] <= dose <= PHASE_DOSE[1]:
        raise ContentError(
            file, f"must be between {PHASE_DOSE[0]} and {PHASE_DOSE[1]}", phase_id, "dose"
        )
    per_week = _require_int(raw, "sessions_per_week", file, phase_id)
    if not 1 <= per_week <= 7:
        raise ContentError(file, "must be between 1 and 7", phase_id, "sessions_per_week")
    gap = _require_int(raw, "min_days_between", file, phase_id)
    if not 1 <= gap <= 7:
        raise ContentError(file, "must be between 1 and 7", phase_id, "min_days_between")
    template = optional_str_list(raw, "steps", file, phase_id)
    if not template:
        raise ContentError(file, "must list at least one step id", phase_id, "steps")
    for step_id in template:
        if step_id not in steps:
            raise ContentError(file, f"names unknown step '{step_id}'", phase_id, "steps")
    if len(set(template)) != len(template):
        raise ContentError(file, "lists a step twice", phase_id, "steps")
    last_week = raw.get("last_week")
    min_sessions = raw.get("min_sessions")
    return Phase(
        id=phase_id,
        title=require_str(raw, "title", file, phase_id),
        description=require_str(raw, "description", file, phase_id),
        first_week=_require_int(raw, "first_week", file, phase_id),
        last_week=None if last_week is None else _require_int(raw, "last_week", file, phase_id),
        sessions_per_week=per_week,
        min_sessions=(
            None if min_sessions is None else _require_int(raw, "min_sessions", file, phase_id)
        ),
        min_days_between=gap,
        dose=dose,
        steps=tuple(template),
    )


def _check_phase_order(phases: list[Phase], file: str) -> None:
    """Every phase must be reachable: contiguous weeks, a finite bar to pass, one open end."""
    expected_week = 1
    for position, phase in enumerate(phases):
        is_last = position == len(phases) - 1
        if phase.first_week != expected_week:
            raise ContentError(
                file,
                f"must be {expected_week} to follow the previous phase",
                phase.id,
                "first_week",
            )
        if is_last:
            if phase.last_week is not None or phase.min_sessions is not None:
                raise ContentError(
                    file,
                    "the last phase must be open-ended (no last_week, no min_sessions)",
                    phase.id,
                    "last_week" if phase.last_week is not None else "min_sessions",
                )
            continue
        if phase.last_week is None or phase.last_week < phase.first_week:
            raise ContentError(
                file,
                "must be a week on or after first_week; only the last phase is open-ended",
                phase.id,
                "last_week",
            )
        if phase.min_sessions is None or phase.min_sessions <= 0:
            raise ContentError(
                file,
                "must be more than 0 so the next phase can be reached",
                phase.id,
                "min_sessions",
            )
        planned = phase.sessions_per_week * (phase.last_week - phase.first_week + 1)
        if phase.min_sessions > planned:
            raise ContentError(
                file,
                f"needs {phase.min_sessions} sessions but its weeks plan only {planned}",
                phase.id,
                "min_sessions",
            )
        expected_week = phase.last_week + 1


def _parse_phases(
    data: dict[str, Any], steps: dict[str, StepTemplate], file: str
) -> tuple[Phase, ...]:
    entries = data.get("phases")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "must be a non-empty list", None, "phases")
    phases = [_parse_phase(raw, steps, file, index) for index, raw in enumerate(entries)]
    seen: set[str] = set()
    for phase in phases:
        if phase.id in seen:
            raise ContentError(file, "duplicate phase id", phase.id, "id")
        seen.add(phase.id)
    _check_phase_order(phases, file)
    return tuple(phases)


def _parse_progression(data: dict[str, Any], file: str) -> Progression:
    raw = data.get("progression")
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", None, "progression")
    entry = "progression"
    progression = Progression(
        start_dose=_require_number(raw, "start_dose", file, entry),
        max_dose=_require_number(raw, "max_dose", file, entry),
        min_dose=_require_number(raw, "min_dose", file, entry),
        lower_factor=_require_number(raw, "lower_factor", file, entry),
        recover_step=_require_number(raw, "recover_step", file, entry),
        pain_rise=_require_int(raw, "pain_rise", file, entry),
        trend_window=_require_int(raw, "trend_window", file, entry),
    )
    if not 0 < progression.min_dose <= progression.start_dose <= progression.max_dose <= 1.5:
        raise ContentError(
            file, "needs 0 < min_dose <= start_dose <= max_dose <= 1.5", entry, "min_dose"
        )
    if not 0 < progression.lower_factor < 1:
        raise ContentError(file, "must be between 0 and 1", entry, "lower_factor")
    if not 0 < progression.recover_step <= 0.5:
        raise ContentError(file, "must be above 0 and at most 0.5", entry, "recover_step")
    if not 1 <= progression.pain_rise <= 10:
        raise ContentError(file, "must be between 1 and 10", entry, "pain_rise")
    if not 2 <= progression.trend_window <= 30:
        raise ContentError(file, "must be between 2 and 30", entry, "trend_window")
    return progression


def _parse_texts(data: dict[str, Any], file: str) -> dict[str, str]:
    raw = data.get("texts")
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", None, "texts")
    texts: dict[str, str] = {}
    for key, allowed in TEXT_FIELDS.items():
        text = require_str(raw, key, file, "texts")
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        if names - allowed:
            raise ContentError(
                file, f"uses unknown placeholders {sorted(names - allowed)}", "texts", key
            )
        texts[key] = text
    return texts


def _parse_sources(data: dict[str, Any], file: str) -> tuple[Source, ...]:
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "must be a non-empty list", None, "sources")
    sources = []
    for index, raw in enumerate(entries):
        entry = f"source #{index + 1}"
        if not isinstance(raw, dict):
            raise ContentError(file, "must be a mapping", entry)
        year = _require_int(raw, "year", file, entry)
        if not 1900 <= year <= 2100:
            raise ContentError(file, "must be a publication year", entry, "year")
        sources.append(
            Source(
                title=require_str(raw, "title", file, entry),
                authors=require_str(raw, "authors", file, entry),
                year=year,
                published=require_str(raw, "published", file, entry),
                supports=require_str(raw, "supports", file, entry),
            )
        )
    return tuple(sources)


def _parse_kits(
    data: dict[str, Any], topics: dict[str, Topic], file: str
) -> dict[str, tuple[str, ...]]:
    raw = data.get("kits")
    if not isinstance(raw, dict) or not raw:
        raise ContentError(file, "must map each kit id to the tool ids it holds", None, "kits")
    kits: dict[str, tuple[str, ...]] = {}
    for kit, tools in raw.items():
        _check_tool(str(kit), topics, file, str(kit), "kits")
        if not isinstance(tools, list) or not tools:
            raise ContentError(file, "must list the tool ids in the kit", str(kit), "kits")
        for tool in tools:
            if not isinstance(tool, str) or tool in raw:
                raise ContentError(file, f"'{tool}' must be a tool id", str(kit), "kits")
            _check_tool(tool, topics, file, str(kit), "kits")
        kits[str(kit)] = tuple(tools)
    return kits


def _parse_tool_names(
    data: dict[str, Any], steps: dict[str, StepTemplate], topics: dict[str, Topic], file: str
) -> dict[str, str]:
    raw = data.get("tool_names")
    if not isinstance(raw, dict):
        raise ContentError(file, "must map tool ids to short names", None, "tool_names")
    for tool in raw:
        _check_tool(str(tool), topics, file, str(tool), "tool_names")
    names = {str(tool): require_str(raw, tool, file, "tool_names") for tool in raw}
    for step in steps.values():
        for tool in (step.tool, step.alternative):
            if tool is not None and tool not in names:
                raise ContentError(file, f"needs a short name for '{tool}'", "tool_names", tool)
    return names


def load_program(path: Path, topics: dict[str, Topic]) -> Program:
    """The program in `path`, validated against the loaded topics."""
    data = read_yaml_mapping(path)
    file = str(path)
    steps = _parse_steps(data, topics, file)
    return Program(
        title=require_str(data, "title", file, None),
        phases=_parse_phases(data, steps, file),
        steps=steps,
        progression=_parse_progression(data, file),
        texts=_parse_texts(data, file),
        sources=_parse_sources(data, file),
        tool_names=_parse_tool_names(data, steps, topics, file),
        kit_contents=_parse_kits(data, topics, file),
    )
