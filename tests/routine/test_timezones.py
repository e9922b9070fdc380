"""Finding the time zone a person typed: cities, IANA names, aliases, offsets, typos, junk."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backchain.bot.errors import ContentError
from backchain.bot.routine.timezones import (
    build_index,
    default_index,
    find_timezone,
    normalize_place,
)

ALIASES = Path(__file__).resolve().parents[2] / "content" / "timezone_aliases.yaml"

# What people type | the zone they mean (None: not a place) | how it is matched
CASES = """
berlin                  | Europe/Berlin                   | name
Berlin                  | Europe/Berlin                   | name
Europe/Berlin           | Europe/Berlin                   | name
europe/berlin           | Europe/Berlin                   | name
Berlin, Germany         | Europe/Berlin                   | name
new york                | America/New_York                | name
New_York                | America/New_York                | name
NYC                     | America/New_York                | alias
los angeles             | America/Los_Angeles             | name
LA                      | America/Los_Angeles             | alias
L.A.                    | America/Los_Angeles             | alias
san franciso            | America/Los_Angeles             | fuzzy
london                  | Europe/London                   | name
londn                   | Europe/London                   | fuzzy
sao paulo               | America/Sao_Paulo               | name
São Paulo               | America/Sao_Paulo               | name
tokio                   | Asia/Tokyo                      | fuzzy
berlni                  | Europe/Berlin                   | fuzzy
new yrok                | America/New_York                | fuzzy
Zürich                  | Europe/Zurich                   | name
München                 | Europe/Berlin                   | alias
buenos aires            | America/Argentina/Buenos_Aires  | name
st. john's              | America/St_Johns                | name
kiev                    | Europe/Kyiv                     | name
Asia/Calcutta           | Asia/Kolkata                    | name
mumbai                  | Asia/Kolkata                    | alias
Japan                   | Asia/Tokyo                      | alias
UTC                     | UTC                             | offset
utc                     | UTC                             | offset
GMT                     | UTC                             | offset
utc+0                   | UTC                             | offset
utc+2                   | Etc/GMT-2                       | offset
UTC+2                   | Etc/GMT-2                       | offset
UTC +02:00              | Etc/GMT-2                       | offset
GMT-5                   | Etc/GMT+5                       | offset
UTC−3                   | Etc/GMT+3                       | offset
+14                     | Etc/GMT-14                      | offset
utc-12                  | Etc/GMT+12                      | offset
UTC+5:30                | Asia/Kolkata                    | offset
Etc/GMT+5               | Etc/GMT+5                       | name
CET                     | Europe/Berlin                   | alias
EST                     | America/New_York                | alias
pst                     | America/Los_Angeles             | alias
qwerty                  | None                            | -
home                    | None                            | -
asdfghjkl               | None                            | -
hello world             | None                            | -
xx                      | None                            | -
                        | None                            | -
utc+15                  | None                            | -
utc-13                  | None                            | -
utc+5:17                | None                            | -
"""


def parse_cases(table: str) -> list[tuple[str, str | None, str]]:
    rows = []
    for line in table.strip("\n").splitlines():
        text, zone, how = (cell.strip() for cell in line.split("|"))
        rows.append((text, None if zone == "None" else zone, how))
    return rows


@pytest.mark.parametrize(("text", "zone", "how"), parse_cases(CASES))
def test_find_timezone(text: str, zone: str | None, how: str) -> None:
    match = find_timezone(text)
    if zone is None:
        assert match is None
        return
    assert match is not None
    assert (match.zone, match.how) == (zone, how)
    assert 0 < match.score <= 100
    assert (match.score == 100) == (how != "fuzzy")
    ZoneInfo(match.zone)  # every answer is a zone zoneinfo can load


@pytest.mark.parametrize(("typed", "hours_east"), [("UTC+2", 2), ("GMT-5", -5), ("UTC+14", 14)])
def test_offset_zones_have_the_typed_offset(typed: str, hours_east: int) -> None:
    """Etc/GMT names invert the sign; the loaded zone must still be `hours_east` of UTC."""
    match = find_timezone(typed)
    assert match is not None
    offset = datetime(2024, 1, 1, tzinfo=UTC).astimezone(ZoneInfo(match.zone)).utcoffset()
    assert offset == timedelta(hours=hours_east)


def test_normalize_place_folds_case_accents_and_punctuation() -> None:
    assert normalize_place("  São_Paulo ") == "sao paulo"
    assert normalize_place("St. John's") == "st johns"
    assert normalize_place("America/Port-au-Prince") == "america port au prince"


def test_index_is_built_once_and_lookups_are_fast() -> None:
    assert default_index() is default_index()
    queries = [text for text, _, _ in parse_cases(CASES)]
    started = time.perf_counter()
    for _ in range(20):
        for query in queries:
            find_timezone(query)
    per_query = (time.perf_counter() - started) / (20 * len(queries))
    assert per_query < 0.002


def test_the_alias_file_loads_and_every_alias_finds_its_zone() -> None:
    index = build_index(ALIASES)
    aliases = {key: zone for key, (zone, how) in index.keys.items() if how == "alias"}
    assert aliases
    for key, zone in aliases.items():
        match = find_timezone(key, index)
        assert match is not None and match.zone == zone, key


@pytest.mark.parametrize(
    ("yaml_text", "complaint"),
    [
        (
            "aliases:\n  Mars/Olympus: [olympus]\nfractional_offsets:\n  '+05:30': Asia/Kolkata\n",
            "entry 'Mars/Olympus', field 'aliases': 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            "aliases:\n  Europe/Berlin: [munich]\n  Europe/Paris: [Munich]\n"
            "fractional_offsets:\n  '+05:30': Asia/Kolkata\n",
            "alias 'Munich' already means Europe/Berlin",
        ),
        (
            "aliases:\n  Europe/Berlin: [munich]\nfractional_offsets:\n  '5:30': Asia/Kolkata\n",
            "must look like '+05:30'",
        ),
        (
            "aliases:\n  Europe/Berlin: munich\nfractional_offsets:\n  '+05:30': Asia/Kolkata\n",
            "entry 'Europe/Berlin', field 'aliases': must be a list",
        ),
        ("aliases: {}\n", "field 'aliases'"),
        ("aliases:\n  Europe/Berlin: [munich]\n", "field 'fractional_offsets': is missing"),
    ],
)
def test_a_broken_alias_file_names_the_problem(tmp_path: Path, yaml_text: str, complaint: str):
    path = tmp_path / "timezone_aliases.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        build_index(path)
    assert complaint in str(raised.value)
    assert str(path) in str(raised.value)
