"""Reminder times: parsing, and the next send instant across DST, midnight and the date line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from backchain.bot.routine.schedule import (
    format_time_of_day,
    local_date,
    next_due,
    next_due_after_today,
    parse_stored_time,
    parse_time_of_day,
)

PARSE_CASES = [
    ("7:30", time(7, 30)),
    ("07:30", time(7, 30)),
    ("19:00", time(19, 0)),
    ("0:05", time(0, 5)),
    ("23:59", time(23, 59)),
    ("7pm", time(19, 0)),
    ("7 pm", time(19, 0)),
    ("7PM", time(19, 0)),
    ("7 p.m.", time(19, 0)),
    ("7.30pm", time(19, 30)),
    ("7:30 am", time(7, 30)),
    ("12am", time(0, 0)),
    ("12pm", time(12, 0)),
    ("12:15am", time(0, 15)),
    ("noon", time(12, 0)),
    (" Noon ", time(12, 0)),
    ("midnight", time(0, 0)),
    ("19h", time(19, 0)),
    ("19h30", time(19, 30)),
    ("7", time(7, 0)),
    ("0730", time(7, 30)),
    ("25:00", None),
    ("24:00", None),
    ("7:75", None),
    ("7:5", None),
    ("13pm", None),
    ("0am", None),
    ("7m", None),
    ("123", None),
    ("", None),
    ("tomorrow", None),
    ("7:30:00", None),
    ("-7:30", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_time_of_day(text: str, expected: time | None) -> None:
    assert parse_time_of_day(text) == expected


def test_stored_form_round_trips() -> None:
    assert format_time_of_day(time(7, 5)) == "07:05"
    assert parse_stored_time("07:05") == time(7, 5)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def wall(moment: datetime, zone: str) -> str:
    """The local wall clock with its offset, e.g. "2024-03-31T03:00:00+02:00"."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()


# zone | local time | after (UTC) | the send on the local wall clock | why
NEXT_DUE_TABLE = """
Europe/Berlin      | 07:00 | 2024-05-01 04:00 | 2024-05-01T07:00:00+02:00 | today
Europe/Berlin      | 07:00 | 2024-05-01 05:00 | 2024-05-02T07:00:00+02:00 | exactly due: not after
Europe/Berlin      | 07:00 | 2024-05-01 06:00 | 2024-05-02T07:00:00+02:00 | tomorrow
# Spring forward: 02:00 -> 03:00 on 31 March 2024; 02:30 does not exist that day.
Europe/Berlin      | 02:30 | 2024-03-30 12:00 | 2024-03-31T03:00:00+02:00 | gap: at the jump
Europe/Berlin      | 02:30 | 2024-03-31 01:00 | 2024-04-01T02:30:00+02:00 | after the gap
Europe/Berlin      | 07:00 | 2024-03-30 12:00 | 2024-03-31T07:00:00+02:00 | jump day, no gap
# Fall back: 03:00 -> 02:00 on 27 October 2024; 02:30 happens twice.
Europe/Berlin      | 02:30 | 2024-10-26 12:00 | 2024-10-27T02:30:00+02:00 | fold: first one
Europe/Berlin      | 02:30 | 2024-10-27 00:30 | 2024-10-28T02:30:00+01:00 | fold: not twice
America/New_York   | 02:30 | 2024-03-09 12:00 | 2024-03-10T03:00:00-04:00 | gap: at the jump
America/New_York   | 01:30 | 2024-11-02 12:00 | 2024-11-03T01:30:00-04:00 | fold: first one
America/New_York   | 01:30 | 2024-11-03 05:30 | 2024-11-04T01:30:00-05:00 | fold: not twice
America/New_York   | 08:00 | 2024-11-02 13:00 | 2024-11-03T08:00:00-05:00 | new offset, same wall
# Midnight, new year, leap day.
Europe/Berlin      | 00:00 | 2024-05-01 21:59 | 2024-05-02T00:00:00+02:00 | midnight, just before
Europe/Berlin      | 00:00 | 2024-05-01 22:00 | 2024-05-03T00:00:00+02:00 | midnight, exactly
UTC                | 00:00 | 2024-12-31 23:59 | 2025-01-01T00:00:00+00:00 | new year
UTC                | 23:59 | 2024-02-28 23:59 | 2024-02-29T23:59:00+00:00 | leap day
# Havana springs forward at midnight: 00:00 -> 01:00 on 10 March 2024.
America/Havana     | 00:30 | 2024-03-09 12:00 | 2024-03-10T01:00:00-04:00 | gap at midnight
# Far east and far west: the same UTC instant falls on two different local dates.
Pacific/Kiritimati | 07:00 | 2024-01-01 12:00 | 2024-01-02T07:00:00+14:00 | UTC+14
Pacific/Kiritimati | 00:00 | 2024-01-01 09:59 | 2024-01-02T00:00:00+14:00 | UTC+14 midnight
Pacific/Pago_Pago  | 07:00 | 2024-01-01 12:00 | 2024-01-01T07:00:00-11:00 | UTC-11
Pacific/Pago_Pago  | 23:00 | 2024-01-01 12:00 | 2024-01-01T23:00:00-11:00 | UTC-11, next UTC day
# Samoa crossed the date line: 30 December 2011 never happened in Apia.
Pacific/Apia       | 08:00 | 2011-12-29 19:00 | 2011-12-31T08:00:00+14:00 | skipped date
Asia/Kolkata       | 07:00 | 2024-05-01 00:00 | 2024-05-01T07:00:00+05:30 | half-hour offset
"""


