"""Finding the IANA time zone a person means when they type a city, a zone or an offset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import available_timezones

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import Entries, Model, Text, convert, decode
from rapidfuzz import process
from rapidfuzz.distance import OSA

from backchain.text import fold

HowMatched = Literal["offset", "alias", "name", "fuzzy"]

# Nobody's city is longer than this; longer input is a sentence, not a place.
MAX_QUERY_CHARS = 64
# Below this length only exact names count: "la" or "sf" are one letter from too much.
MIN_FUZZY_CHARS = 4
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
UTC_NAMES = frozenset({"utc", "gmt", "z", "zulu", "ut", "utc0", "gmt0", "utc+0", "utc-0"})

_OFFSET = re.compile(
    r"^(?:utc|gmt|ut|z)?(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$"
)
_FRACTIONAL_KEY = re.compile(r"^[+-]\d{2}:\d{2}$")
_SEPARATORS = re.compile(r"[\s_/.,\-()]+")


@dataclass(frozen=True)
class ZoneMatch:
    zone: str  # an IANA name zoneinfo.ZoneInfo accepts
    score: float  # 0-100; 100 for exact names, aliases and offsets
    how: HowMatched


@dataclass(frozen=True)
class TimezoneIndex:
    """Everything `find_timezone` looks up, built once."""

    iana_names: dict[str, str]  # casefolded IANA name -> canonical zone
    keys: dict[str, tuple[str, HowMatched]]  # normalised place name -> zone, alias or name
    keys_by_initial: dict[str, list[str]]  # fuzzy candidates, best-first within each letter
    fractional_offsets: dict[int, str]  # minutes east of UTC -> zone


def normalize_place(text: str) -> str:
    """Lower-case ASCII words: "São_Paulo" and "sao paulo" give the same key."""
    return " ".join(_SEPARATORS.sub(" ", fold(text).replace("'", "")).split())


def find_timezone(text: str, index: TimezoneIndex | None = None) -> ZoneMatch | None:
    """The zone `text` most likely names ("berlin", "NYC", "tokio", "UTC+2"), or None."""
    index = index or default_index()
    text = text.strip()
    if not text or len(text) > MAX_QUERY_CHARS:
        return None
    # "Berlin, Germany": the whole text first, then each comma-separated part.
    parts = [text, *(part for part in text.split(",") if part.strip())] if "," in text else [text]
    for part in parts:
        match = _match_offset(part, index) or _match_name(part, index)
        if match is not None:
            return match
    return None


def _match_offset(text: str, index: TimezoneIndex) -> ZoneMatch | None:
    compact = fold(text).replace(" ", "")
    if compact in UTC_NAMES:
        return ZoneMatch("UTC", 100.0, "offset")
    found = _OFFSET.match(compact)
    if found is None:
        return None
    sign = 1 if found["sign"] == "+" else -1
    hours, minutes = int(found["hours"]), int(found["minutes"] or 0)
    if minutes:
        zone = index.fractional_offsets.get(sign * (hours * 60 + minutes))
        return ZoneMatch(zone, 100.0, "offset") if zone else None
    if hours == 0:
        return ZoneMatch("UTC", 100.0, "offset")
    if sign > 0 and hours > 14 or sign < 0 and hours > 12:
        return None
    # POSIX-style names invert the sign: Etc/GMT-2 is two hours *east* of Greenwich (UTC+2).
    return ZoneMatch(f"Etc/GMT{'-' if sign > 0 else '+'}{hours}", 100.0, "offset")


def _match_name(text: str, index: TimezoneIndex) -> ZoneMatch | None:
    query = normalize_place(text)
    if not query:
        return None
    if query in index.keys and index.keys[query][1] == "alias":
        return ZoneMatch(index.keys[query][0], 100.0, "alias")
    iana = index.iana_names.get(fold(text))
    if iana is not None:
        return ZoneMatch(iana, 100.0, "name")
    if query in index.keys:
        zone, how = index.keys[query]
        return ZoneMatch(zone, 100.0, how)
    return _match_fuzzy(query, index)


def _match_fuzzy(query: str, index: TimezoneIndex) -> ZoneMatch | None:
    if len(query) < MIN_FUZZY_CHARS:
        return None
    # Typos rarely hit the first letter, and requiring it keeps "home" from meaning Rome.
    candidates = index.keys_by_initial.get(query[0], [])
    allowed_edits = 1 if len(query) <= 7 else 2 if len(query) <= 12 else 3
    best = process.extractOne(
        query, candidates, scorer=OSA.distance, processor=None, score_cutoff=allowed_edits
    )
    if best is None:
        return None
    key, edits, _ = best
    score = round(100.0 * (1 - edits / max(len(query), len(key))), 1)
    return ZoneMatch(index.keys[key][0], score, "fuzzy")


@cache
def default_index() -> TimezoneIndex:
    """The index over the installed zones and the packaged alias file, built on first use."""
    return build_index(Path(str(resources.files("backchain.content"))) / "timezone_aliases.yaml")


def build_index(aliases_path: Path) -> TimezoneIndex:
    """Index every installed IANA zone plus the aliases in `aliases_path`."""
    zones = available_timezones() - NOT_PLACES
    links = _zone_links(zones)
    aliases, fractional = load_timezone_aliases(aliases_path, zones)
    keys: dict[str, tuple[str, HowMatched]] = {}
    for alias, zone in aliases.items():
        keys.setdefault(alias, (links.get(zone, zone), "alias"))
    # Canonical zones claim a place name before the old link names that share it.
    for name in sorted(zones, key=lambda zone: (zone in links, zone)):
        canonical = links.get(name, name)
        if canonical.startswith("Etc/") or name.startswith("Etc/"):
            continue
        for key in _place_keys(name):
            keys.setdefault(key, (canonical, "name"))
    by_initial: dict[str, list[str]] = {}
    for key in keys:
        by_initial.setdefault(key[0], []).append(key)
    return TimezoneIndex(
        iana_names={fold(name): _public_name(links.get(name, name)) for name in zones},
        keys=keys,
        keys_by_initial=by_initial,
        fractional_offsets=fractional,
    )


Names = Annotated[list[Text], msgspec.Meta(min_length=1)]


class _AliasFile(Model, frozen=True):
    aliases: Entries  # IANA zone -> the names that mean it, each list read as `Names`
    fractional_offsets: Annotated[dict[str, str], msgspec.Meta(min_length=1)]


def load_timezone_aliases(path: Path, zones: set[str]) -> tuple[dict[str, str], dict[int, str]]:
    """Aliases (normalised alias -> zone) and fractional offsets (minutes -> zone), validated."""
    data, _ = decode(path, _AliasFile)
    file = str(path)
    aliases: dict[str, str] = {}
    for zone, raw_names in data.aliases.items():
        _require_zone(zone, zones, file, zone, "aliases")
        for name in convert(raw_names, Names, file, zone, "aliases"):
            key = normalize_place(name)
            if not key:
                raise ContentError(file, f"alias {name!r} has no letters", zone, "aliases")
            owner = aliases.setdefault(key, zone)
            if owner != zone:
                raise ContentError(file, f"alias '{name}' already means {owner}", zone, "aliases")
    fractional: dict[int, str] = {}
    for offset, zone in data.fractional_offsets.items():
        if not _FRACTIONAL_KEY.match(offset):
            raise ContentError(file, "must look like '+05:30'", offset, "fractional_offsets")
        _require_zone(zone, zones, file, offset, "fractional_offsets")
        sign = -1 if offset.startswith("-") else 1
        fractional[sign * (int(offset[1:3]) * 60 + int(offset[4:6]))] = zone
    return aliases, fractional


def _require_zone(zone: str, zones: set[str], file: str, entry: str, field: str) -> None:
    if zone not in zones:
        raise ContentError(file, f"{zone!r} is not an IANA time zone", entry, field)


def _place_keys(zone: str) -> list[str]:
    """Keys for "America/Argentina/Buenos_Aires": the city, "argentina buenos aires", the full."""
    parts = zone.split("/")
    keys = [normalize_place(parts[-1]), normalize_place(zone)]
    if len(parts) > 2:
        keys.append(normalize_place("/".join(parts[1:])))
    return [key for key in keys if key]


def _public_name(zone: str) -> str:
    return "UTC" if zone in ("Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Universal", "Etc/Zulu") else zone


def _zone_links(zones: set[str]) -> dict[str, str]:
    """Old names (US/Eastern, Asia/Calcutta, Japan) -> the zone they now point to."""
    try:
        source = resources.files("tzdata").joinpath("zoneinfo/tzdata.zi").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    links: dict[str, str] = {}
    for line in source.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L" and fields[1] in zones and fields[2] in zones:
            links[fields[2]] = fields[1]
    return links
