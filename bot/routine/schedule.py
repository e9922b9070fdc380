"""Daily reminder times: parsing what people type and finding the next send instant.

Pure functions over aware datetimes; every "now" is passed in, so tests control the clock.

The rule for the next send, in one sentence: on each local date, the reminder fires at the first
instant when the wall clock shows the chosen time *or later* on that date. That gives:

- an ordinary day: exactly the chosen time;
- a spring-forward gap (02:30 on the day Berlin jumps from 02:00 to 03:00): at the jump itself,
  03:00 local, the earliest moment the clock has passed 02:30;
- a fall-back fold (02:30 happens twice): once, at the first occurrence;
- a local date that does not exist at all (Pacific/Apia skipped 30 December 2011 when it moved
  across the date line): no reminder that date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backchain.text import fold

# A reminder this late (the bot was down) is skipped to its next day instead of sent.
CATCH_UP_WINDOW = timedelta(hours=2)
SNOOZE = timedelta(hours=1)

_WORDS = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}
# "7", "7:30", "07.30", "19h", "19h30", "7pm", "7 p.m.", "7.30pm", "0730".
_CLOCK = re.compile(
    r"^(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2})|h)?(?:\s*(?P<half>[ap])\.?\s*(?:m\.?)?)?$"
)
_MILITARY = re.compile(r"^(?P<hour>\d{2})(?P<minute>\d{2})$")


def parse_time_of_day(text: str) -> time | None:
    """The time of day a person typed, or None when it is not one."""
    cleaned = fold(text)
    if cleaned in _WORDS:
        return _WORDS[cleaned]
    match = _MILITARY.match(cleaned) or _CLOCK.match(cleaned)
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    half = match.groupdict().get("half")
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def format_time_of_day(value: time) -> str:
    """The stored form, "HH:MM"."""
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_stored_time(value: str) -> time:
    """Read back a "HH:MM" written by `format_time_of_day`."""
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def local_date(now: datetime, zone: str) -> date:
    """The calendar date on the wall clock in `zone` at the instant `now`."""
    return _require_aware(now).astimezone(ZoneInfo(zone)).date()


def next_due(local_time: time, zone: str, after: datetime) -> datetime:
    """The next instant (aware, UTC) strictly after `after` when the reminder should fire."""
    tz = ZoneInfo(zone)
    after_utc = _require_aware(after).astimezone(UTC)
    start = after_utc.astimezone(tz).date() - timedelta(days=1)
    # Four dates always hold one: even a skipped date leaves the next one valid.
    for offset in range(5):
        candidate = fire_instant(start + timedelta(days=offset), local_time, tz)
        if candidate is not None and candidate > after_utc:
            return candidate
    raise AssertionError(f"no send instant found after {after_utc} in {zone}")


def next_due_after_today(local_time: time, zone: str, now: datetime) -> datetime:
    """The next send instant on a later local date than today's (for "skip today")."""
    today = local_date(now, zone)
    candidate = next_due(local_time, zone, now)
    while local_date(candidate, zone) <= today:
        candidate = next_due(local_time, zone, candidate)
    return candidate


def fire_instant(day: date, local_time: time, tz: ZoneInfo) -> datetime | None:
    """When the wall clock in `tz` first shows `local_time` or later on `day`.

    None when `day` never happened in `tz` (a date skipped by a move across the date line).
    """
    wall = datetime.combine(day, local_time)
    earlier, later = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if earlier.utcoffset() == later.utcoffset():  # an ordinary time: no transition near
        return earlier.astimezone(UTC)
    first = min(earlier.astimezone(UTC), later.astimezone(UTC))
    if _wall_clock(first, tz) == wall:  # a fold: the first of the two
        return first
    instant = _end_of_gap(wall, tz)
    return instant if instant.astimezone(tz).date() == day else None


def _end_of_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant whose wall clock is past `wall`, a time skipped by a transition."""
    # fold=1 reads the wall time with the offset after the jump, which lands before it;
    # fold=0 reads it with the offset before the jump, which lands after it.
    low = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    high = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    low, high = min(low, high), max(low, high)
    while low < high:
        middle = (low + high) // 2
        if _wall_clock(datetime.fromtimestamp(middle, UTC), tz) >= wall:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(low, UTC)


def _wall_clock(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return moment


class NextDues:
    """`next_due` for a batch of reminders at one `now`: most users share a zone and a time, so
    most answers repeat and are computed once."""

    def __init__(self, now: datetime):
        self.now = now
        self.known: dict[tuple[time, str, datetime], datetime] = {}

    def after(self, local_time: time, zone: str, due: datetime) -> datetime:
        """The send following one due at `due` (or following now, if that is later)."""
        key = (local_time, zone, max(due, self.now))
        if key not in self.known:
            self.known[key] = next_due(*key)
        return self.known[key]
