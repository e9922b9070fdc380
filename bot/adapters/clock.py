"""A clock read from a file, for demos and end-to-end tests that walk through days and weeks.

The file holds one ISO 8601 time with its offset; the clock reads it on every call, so a test
moves time by rewriting the file. No file (or an empty one) means the real time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def file_clock(path: Path) -> Callable[[], datetime]:
    def now() -> datetime:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        if not text:
            return datetime.now(UTC)
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    return now
