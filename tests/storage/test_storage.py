"""The database: migrations, WAL, the users and questions repositories, deleting a user."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils
from backchain.storage import StorageError, open_database
from backchain.storage.questions import QuestionLog
from backchain.storage.reminders import ReminderRepository
from backchain.storage.schema import INSTANT_COLUMNS, migrations
from backchain.storage.times import from_db_time, to_db_time
from backchain.storage.users import USER_TABLES, User, UserRepository

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def db():
    return open_database(None)


def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    first = open_database(path)
    applied = [m.name for m in migrations.applied(first)]
    first.close()
    second = open_database(path)  # a restart: nothing pending, nothing re-applied
    assert [m.name for m in migrations.applied(second)] == applied
    assert migrations.pending(second) == []
    assert second.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unopenable_database_raises_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StorageError, match="cannot open database"):
        open_database(tmp_path / "dir.db")


def test_user_profile_round_trip(db) -> None:
    users = UserRepository(db)
    user = users.ensure(1, NOW)
    assert user == User(id=1)
    user.owned_tools = ["quadballer", "footballer", "quadballer"]
    user.focus, user.onboarded = "knee", True
    users.save_profile(user)
    assert users.get(1) == User(1, "en", ["footballer", "quadballer"], "knee", True, "UTC")
    assert users.ensure(1, NOW).focus == "knee"  # ensure never overwrites


def test_conversation_state_is_per_user(db) -> None:
    users = UserRepository(db)
    users.ensure(1, NOW)
    users.ensure(2, NOW)
    users.set_state(1, {"awaiting": "timezone"}, NOW)
    assert users.state(1) == {"awaiting": "timezone"} and users.state(2) == {}


def test_question_text_is_stored_verbatim_with_parameters(db) -> None:
    UserRepository(db).ensure(1, NOW)
    log = QuestionLog(db)
    nasty = "'); DROP TABLE users; --"
    log.record(1, nasty, None, 0.0, None, NOW)
    assert log.for_user(1)[0]["text"] == nasty
    assert db["users"].count == 1


def test_delete_everything_removes_every_table_row_of_one_user_only(db) -> None:
    users = UserRepository(db)
    log = QuestionLog(db)
    for uid in (1, 2):
        users.ensure(uid, NOW)
        users.set_state(uid, {"x": 1}, NOW)
        log.record(uid, "pasta", None, 0.0, None, NOW)
        log.record_red_flag(uid, "urgent", "fever", NOW)
    users.delete_everything(1)
    for table in USER_TABLES:
        assert db.execute(f"SELECT COUNT(*) FROM [{table}] WHERE user_id = 1").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM questions WHERE user_id = 2").fetchone() == (1,)
    with pytest.raises(LookupError):
        users.get(1)


def test_every_table_with_user_data_is_covered_by_delete(db) -> None:
    with_user_id = {t for t in db.table_names() if "user_id" in db[t].columns_dict}
    assert with_user_id == set(USER_TABLES)


def test_every_instant_is_migrated_to_utc_text() -> None:
    """Rows written before one time encoding (epoch seconds, local offsets, microseconds) read
    back as the same instants, all in UTC ISO text."""
    db = sqlite_utils.Database(memory=True)
    migrations.apply(db, stop_before="m007_one_time_encoding")
    db.execute("INSERT INTO users (id, created_at) VALUES (1, '2024-05-01T09:00:00.123456+02:00')")
    db.execute(
        "INSERT INTO questions (user_id, text, asked_at) VALUES (1, 'hip?', '2024-05-01T09:30:00')"
    )
    db.execute(
        "INSERT INTO reminders (user_id, chat_id, local_time, timezone, enabled, next_due,"
        " last_sent_at) VALUES (1, 1, '07:00', 'Europe/Berlin', 1, 1714626000, 1714539600)"
    )
    migrations.apply(db)
    assert db.execute("SELECT created_at FROM users").fetchone() == ("2024-05-01T07:00:00+00:00",)
    assert db.execute("SELECT asked_at FROM questions").fetchone() == ("2024-05-01T09:30:00+00:00",)
    assert db.execute("SELECT next_due, last_sent_at FROM reminders").fetchone() == (
        "2024-05-02T05:00:00+00:00",
        "2024-05-01T05:00:00+00:00",
    )
    reminder = ReminderRepository(db).get(1)
    assert reminder is not None
    assert reminder.next_due == datetime(2024, 5, 2, 5, 0, tzinfo=UTC)
    assert [i.columns for i in db.table("reminders").indexes] == [["enabled", "next_due"]]


@pytest.mark.parametrize(
    "table, columns", [(table, columns) for table, columns in INSTANT_COLUMNS.items()]
)
def test_instant_columns_are_text(table: str, columns: tuple[str, ...]) -> None:
    types = {column.name: column.type for column in open_database(None).table(table).columns}
    assert all(types[column] == "TEXT" for column in columns)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2024, 1, 1, 23, 59, 59, 999999, tzinfo=ZoneInfo("Pacific/Kiritimati")),
    ],
)
def test_an_instant_survives_the_round_trip_to_the_second(moment: datetime) -> None:
    stored = to_db_time(moment)
    assert stored.endswith("+00:00") and len(stored) == 25
    # Compared as timestamps: PEP 495 makes a fold-1 time unequal to every other zone's.
    assert from_db_time(stored).timestamp() == moment.replace(microsecond=0).timestamp()


def test_naive_instants_are_never_stored() -> None:
    with pytest.raises(ValueError):
        to_db_time(datetime(2024, 5, 1, 7, 0))
