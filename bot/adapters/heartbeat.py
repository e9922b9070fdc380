"""A file the running bot touches on every reminder tick, for container health checks."""

from __future__ import annotations

from pathlib import Path


def heartbeat_path(db_path: str) -> Path:
    if db_path == ":memory:":
        return Path(".backchain.heartbeat")
    return Path(db_path).with_suffix(".heartbeat")


def beat(db_path: str) -> None:
    path = heartbeat_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
