"""Opening storage quickly: sqlite-utils without numpy, and in-memory schemas from a template."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from backchain.storage import open_database
from backchain.storage.database import schema_template
from backchain.storage.schema import migrations
from backchain.storage.users import User, UserRepository

STORAGE = Path(__file__).resolve().parents[2] / "storage"
NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def run_fresh(script: str) -> None:
    """`script` in a new interpreter: numpy's state there is the script's own."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_storage_imports_without_numpy_and_numpy_and_charts_work_afterwards() -> None:
    run_fresh(
        """
import io, sys
from datetime import UTC, datetime
from backchain.storage import Storage
storage = Storage.open(None)
storage.users.ensure(1, datetime(2026, 5, 1, tzinfo=UTC))
assert storage.users.exists(1)
assert "numpy" not in sys.modules and "pandas" not in sys.modules, "numpy was imported"
import numpy
assert int(numpy.arange(4).sum()) == 6
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure
figure = Figure()
figure.subplots().plot(numpy.arange(3), [3, 1, 2])
png = io.BytesIO()
figure.savefig(png, format="png")
assert png.getvalue().startswith(b"\\x89PNG")
storage.users.ensure(2, datetime(2026, 5, 1, tzinfo=UTC))
assert storage.users.exists(2)
"""
    )


def test_numpy_imported_first_is_left_as_it_is() -> None:
    run_fresh(
        """
import numpy
from backchain.storage import Storage
import sqlite_utils.db
assert sqlite_utils.db.np is numpy
Storage.open(None)
"""
    )


def test_every_storage_module_takes_sqlite_utils_from_the_one_shim() -> None:
    direct = []
    for path in sorted(STORAGE.glob("*.py")):
        if path.name == "_sqlite_utils.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            direct += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "sqlite_utils"]
    assert direct == []


def schema_of(db) -> list[tuple[str, str]]:
    return db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_an_in_memory_database_from_the_template_is_the_migrated_schema(tmp_path: Path) -> None:
    migrated = open_database(None)
    first = open_database(None, schema_cache=tmp_path)  # migrates and writes the template
    assert [p.name for p in tmp_path.iterdir()] == [schema_template(tmp_path).name]
    second = open_database(None, schema_cache=tmp_path)  # copies it
    for db in (first, second):
        assert schema_of(db) == schema_of(migrated)
        assert [m.name for m in migrations.applied(db)] == [m.name for m in migrations._migrations]
        assert migrations.pending(db) == []
        assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    UserRepository(second).ensure(1, NOW)
    assert UserRepository(second).get(1) == User(id=1)
    third = open_database(None, schema_cache=tmp_path)
    assert third["users"].count == 0  # each copy is a database of its own


def test_a_damaged_template_is_ignored_and_written_again(tmp_path: Path) -> None:
    template = schema_template(tmp_path)
    template.write_bytes(b"not a database at all")
    db = open_database(None, schema_cache=tmp_path)
    assert schema_of(db) == schema_of(open_database(None))
    assert template.read_bytes().startswith(b"SQLite format 3\0")


def test_a_folder_that_cannot_be_written_means_no_template(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    db = open_database(None, schema_cache=blocked)
    assert schema_of(db) == schema_of(open_database(None))


def test_a_new_migration_names_a_new_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = schema_template(tmp_path)
    added = [*migrations._migrations, SimpleNamespace(name="m999_later")]
    monkeypatch.setattr(migrations, "_migrations", added)
    assert schema_template(tmp_path) != before
