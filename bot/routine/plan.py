"""Routine rules, pure: personalising a session plan and progressing through the program."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, timedelta, tzinfo
from typing import Any

from backchain.bot.routine.precautions import (
    HealthProfile,
    Precautions,
    StepChange,
    StepVerdict,
    intro_lines,
    verdict,
)
from backchain.bot.routine.program import (
    FOCUS_AREAS,
    SECONDS_PER_SIDE,
    STILL_MAX_SECONDS,
    Phase,
    Program,
    StepTemplate,
)

from backchain.records import SessionRecord

ROUND_TO_SECONDS = 5  # "45 s per side" reads better on a phone than "47 s"
TREND_TOLERANCE = 0.5  # pain points between the halves of a window before we call it a trend


@dataclass(frozen=True)
class PlannedStep:
    index: int
    step_id: str
    title: str
    tool: str
    substitutes: str | None  # the tool the template asked for, when an alternative is used
    target: str
    position: str
    technique: str
    pressure: str
    sides: str
    mode: str
    seconds: int  # per side
    focus: bool
    caution: str | None = None  # what a health precaution changed on this step, in one line

    @property
    def total_seconds(self) -> int:
        return self.seconds * (2 if self.sides == "left-right" else 1)


@dataclass(frozen=True)
class LeftOutStep:
    step_id: str
    title: str
    tool: str
    because: str | None = None  # a health precaution; None when the tool is missing


@dataclass(frozen=True)
class SessionPlan:
    phase_id: str
    dose: float
    steps: tuple[PlannedStep, ...]
    left_out: tuple[LeftOutStep, ...]
    note: str | None
    health_notes: tuple[str, ...] = ()  # "Because you're pregnant: ...", one line a condition

    @property
    def total_seconds(self) -> int:
        return sum(step.total_seconds for step in self.steps)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SessionPlan:
        data: dict[str, Any] = json.loads(text)
        return cls(
            phase_id=data["phase_id"],
            dose=float(data["dose"]),
            steps=tuple(PlannedStep(**step) for step in data["steps"]),
            left_out=tuple(LeftOutStep(**step) for step in data["left_out"]),
            note=data["note"],
            health_notes=tuple(data.get("health_notes", ())),
        )


def owned_with_kits(program: Program, owned_tools: set[str]) -> set[str]:
    """Owning a kit means owning every tool in it."""
    owned = set(owned_tools)
    for kit in owned_tools:
        owned.update(program.kit_contents.get(kit, ()))
    return owned


def order_for_focus(steps: Sequence[StepTemplate], focus: str) -> list[StepTemplate]:
    """Foundation steps, then the user's focus steps, then the rest; chain order within each.

    The chain starts at the foot, so its foundation (the soleus) always opens the session; the
    focus area comes next, while the user is fresh and before they might stop early.
    """
    foundation = [step for step in steps if step.foundation]
    focused = [step for step in steps if not step.foundation and focus in step.focus]
    rest = [step for step in steps if not step.foundation and focus not in step.focus]
    return foundation + focused + rest


def scaled_seconds(step: StepTemplate, phase: Phase, dose: float) -> int:
    low, high = SECONDS_PER_SIDE
    if step.mode == "still":
        high = min(high, STILL_MAX_SECONDS)
    raw = step.seconds * phase.dose * dose
    rounded = ROUND_TO_SECONDS * round(raw / ROUND_TO_SECONDS)
    return max(low, min(high, rounded))


def _left_out_note(program: Program, left_out: list[LeftOutStep]) -> str | None:
    left_out = [step for step in left_out if step.because is None]
    if not left_out:
        return None
    tools = sorted({program.tool_names[step.tool] for step in left_out})
    return program.texts["left_out"].format(
        steps=", ".join(step.title for step in left_out), tools=" or ".join(tools)
    )


def substitution_note(program: Program, step: PlannedStep) -> str | None:
    """Tells the user why a step uses another tool than the one it was written for."""
    if step.substitutes is None:
        return None
    return program.texts["substituted"].format(
        tool=program.tool_names[step.substitutes], alternative=program.tool_names[step.tool]
    )


def plan_session(
    program: Program,
    phase_id: str,
    owned_tools: set[str],
    focus: str,
    dose: float,
    health: HealthProfile | None = None,
    precautions: Precautions | None = None,
) -> SessionPlan:
    """The phase's steps for this user: their tools, their focus first, durations scaled.

    The one place a plan is built. A health profile leaves steps out or changes them as
    `content/health.yaml` says, and the plan carries one line per condition saying so.
    """
    if focus not in FOCUS_AREAS:
        raise ValueError(f"focus must be one of {', '.join(FOCUS_AREAS)}, got {focus!r}")
    if dose <= 0:
        raise ValueError(f"dose must be above 0, got {dose}")
    health = health or HealthProfile()
    phase = program.phase(phase_id)
    owned = owned_with_kits(program, owned_tools)
    templates = order_for_focus([program.steps[step_id] for step_id in phase.steps], focus)
    planned: list[PlannedStep] = []
    left_out: list[LeftOutStep] = []
    for step in templates:
        if step.tool in owned:
            tool, substitutes = step.tool, None
            position, technique = step.position, step.technique
            for extra, text in step.position_with.items():
                if extra in owned:
                    position = text
        elif step.alternative is not None and step.alternative in owned:
            tool, substitutes = step.alternative, step.tool
            position = step.alternative_position or step.position
            technique = step.alternative_technique or step.technique
        else:
            left_out.append(LeftOutStep(step.id, step.title, step.tool))
            continue
        ruling = (
            verdict(precautions, health, step.id, step.sides)
            if precautions is not None
            else StepVerdict()
        )
        if ruling.excluded:
            left_out.append(
                LeftOutStep(step.id, step.title, tool, "; ".join(ruling.excluded_because))
            )
            continue
        pressure, mode = step.pressure, step.mode
        sides: str = step.sides
        seconds = scaled_seconds(step, phase, dose)
        position, technique, pressure = _changed_texts(
            ruling.changes, position, technique, pressure
        )
        for change in ruling.changes:
            if change.max_seconds is not None:
                seconds = min(seconds, change.max_seconds)
            if change.rolling_only:
                mode = "rolling"
        if ruling.only_side is not None:
            sides = ruling.only_side
        planned.append(
            PlannedStep(
                index=len(planned),
                step_id=step.id,
                title=step.title,
                tool=tool,
                substitutes=substitutes,
                target=step.target,
                position=position,
                technique=technique,
                pressure=pressure,
                sides=sides,
                mode=mode,
                seconds=seconds,
                focus=focus in step.focus,
                caution=" ".join(change.note for change in ruling.changes) or None,
            )
        )
    notes = (
        tuple(intro_lines(precautions, health, program.texts["health_because"]))
        if precautions is not None
        else ()
    )
    return SessionPlan(
        phase.id,
        dose,
        tuple(planned),
        tuple(left_out),
        _left_out_note(program, left_out),
        notes,
    )


def _changed_texts(
    changes: Sequence[StepChange], position: str, technique: str, pressure: str
) -> tuple[str, str, str]:
    """The texts a step shows when precautions change it, taken in checklist order.

    A new position comes with its own technique (lying on your side needs other words than lying
    face down), so both are taken from the first condition that moves the person; a technique
    alone, or a pressure, from the first condition that gives one. Every condition's note is
    still shown, so nothing a later condition asks for goes unsaid.
    """
    moved = next((c for c in changes if c.position), None)
    if moved is not None:
        position, technique = moved.position or position, moved.technique or technique
    else:
        technique = next((c.technique for c in changes if c.technique), technique)
    pressure = next((c.pressure for c in changes if c.pressure), pressure)
    return position, technique, pressure


def pain_direction(values: Sequence[float], tolerance: float = TREND_TOLERANCE) -> str:
    """'rising', 'falling' or 'stable' comparing the later half with the earlier half.

    'unknown' with fewer than two values. Halves smooth out the day-to-day noise of pain scores.
    """
    if len(values) < 2:
        return "unknown"
    half = len(values) // 2
    earlier = sum(values[:half]) / half
    later = sum(values[-half:]) / half
    if later - earlier > tolerance:
        return "rising"
    if earlier - later > tolerance:
        return "falling"
    return "stable"


def pain_stable(records: Sequence[SessionRecord]) -> bool:
    """Sessions do not raise pain on average and the pain before sessions is not trending up.

    Both must hold: moving on adds load, so either warning sign keeps the user where they are.
    Sessions without pain ratings tell us nothing and are ignored.
    """
    rated = [r for r in records if r.pain_change is not None]
    if not rated:
        return True
    average_change = sum(r.pain_change or 0 for r in rated) / len(rated)
    before = [float(r.pain_before) for r in rated if r.pain_before is not None]
    return average_change <= 0 and pain_direction(before) != "rising"


def hurt(record: SessionRecord, pain_rise: int) -> bool:
    change = record.pain_change
    return record.too_painful > 0 or (change is not None and change >= pain_rise)


def next_dose(program: Program, last: SessionRecord | None) -> tuple[float, bool]:
    """The dose after `last` and whether it was lowered because that session hurt."""
    rules = program.progression
    if last is None:
        return rules.start_dose, False
    if hurt(last, rules.pain_rise):
        return max(rules.min_dose, round(last.dose * rules.lower_factor, 2)), True
    if last.finished and last.done > 0:
        return min(rules.max_dose, round(last.dose + rules.recover_step, 2)), False
    return last.dose, False


def counts_for_phase(record: SessionRecord) -> bool:
    return record.finished and record.done > 0


@dataclass(frozen=True)
class ProgramStatus:
    phase_id: str
    phase_index: int
    sessions_in_phase: int
    sessions_needed: int | None  # None in the open-ended last phase
    advanced: bool  # the last session completed the previous phase
    pain_stable: bool
    next_dose: float
    dose_lowered: bool
    last_session: date | None
    next_due: date | None  # None before the first session: any day is fine
    held_by: str = ""  # the outcome scale that kept the phase from moving on, if any

    def due(self, today: date) -> bool:
        return self.next_due is None or today >= self.next_due


def _current_phase(
    program: Program, finished: list[SessionRecord]
) -> tuple[Phase, list[SessionRecord]]:
    """The phase of the latest finished session and that phase's trailing run of sessions."""
    if not finished:
        return program.first_phase, []
    phase_ids = {phase.id for phase in program.phases}
    latest = finished[-1].phase
    if latest not in phase_ids:
        return program.first_phase, []
    run: list[SessionRecord] = []
    for record in reversed(finished):
        if record.phase != latest:
            break
        run.append(record)
    run.reverse()
    return program.phase(latest), [r for r in run if counts_for_phase(r)]


