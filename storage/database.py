"""Opening the database: WAL mode, foreign keys, and the schema migrated on start."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from backchain.storage import schema
from backchain.storage._sqlite_utils import sqlite_utils
from backchain.storage.errors import StorageBusy, StorageError
from backchain.storage.schema import migrations

__all__ = ["StorageBusy", "StorageError", "is_busy", "open_database", "write_turn"]

# How long a statement waits for another connection's lock before SQLITE_BUSY.
BUSY_TIMEOUT_MS = 30_000
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def open_database(
    path: str | Path | None = None,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    schema_cache: Path | None = None,
) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path`, or an in-memory one for None/":memory:".

    `busy_timeout_ms` is how long one statement waits for a lock held by another connection:
    long for a command-line tool, a few milliseconds on an event loop that waits elsewhere.

    `schema_cache`, a folder, speeds up an in-memory database: its empty, migrated schema is
    copied from a template kept there (see `schema_template`) instead of running every
    migration; the first open writes the template.

    Raises StorageError, with one line that says why, for a file that cannot be written or that
    a newer version of Backchain has migrated: either would fail on the first message instead.
    """
    try:
        template, copied = None, False
        if path is None or str(path) == ":memory:":
            template = None if schema_cache is None else schema_template(schema_cache)
            db, copied = _from_template(template)
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: the Telegram adapter runs one asyncio loop, but the
            # reminder ticker and the chart renderer may run in worker threads.
            conn = sqlite3.connect(
                str(path), check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
            db = _database(conn)
            db.enable_wal()
            # In WAL mode NORMAL keeps every commit across a process crash (SIGKILL included)
            # and fsyncs at checkpoints only; a power cut may lose the last few commits.
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        # Start-up waits as long as a tool would; the caller's patience applies afterwards.
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        check_usable(db)
        migrations.apply(db)  # nothing to do on a copied template
        if template is not None and not copied:
            _store_template(db, template)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return db


def _database(
    conn: sqlite3.Connection | None = None, memory: bool = False
) -> sqlite_utils.Database:
    # execute_plugins=False: sqlite-utils plugins extend its command line; installed ones must
    # not change the bot's connections, and finding them reads every installed package's
    # metadata (tens of milliseconds at start).
    return sqlite_utils.Database(conn, memory=memory, execute_plugins=False)


def schema_template(folder: Path) -> Path:
    """Where an empty database migrated by this version is kept in `folder`: its name is a hash
    of the migrations' names, of the schema's code and of the SQLite and sqlite-utils that ran
    them, so a new migration or release never copies a stale schema."""
    digest = hashlib.sha256(sqlite3.sqlite_version.encode())
    digest.update("\0".join(m.name for m in migrations._migrations).encode())
    for module in (schema, sqlite_utils.db):
        digest.update(Path(str(module.__file__)).read_bytes())
    return folder / f"schema-{digest.hexdigest()[:32]}.sqlite"


def _from_template(template: Path | None) -> tuple[sqlite_utils.Database, bool]:
    """An in-memory database, and whether it holds a copy of `template` (a file that could be
    read); otherwise it is empty, to be migrated from scratch."""
    db = _database(memory=True)
    if template is None:
        return db, False
    try:
        source = sqlite3.connect(f"{template.resolve().as_uri()}?mode=ro", uri=True)
        try:
            source.backup(db.conn)
        finally:
            source.close()
    except (sqlite3.Error, OSError):  # none yet, or unreadable: it will be written again
        db.close()
        return _database(memory=True), False
    return db, True


def _store_template(db: sqlite_utils.Database, template: Path) -> None:
    """Write `db`'s schema as `template`; a folder that cannot be written just means no template.
    Written aside and renamed: a reader never sees half a file, two writers never mix."""
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        handle, aside = tempfile.mkstemp(dir=template.parent, suffix=".sqlite")
        os.close(handle)
        try:
            target = sqlite3.connect(aside)
            try:
                db.conn.backup(target)
            finally:
                target.close()
            os.replace(aside, template)
        finally:
            Path(aside).unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        pass


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (or StorageBusy): another connection holds it."""
    if isinstance(exc, StorageBusy):
        return True
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorcode", None) in _BUSY_CODES or "locked" in str(exc)
    )


@contextlib.contextmanager
def write_turn(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction around a whole turn, its lock taken up front.

    Raises StorageBusy before anything is done when another connection holds the write lock, so
    the turn can simply be tried again. The repositories' own transactions nest inside as
    savepoints; an error anywhere rolls the whole turn back.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise StorageBusy(f"database is locked: {exc}") from exc
        raise
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        db.rollback()
        if is_busy(exc):
            raise StorageBusy(f"database is locked: {exc}") from exc
        raise


def unknown_migrations(db: sqlite_utils.Database) -> list[str]:
    """Migrations recorded in the file that this version does not know (a newer schema)."""
    if not db["_sqlite_migrations"].exists():
        return []
    known = {m.name for m in migrations._migrations}
    applied = [m.name for m in migrations.applied(db)]
    return [name for name in applied if name not in known]


def check_usable(db: sqlite_utils.Database) -> None:
    """StorageError unless the file can be written and its schema is one this version knows."""
    newer = unknown_migrations(db)
    if newer:
        raise StorageError(
            f"the database was migrated by a newer Backchain ({', '.join(newer)}); "
            "upgrade Backchain or restore a backup"
        )
    # A write that is rolled back: fails at once on a read-only file or folder.
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE _backchain_write_probe (x)")
    except sqlite3.OperationalError as exc:
        raise StorageError(f"the database cannot be written: {exc}") from exc
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def backup_database(source: sqlite_utils.Database, destination: str | Path) -> int:
    """A consistent copy of a live database with SQLite's online backup API; its size in bytes.

    Safe while the bot runs: the copy is one snapshot, whatever is written meanwhile.
    """
    target_path = Path(destination)
    if target_path.exists():
        raise StorageError(f"{target_path} already exists: choose a new file")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sqlite3.connect(str(target_path)) as target:
            source.conn.backup(target, pages=1024)
        target.close()
    except sqlite3.Error as exc:
        raise StorageError(f"backup to {target_path} failed: {exc}") from exc
    return target_path.stat().st_size
