"""Shared fixtures: content loaded once, a fresh in-memory database per test, a settable clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backchain.bot.chat.services import Services, build_matcher
from backchain.bot.content import Content, load_content
from backchain.bot.understanding.matcher import Matcher
from backchain.storage import Storage

REPO = Path(__file__).resolve().parent.parent


class Clock:
    """A controllable clock: tests move time explicitly."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests use a build cache of their own, never the user's."""
    os.environ["BACKCHAIN_CACHE_DIR"] = str(tmp_path_factory.mktemp("build-cache"))


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(REPO / "content")


@pytest.fixture(scope="session")
def matcher(content: Content) -> Matcher:
    return build_matcher(content)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def services(content: Content, matcher: Matcher, clock: Clock, tmp_path: Path) -> Services:
    return Services(
        content=content,
        matcher=matcher,
        storage=Storage.open(None),
        clock=clock,
        files_dir=tmp_path / "files",
    )