def next_due_cases() -> list[tuple[str, time, datetime, str, str]]:
    cases = []
    for line in NEXT_DUE_TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        zone, clock, after, expected, why = (cell.strip() for cell in line.split("|"))
        after_utc = datetime.fromisoformat(after).replace(tzinfo=UTC)
        cases.append((zone, time.fromisoformat(clock), after_utc, expected, why))
    return cases


NEXT_DUE_CASES = next_due_cases()


@pytest.mark.parametrize(
    ("zone", "local_time", "after", "expected", "why"),
    NEXT_DUE_CASES,
    ids=[case[-1] + f" ({case[0]})" for case in NEXT_DUE_CASES],
)
def test_next_due(zone: str, local_time: time, after: datetime, expected: str, why: str) -> None:
    due = next_due(local_time, zone, after)
    assert due.tzinfo is UTC
    assert due > after
    assert wall(due, zone) == expected


@pytest.mark.parametrize(
    ("zone", "local_time", "start"),
    [
        ("Europe/Berlin", time(2, 30), utc(2024, 3, 25)),
        ("Europe/Berlin", time(2, 30), utc(2024, 10, 20)),
        ("America/New_York", time(1, 30), utc(2024, 10, 28)),
        ("America/New_York", time(2, 30), utc(2024, 3, 5)),
        ("Pacific/Apia", time(8, 0), utc(2011, 12, 25)),
        ("Pacific/Kiritimati", time(0, 0), utc(2024, 1, 1)),
    ],
)
def test_a_month_of_sends_is_one_per_local_date(zone: str, local_time: time, start: datetime):
    """Chained sends over a month: strictly increasing, never two on the same local date."""
    sends = [next_due(local_time, zone, start)]
    for _ in range(30):
        sends.append(next_due(local_time, zone, sends[-1]))
    dates = [local_date(moment, zone) for moment in sends]
    assert sends == sorted(sends)
    assert len(set(dates)) == len(dates)
    gaps = {later - earlier for earlier, later in zip(sends, sends[1:], strict=False)}
    assert all(timedelta(hours=22) <= gap <= timedelta(hours=48) for gap in gaps)


def test_next_due_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        next_due(time(7, 0), "UTC", datetime(2024, 5, 1, 6, 0))


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (utc(2024, 1, 1, 12, 0), "Pacific/Kiritimati", date(2024, 1, 2)),
        (utc(2024, 1, 1, 10, 0), "Pacific/Pago_Pago", date(2023, 12, 31)),
        (utc(2024, 5, 1, 22, 30), "Europe/Berlin", date(2024, 5, 2)),
        (utc(2024, 5, 1, 22, 30), "UTC", date(2024, 5, 1)),
    ],
)
def test_local_date(now: datetime, zone: str, expected: date) -> None:
    assert local_date(now, zone) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2024, 5, 1, 4, 0), "2024-05-02T07:00:00+02:00"),  # before today's time
        (utc(2024, 5, 1, 6, 0), "2024-05-02T07:00:00+02:00"),  # after today's time
        (utc(2024, 5, 1, 22, 30), "2024-05-03T07:00:00+02:00"),  # already tomorrow locally
    ],
)
def test_next_due_after_today_skips_the_rest_of_the_local_day(now: datetime, expected: str):
    assert wall(next_due_after_today(time(7, 0), "Europe/Berlin", now), "Europe/Berlin") == expected
