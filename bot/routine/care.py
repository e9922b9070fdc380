"""The parts of content/program.yaml about how a session treats the person: phase intros, gentler
ways to do a painful step, and the outcome-score rule. Declared as typed models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.routine.outcomes import OutcomeRule
from backchain.bot.yamlfile import Model, OpenModel, Text, convert, read_yaml_mapping


def _range(low: float, high: float, above: bool = False) -> msgspec.Meta:
    return msgspec.Meta(gt=low, le=high) if above else msgspec.Meta(ge=low, le=high)


class Gentler(Model, frozen=True):
    area: Text
    how: Text


class OutcomeSettings(Model, frozen=True):
    psfs_drop: Annotated[float, _range(0, 10, above=True)]
    peg_rise: Annotated[float, _range(0, 10, above=True)]
    check_every_days: Annotated[int, _range(1, 31)]


class Guards(Model, frozen=True):
    no_session_from: Annotated[int, _range(5, 10)]  # pain before at or above: no full session
    rise_after: Annotated[int, _range(1, 10)]  # pain up by this much after a session: say so


class SessionCare(OpenModel, frozen=True):
    """Read from program.yaml; every other key of that file belongs to the program loader."""

    phase_intros: dict[str, str]
    gentler: dict[str, Gentler]
    outcomes: OutcomeSettings
    guards: Guards

    @property
    def outcome_rule(self) -> OutcomeRule:
        return OutcomeRule(
            self.outcomes.psfs_drop, self.outcomes.peg_rise, self.outcomes.check_every_days
        )

    def area(self, step_id: str) -> str:
        """The body area a step loads; a step without an entry is its own area."""
        entry = self.gentler.get(step_id)
        return entry.area if entry else step_id


def load_care(path: Path, phase_ids: set[str], step_ids: set[str]) -> SessionCare:
    """Validated against the program's phases and steps: each has its intro and gentler way."""
    file = str(path)
    care = convert(read_yaml_mapping(path), SessionCare, file)
    for phase_id in sorted(phase_ids - set(care.phase_intros)):
        raise ContentError(file, "needs an intro for this phase", phase_id, "phase_intros")
    for step_id in sorted(step_ids - set(care.gentler)):
        raise ContentError(file, "needs a gentler way for this step", step_id, "gentler")
    for key in sorted((set(care.phase_intros) - phase_ids) | (set(care.gentler) - step_ids)):
        raise ContentError(file, "names no phase or step of the program", key)
    return care
