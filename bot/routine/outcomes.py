"""Outcome scores as rules: weekly averages and the progression rule that reads them.

PSFS (10 = able to do the activity as before the pain) going down, or PEG (10 = worst) going
up, between the first and the latest week means things are getting harder: the program then
holds its phase, whatever the session pain says. The thresholds live in content/program.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any


@dataclass(frozen=True)
class OutcomeRule:
    psfs_drop: float  # average PSFS points lost since the first week that hold the phase
    peg_rise: float  # average PEG points gained since the first week that hold the phase
    check_every_days: int  # how often the weekly check is offered

    @classmethod
    def from_mapping(cls, raw: Any) -> OutcomeRule:
        return cls(
            psfs_drop=float(raw["psfs_drop"]),
            peg_rise=float(raw["peg_rise"]),
            check_every_days=int(raw["check_every_days"]),
        )


Point = tuple[datetime, float]


def weekly_means(points: Sequence[Point], tz: tzinfo) -> list[tuple[date, float]]:
    """The average score of each week (Monday) that has any, oldest first."""
    weeks: dict[date, list[float]] = {}
    for moment, value in points:
        day = moment.astimezone(tz).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(value)
    return [(week, round(sum(v) / len(v), 1)) for week, v in sorted(weeks.items())]


def change(points: Sequence[Point], tz: tzinfo) -> float | None:
    """Latest week's average minus the first week's; None with fewer than two weeks."""
    weeks = weekly_means(points, tz)
    if len(weeks) < 2:
        return None
    return round(weeks[-1][1] - weeks[0][1], 1)


def hold_reason(rule: OutcomeRule, psfs: Sequence[Point], peg: Sequence[Point], tz: tzinfo) -> str:
    """'psfs' or 'peg' when that scale says things got harder, else '' (no objection)."""
    psfs_change = change(psfs, tz)
    if psfs_change is not None and -psfs_change >= rule.psfs_drop:
        return "psfs"
    peg_change = change(peg, tz)
    if peg_change is not None and peg_change >= rule.peg_rise:
        return "peg"
    return ""