def _local_date(record: SessionRecord, tz: tzinfo) -> date:
    return record.started_at.astimezone(tz).date()


def _next_due(phase: Phase, finished: list[SessionRecord], tz: tzinfo) -> date | None:
    if not finished:
        return None
    due = _local_date(finished[-1], tz) + timedelta(days=phase.min_days_between)
    week_start = due - timedelta(days=due.weekday())
    in_week = sum(
        1 for r in finished if week_start <= _local_date(r, tz) < week_start + timedelta(days=7)
    )
    if in_week >= phase.sessions_per_week:
        due = week_start + timedelta(days=7)
    return due


def program_status(
    program: Program, history: Sequence[SessionRecord], tz: tzinfo = UTC, hold: str = ""
) -> ProgramStatus:
    """Where the user stands. Time alone changes nothing: after missed days the program waits.

    `hold` names an outcome scale that says things got harder ("psfs" or "peg"; see
    routine/outcomes.py): the phase then waits as it does when session pain rises.
    """
    ordered = sorted(history, key=lambda r: (r.started_at, r.id))
    finished = [r for r in ordered if r.finished]
    phase, run = _current_phase(program, finished)
    needed = phase.min_sessions
    window = run[-needed:] if needed else run[-program.progression.trend_window :]
    stable = pain_stable(window)
    advanced = False
    following = program.next_phase(phase.id)
    held = ""
    if needed is not None and following is not None and len(run) >= needed and stable:
        if hold:
            held = hold
        else:
            phase, run, advanced = following, [], True
    dose, lowered = next_dose(program, ordered[-1] if ordered else None)
    return ProgramStatus(
        phase_id=phase.id,
        phase_index=program.phase_index(phase.id),
        sessions_in_phase=len(run),
        sessions_needed=phase.min_sessions,
        advanced=advanced,
        pain_stable=stable,
        next_dose=dose,
        dose_lowered=lowered,
        last_session=_local_date(finished[-1], tz) if finished else None,
        next_due=_next_due(phase, finished, tz),
        held_by=held,
    )
