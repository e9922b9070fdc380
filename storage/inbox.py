"""The durable inbox: Telegram updates kept from arrival until their handler has finished.

An update is written here before Telegram is told it arrived (the next getUpdates offset, or the
webhook's 200), and marked done when its handler returns. Whatever is still pending at start was
confirmed to Telegram but never handled: it is handled first, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backchain.storage._sqlite_utils import Database
from backchain.storage.database import write_turn
from backchain.storage.times import to_db_time

PENDING = "pending"
DONE = "done"
SKIPPED = "skipped"

# Done rows are kept a day, long enough to recognise an update Telegram sends twice.
KEEP_DONE = timedelta(days=1)


def _stamp(now: datetime | None) -> str:
    return to_db_time(now if now is not None else datetime.now(UTC))


@dataclass(frozen=True)
class StoredUpdate:
    update_id: int
    payload: dict[str, Any]


class Inbox:
    """Records incoming updates and their fate, one short transaction per call.

    The writes take the database's write lock first: StorageBusy, with nothing written, while
    another process holds it, so the caller may wait and call again.
    """

    def __init__(self, db: Database):
        self.db = db

    def accept(self, updates: Sequence[dict[str, Any]], now: datetime | None = None) -> list[int]:
        """Store the updates not seen before; the ids of those that are new, in order."""
        stamp = _stamp(now)
        new: list[int] = []
        with write_turn(self.db):
            for update in updates:
                update_id = int(update["update_id"])
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO update_inbox (update_id, payload, status, received_at)"
                    " VALUES (?, ?, ?, ?)",
                    [update_id, json.dumps(update, ensure_ascii=False), PENDING, stamp],
                )
                if cursor.rowcount:
                    new.append(update_id)
        return new

    def skip(self, update_id: int, payload: dict[str, Any], now: datetime | None = None) -> None:
        """An update that cannot be handled (the library cannot parse it): kept, never retried."""
        stamp = _stamp(now)
        with write_turn(self.db):
            self.db.execute(
                "INSERT INTO update_inbox (update_id, payload, status, received_at, done_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(update_id) DO UPDATE SET status = ?,"
                " done_at = ?",
                [
                    update_id,
                    json.dumps(payload, ensure_ascii=False),
                    SKIPPED,
                    stamp,
                    stamp,
                    SKIPPED,
                    stamp,
                ],
            )

    def done(self, update_id: int, now: datetime | None = None) -> None:
        stamp = _stamp(now)
        with write_turn(self.db):
            self.db.execute(
                # The text is dropped once handled: the inbox is no second copy of anyone's words.
                "UPDATE update_inbox SET status = ?, done_at = ?, payload = '{}'"
                " WHERE update_id = ? AND status = ?",
                [DONE, stamp, update_id, PENDING],
            )

    def pending(self) -> list[StoredUpdate]:
        """Updates confirmed to Telegram but not handled, oldest first."""
        rows = self.db.execute(
            "SELECT update_id, payload FROM update_inbox WHERE status = ? ORDER BY update_id",
            [PENDING],
        ).fetchall()
        return [StoredUpdate(int(row[0]), json.loads(row[1])) for row in rows]

    def known(self, update_ids: Iterable[int]) -> set[int]:
        """Which of these ids are already in the inbox, whatever their status."""
        ids = list(update_ids)
        if not ids:
            return set()
        marks = ",".join("?" for _ in ids)
        rows = self.db.execute(
            f"SELECT update_id FROM update_inbox WHERE update_id IN ({marks})", ids
        ).fetchall()
        return {int(row[0]) for row in rows}

    def highest_id(self) -> int | None:
        row = self.db.execute("SELECT MAX(update_id) FROM update_inbox").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, COUNT(*) FROM update_inbox GROUP BY status"
        ).fetchall()
        return {str(row[0]): int(row[1]) for row in rows}

    def prune(self, now: datetime | None = None, keep: timedelta = KEEP_DONE) -> int:
        """Forget finished updates older than `keep`, keeping the newest id as a mark."""
        cutoff = to_db_time((now if now is not None else datetime.now(UTC)) - keep)
        highest = self.highest_id()
        with write_turn(self.db):
            cursor = self.db.execute(
                "DELETE FROM update_inbox WHERE status != ? AND done_at < ? AND update_id != ?",
                [PENDING, cutoff, highest if highest is not None else -1],
            )
        return int(cursor.rowcount or 0)
