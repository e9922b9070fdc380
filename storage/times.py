"""The one time encoding of the database: every instant is ISO 8601 text in UTC, to the second
("2024-05-01T07:00:00+00:00"). One fixed width and one offset make text order time order, so
range queries and indexes work on the text; conversion happens only here, at the edge."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db_time(moment: datetime) -> str:
    """An aware datetime as stored; a naive one is refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str) -> datetime:
    """A stored instant, aware and in UTC. Rows older than this encoding are read too."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def maybe_from_db_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def canonical(value: object) -> str | None:
    """Any instant the database ever held (epoch seconds, ISO text with any offset or none,
    read as UTC) in today's encoding; None stays None. For migrations."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or str(value).isdigit():
        return to_db_time(datetime.fromtimestamp(int(str(value)), UTC))
    return to_db_time(from_db_time(str(value)))
