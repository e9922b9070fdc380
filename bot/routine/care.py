"""The parts of content/program.yaml about how a session treats the person: phase intros, gentler
ways to do a painful step, and the outcome-score rule. Declared as typed models."""

from __future__ import annotations

from pathlib import Path

from backchain.bot.errors import ContentError
from backchain.bot.routine.outcomes import OutcomeRule
from backchain.bot.yamlfile import read_yaml_mapping
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Gentler(_Strict):
    area: str = Field(min_length=1)
    how: str = Field(min_length=1)


class OutcomeSettings(_Strict):
    psfs_drop: float = Field(gt=0, le=10)
    peg_rise: float = Field(gt=0, le=10)
    check_every_days: int = Field(ge=1, le=31)


class Guards(_Strict):
    no_session_from: int = Field(ge=5, le=10)  # pain before at or above: no full session today
    rise_after: int = Field(ge=1, le=10)  # pain up by this much after a session: say so


class SessionCare(BaseModel):
    """Read from program.yaml; every other key of that file belongs to the program loader."""

    model_config = ConfigDict(extra="ignore", frozen=True)

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
    try:
        care = SessionCare.model_validate(read_yaml_mapping(path))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ContentError(file, error["msg"], where) from exc
    for phase_id in sorted(phase_ids - set(care.phase_intros)):
        raise ContentError(file, "needs an intro for this phase", phase_id, "phase_intros")
    for step_id in sorted(step_ids - set(care.gentler)):
        raise ContentError(file, "needs a gentler way for this step", step_id, "gentler")
    for key in sorted((set(care.phase_intros) - phase_ids) | (set(care.gentler) - step_ids)):
        raise ContentError(file, "names no phase or step of the program", key)
    return care
