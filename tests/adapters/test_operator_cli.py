"""The operator's commands (stats, backup, health) and the log formats."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
from backchain.bot.adapters.cli import main
from backchain.bot.adapters.heartbeat import beat
from backchain.bot.adapters.logsafety import JsonFormatter, TokenRedactor, redacted_token
from backchain.storage import open_database

TOKEN = "123456:ABCdefGHIjklMNOpqr"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "backchain.db"
    db = open_database(path)
    db.execute("INSERT INTO users (id, created_at) VALUES (1, '2026-11-30T00:00:00+00:00')")
    db.conn.commit()
    db.close()
    return path


def test_stats_prints_figures_and_json(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(db_path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("users: 1") and "database size" in text
    assert main(["stats", "--db", str(db_path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["users_total"] == 1
    assert set(figures["reminders"]) == {"sent", "failed", "blocked", "skipped"}


def test_stats_never_creates_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(tmp_path / "none.db")]) != 0
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_backup_writes_a_usable_copy(db_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "backups" / "copy.db"
    assert main(["backup", str(copy), "--db", str(db_path)]) == 0
    assert sqlite3.connect(copy).execute("SELECT COUNT(*) FROM users").fetchone() == (1,)
    assert main(["backup", str(copy), "--db", str(db_path)]) != 0  # never overwrites


def test_health_fails_for_a_database_the_bot_cannot_use(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beat(str(db_path))
    assert main(["health", "--db", str(db_path)]) == 0
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('backchain', 'm999_future', 'x')"
        )
    assert main(["health", "--db", str(db_path)]) != 0
    assert "newer Backchain" in capsys.readouterr().err


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("x", logging.WARNING, __file__, 1, message, args, None)


def test_token_and_its_secret_half_are_redacted() -> None:
    redactor = TokenRedactor(TOKEN)
    full = record("url %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    half = record("secret ABCdefGHIjklMNOpqr leaked")
    for item in (full, half):
        redactor.filter(item)
        assert "ABCdefGHI" not in item.getMessage()
    assert redacted_token(TOKEN) == "123456:<redacted>"


def test_json_lines_are_one_object_each() -> None:
    item = record("hello %s", "world")
    TokenRedactor(TOKEN).filter(item)
    line = JsonFormatter().format(item)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["level"] == "WARNING"


async def test_metrics_count_updates_latency_and_send_queue() -> None:
    import asyncio

    from backchain.bot.adapters.config import Settings
    from backchain.bot.adapters.telegram.app import build_application
    from prometheus_client import generate_latest
    from telegram import Update

    from tests.support.offline import RecordingRequest

    app = build_application(Settings(token=TOKEN, db_path=":memory:"), request=RecordingRequest())
    async with app:
        data = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 9, "type": "private"},
                "from": {"id": 9, "is_bot": False, "first_name": "A"},
                "text": "why does my hip hurt",
            },
        }
        update = Update.de_json(data, app.bot)
        await app.update_processor.process_update(update, app.process_update(update))
        await asyncio.sleep(0)
    text = generate_latest(app.bot_data.wiring.metrics.registry).decode()
    assert 'backchain_updates_total{kind="message"} 1.0' in text
    assert "backchain_reply_latency_seconds_count 1.0" in text
    assert "backchain_send_queue_length 0.0" in text
