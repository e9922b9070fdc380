"""Typed pain ratings and commands with arguments, read in one place each."""

from __future__ import annotations

import pytest
from backchain.bot.understanding.commands import Command, parse_command
from backchain.bot.understanding.pain import parse_pain


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("6", 6),
        ("6/10", 6),
        ("6 / 10", 6),
        ("about a 6 i guess", 6),
        ("maybe 7 out of 10", 7),
        ("six out of ten", 6),
        ("0", 0),
        ("none", 0),
        ("10!", 10),
        ("its a 3 today", 3),
        ("11", None),
        ("12/10", None),
        ("-1", None),
        ("2 or 3", None),
        ("3 days", None),
        ("at 7pm", None),
        ("7:30", None),
        ("how long?", None),
        ("", None),
        ("my pain has been about a 6 for the last couple of weeks now honestly", None),
    ],
)
def test_parse_pain(text: str, rating: int | None) -> None:
    assert parse_pain(text) == rating


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/remind 7:30", Command("remind", "7:30")),
        ("/remind   off ", Command("remind", "off")),
        ("/timezone UTC+2", Command("timezone", "UTC+2")),
        ("/Timezone new   york", Command("timezone", "new york")),
        ("/start@BackchainBot", Command("start")),
        ("/start@BackchainBot hello", Command("start", "hello")),
        ("/help", Command("help")),
        ("hello", None),
        ("/", None),
        ("/ remind", None),
        ("7/10", None),
    ],
)
def test_parse_command(text: str, command: Command | None) -> None:
    assert parse_command(text) == command
