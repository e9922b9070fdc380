"""Personalising a session plan and the progression rules, on fixed dates and fake history."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from backchain.bot.routine.plan import (
    SessionPlan,
    order_for_focus,
    plan_session,
    program_status,
    substitution_note,
)
from backchain.bot.routine.program import FOCUS_AREAS, Program

from backchain.records import SessionRecord
from tests.support.content_fixtures import KIT_CONTENTS, closed_session, shipped_program

ALL_KITS = set(KIT_CONTENTS)


@pytest.fixture(scope="module")
def program() -> Program:
    return shipped_program()


def every_other_day(count: int, phase: str = "release", start: int = 0) -> list[SessionRecord]:
    return [closed_session(start + 2 * n, phase) for n in range(count)]


# Personalisation


def test_owning_both_kits_gives_the_whole_phase_in_chain_order(program: Program) -> None:
    plan = plan_session(program, "restore", ALL_KITS, "general", 1.0)
    assert [step.step_id for step in plan.steps] == list(program.phase("restore").steps)
    assert [step.index for step in plan.steps] == list(range(len(plan.steps)))
    assert plan.left_out == () and plan.note is None
    assert all(step.substitutes is None for step in plan.steps)


def test_a_kit_counts_as_owning_its_tools(program: Program) -> None:
    by_kit = plan_session(program, "restore", {"hip-lower-back-kit"}, "general", 1.0)
    by_tools = plan_session(program, "restore", {"footballer", "baller-block"}, "general", 1.0)
    assert by_kit == by_tools
    assert by_kit.steps[0].step_id == "soleus-footballer"
    assert by_kit.steps[0].tool == "footballer"


def test_missing_tool_is_replaced_by_an_owned_alternative(program: Program) -> None:
    plan = plan_session(program, "restore", {"hip-lower-back-kit"}, "general", 1.0)
    quads = next(step for step in plan.steps if step.step_id == "quads-quadballer")
    template = program.steps["quads-quadballer"]
    assert (quads.tool, quads.substitutes) == ("footballer", "quadballer")
    assert quads.technique == template.alternative_technique
    assert {step.tool for step in plan.steps} == {"footballer"}
    assert substitution_note(program, quads) == program.texts["substituted"].format(
        tool="Quadballer", alternative="Footballer"
    )
    assert substitution_note(program, plan.steps[0]) is None


def test_steps_without_any_owned_tool_are_left_out_with_a_note(program: Program) -> None:
    plan = plan_session(program, "restore", {"hip-lower-back-kit"}, "general", 1.0)
    left_out = [step.step_id for step in plan.left_out]
    assert left_out == ["shin-tp-ball", "psoas-tp-ball", "piriformis-tp-ball", "pecs-tp-ball"]
    assert plan.note is not None
    for step_id in left_out:
        assert program.steps[step_id].title in plan.note
    assert "TP Massage Ball" in plan.note


def test_no_tools_leaves_everything_out(program: Program) -> None:
    plan = plan_session(program, "release", set(), "hip", 1.0)
    assert plan.steps == ()
    assert len(plan.left_out) == len(program.phase("release").steps)
    assert plan.total_seconds == 0


@pytest.mark.parametrize("focus", FOCUS_AREAS)
def test_focus_order_keeps_the_foundation_first_then_focus_then_rest(
    program: Program, focus: str
) -> None:
    plan = plan_session(program, "restore", ALL_KITS, focus, 1.0)
    chain = list(program.phase("restore").steps)
    ids = [step.step_id for step in plan.steps]
    assert ids[0] == "soleus-footballer"
    flags = [step.focus for step in plan.steps[1:]]
    assert flags == sorted(flags, reverse=True), "focus steps come before the others"
    for group in (True, False):
        members = [step.step_id for step in plan.steps[1:] if step.focus is group]
        assert members == [step_id for step_id in chain if step_id in members]


def test_sciatica_focus_brings_the_piriformis_right_after_the_calf(program: Program) -> None:
    plan = plan_session(program, "restore", ALL_KITS, "sciatica", 1.0)
    assert [step.step_id for step in plan.steps[:2]] == ["soleus-footballer", "piriformis-tp-ball"]


def test_order_for_focus_without_foundation_is_a_stable_partition(program: Program) -> None:
    steps = [program.steps[i] for i in ("shin-tp-ball", "psoas-tp-ball", "mid-back-tp-ball")]
    ordered = order_for_focus(steps, "lower-back")
    assert [s.id for s in ordered] == ["psoas-tp-ball", "mid-back-tp-ball", "shin-tp-ball"]


@pytest.mark.parametrize(
    ("dose", "soleus", "psoas"),
    [(1.0, 60, 60), (0.5, 30, 30), (0.75, 45, 45), (0.1, 10, 10), (3.0, 120, 90)],
)
def test_durations_scale_with_dose_within_safe_bounds(
    program: Program, dose: float, soleus: int, psoas: int
) -> None:
    plan = plan_session(program, "restore", ALL_KITS, "general", dose)
    seconds = {step.step_id: step.seconds for step in plan.steps}
    assert (seconds["soleus-footballer"], seconds["psoas-tp-ball"]) == (soleus, psoas)


def test_phase_dose_multiplies_the_user_dose(program: Program) -> None:
    plan = plan_session(program, "release", ALL_KITS, "general", 1.0)
    assert plan.steps[0].seconds == 45  # 60 s x release dose 0.75
    assert plan.steps[0].total_seconds == 90  # left and right


def test_plan_survives_a_json_round_trip(program: Program) -> None:
    plan = plan_session(program, "restore", {"hip-lower-back-kit"}, "knee", 0.75)
    assert SessionPlan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize(("focus", "dose"), [("neck", 1.0), ("hip", 0.0)])
def test_bad_focus_or_dose_is_refused(program: Program, focus: str, dose: float) -> None:
    with pytest.raises(ValueError):
        plan_session(program, "release", ALL_KITS, focus, dose)


# Progression


def test_no_history_starts_at_the_first_phase(program: Program) -> None:
    status = program_status(program, [])
    assert (status.phase_id, status.sessions_in_phase, status.sessions_needed) == ("release", 0, 6)
    assert status.next_dose == program.progression.start_dose
    assert status.next_due is None and status.due(date(2026, 3, 2))


def test_stays_in_phase_until_enough_sessions(program: Program) -> None:
    status = program_status(program, every_other_day(5))
    assert (status.phase_id, status.sessions_in_phase, status.advanced) == ("release", 5, False)


def test_advances_after_enough_sessions_with_stable_pain(program: Program) -> None:
    status = program_status(program, every_other_day(6))
    assert (status.phase_id, status.sessions_in_phase, status.advanced) == ("restore", 0, True)
    assert status.sessions_needed == 12


def test_sessions_in_the_new_phase_are_counted_from_zero(program: Program) -> None:
    history = every_other_day(6) + every_other_day(2, "restore", start=12)
    status = program_status(program, history)
    assert (status.phase_id, status.sessions_in_phase, status.advanced) == ("restore", 2, False)


def test_does_not_advance_when_sessions_raise_pain(program: Program) -> None:
    history = [closed_session(2 * n, before=4, after=5) for n in range(6)]
    status = program_status(program, history)
    assert (status.phase_id, status.pain_stable) == ("release", False)


def test_does_not_advance_when_pain_before_sessions_keeps_rising(program: Program) -> None:
    history = [
        closed_session(2 * n, before=b, after=b - 1) for n, b in enumerate([2, 2, 3, 5, 6, 7])
    ]
    status = program_status(program, history)
    assert (status.phase_id, status.pain_stable) == ("release", False)


def test_sessions_without_any_step_done_do_not_count(program: Program) -> None:
    history = every_other_day(5) + [closed_session(10, done=0)]
    assert program_status(program, history).sessions_in_phase == 5


def test_the_last_phase_is_open_ended(program: Program) -> None:
    history = every_other_day(40, "maintain")
    status = program_status(program, history)
    assert (status.phase_id, status.sessions_needed, status.advanced) == ("maintain", None, False)


@pytest.mark.parametrize(
    ("last", "expected_dose", "lowered"),
    [
        pytest.param(closed_session(0, before=3, after=5, dose=1.0), 0.75, True, id="pain-up-2"),
        pytest.param(closed_session(0, before=3, after=4, dose=1.0), 1.0, False, id="pain-up-1"),
        pytest.param(closed_session(0, too_painful=1, dose=1.0), 0.75, True, id="too-painful"),
        pytest.param(closed_session(0, too_painful=1, dose=0.6), 0.5, True, id="floor"),
        pytest.param(closed_session(0, too_painful=1, dose=0.5), 0.5, True, id="at-floor"),
        pytest.param(closed_session(0, dose=0.75), 0.85, False, id="recovers"),
        pytest.param(closed_session(0, dose=0.95), 1.0, False, id="recovery-capped"),
        pytest.param(
            closed_session(0, too_painful=1, status="abandoned", dose=1.0),
            0.75,
            True,
            id="abandoned-hurt",
        ),
        pytest.param(
            closed_session(0, done=0, status="abandoned", dose=0.75), 0.75, False, id="abandoned"
        ),
    ],
)
def test_next_dose_follows_the_last_session(
    program: Program, last: SessionRecord, expected_dose: float, lowered: bool
) -> None:
    status = program_status(program, [closed_session(-2, dose=last.dose, session_id=99), last])
    assert (status.next_dose, status.dose_lowered) == (expected_dose, lowered)


def test_dose_recovers_gradually_over_good_sessions(program: Program) -> None:
    history = [closed_session(0, too_painful=1, dose=1.0)]
    doses = []
    for day in range(2, 12, 2):
        dose = program_status(program, history).next_dose
        doses.append(dose)
        history.append(closed_session(day, dose=dose))
    assert doses == [0.75, 0.85, 0.95, 1.0, 1.0]


def test_an_abandoned_session_does_not_count_towards_the_phase(program: Program) -> None:
    history = every_other_day(5) + [closed_session(10, status="abandoned", done=3)]
    assert program_status(program, history).sessions_in_phase == 5


def test_missed_days_change_nothing_and_the_program_waits(program: Program) -> None:
    compact = every_other_day(4)
    sparse = [closed_session(30 * n) for n in range(4)]  # a month between sessions
    a, b = program_status(program, compact), program_status(program, sparse)
    assert (a.phase_id, a.sessions_in_phase, a.next_dose) == (
        b.phase_id,
        b.sessions_in_phase,
        b.next_dose,
    )
    assert b.next_due == date(2026, 3, 2) + timedelta(days=92)
    assert b.due(date(2026, 9, 1))  # months later it is simply due, nothing reset


def test_first_phase_is_due_every_other_day(program: Program) -> None:
    status = program_status(program, [closed_session(0)])  # Monday
    assert status.last_session == date(2026, 3, 2)
    assert status.next_due == date(2026, 3, 4)
    assert not status.due(date(2026, 3, 3)) and status.due(date(2026, 3, 4))


def test_later_phases_follow_sessions_per_week(program: Program) -> None:
    history = every_other_day(6) + [closed_session(14 + n, "restore") for n in range(3)]  # Mon-Wed
    assert program_status(program, history).next_due == date(2026, 3, 19)  # Thursday
    history.append(closed_session(17, "restore"))  # the fourth this week
    assert program_status(program, history).next_due == date(2026, 3, 23)  # next Monday


def test_due_dates_use_the_users_local_day(program: Program) -> None:
    late_evening = closed_session(0)  # Monday 18:00 UTC is already Tuesday in Tokyo
    status = program_status(program, [late_evening], ZoneInfo("Asia/Tokyo"))
    assert status.last_session == date(2026, 3, 3)
    assert status.next_due == date(2026, 3, 5)
