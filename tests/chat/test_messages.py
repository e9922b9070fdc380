"""Every message the code asks for exists in content/messages.yaml, and none is left unused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from backchain.bot.chat.answers import SUGGESTED_FACETS
from backchain.bot.chat.conversation import COMMANDS
from backchain.bot.chat.messages import load_messages
from backchain.bot.chat.onboarding import FOCUS_AREAS
from backchain.bot.chat.progress import SUMMARY_LABELS, TREND_KEYS
from backchain.bot.chat.weekly import TREND_WORDS as WEEKLY_TRENDS
from backchain.bot.content import Content
from backchain.bot.errors import ContentError
from backchain.bot.understanding.redflags import LEVELS
from backchain.bot.understanding.topics import GROUPS
from backchain.storage.outcomes import PEG_ITEMS, SCALES

BOT = Path(__file__).resolve().parents[2] / "bot"
LITERAL_KEY = re.compile(r"""(?:msg|messages|_note)\(\s*["']([a-z0-9_\-]+)["']""")


def literal_keys() -> set[str]:
    keys: set[str] = set()
    for path in BOT.rglob("*.py"):
        keys.update(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    return keys


def dynamic_keys() -> set[str]:
    return (
        {f"cmd_{name}" for name in COMMANDS}
        | {f"focus_{area}" for area in FOCUS_AREAS}
        | {f"group_{group}" for group in GROUPS}
        | {f"red_flag_heading_{level}" for level in LEVELS}
        | {f"red_flag_follow_up_{level}" for level in LEVELS}
        | {f"facet_button_{facet}" for facet in SUGGESTED_FACETS}
        | {f"pain_{when}_question" for when in ("before", "after")}
        | set(TREND_KEYS.values())
        | {"step_time_sides", "step_time_both", "step_time_left", "step_time_right"}
        | {f"side_{side}" for side in ("left", "right", "both")}
        | {f"peg_item_{item}" for item in PEG_ITEMS}
        | {f"page_{key}" for key in SUMMARY_LABELS}
        | {f"{kind}_{scale}" for kind in ("chart", "progress") for scale in SCALES}
        | {f"checkin_peg_{item}" for item in PEG_ITEMS}
        | {f"weekly_change_held_{scale}" for scale in SCALES}
        | {f"weekday_{n}" for n in range(7)}
        | set(WEEKLY_TRENDS.values())
        | {"psfs_intro", "psfs_more"}
        | {f"step_closed_{how}" for how in ("done", "skipped", "gentle", "left")}
        | {"step_time_up"}
        | {"button_psfs_skip", "button_psfs_done"}
        | {
            f"{word}_{form}"
            for word in ("steps", "minutes", "seconds", "sessions", "weeks")
            for form in ("one", "many")
        }
    )


def used_keys(content: Content) -> set[str]:
    """Keys the code names, plus those the small-talk file points at."""
    return literal_keys() | dynamic_keys() | set(content.smalltalk.replies.values())


def test_every_key_the_code_uses_exists(content: Content) -> None:
    used = used_keys(content)
    assert len(used) > 60
    missing = sorted(k for k in used if k not in content.messages)
    assert missing == []


def test_no_message_is_unused(content: Content) -> None:
    used = used_keys(content)
    assert sorted(set(content.messages.keys()) - used) == []


def test_values_are_html_escaped(content: Content) -> None:
    text = content.messages("reminders_on", time="<b>", zone="A&B")
    assert "&lt;b&gt;" in text and "A&amp;B" in text


def test_counted_words(content: Content) -> None:
    assert content.messages.count("steps", 1) == "1 step"
    assert content.messages.count("steps", 4) == "4 steps"


def test_missing_key_names_the_file(content: Content) -> None:
    with pytest.raises(ContentError, match="messages.yaml: entry 'no-such-key'"):
        content.messages("no-such-key")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("greeting: ''\n", "non-empty"),
        ("greeting: 'Hi {name'\n", "placeholder"),
        ("- a list\n", "mapping"),
        ("greeting: [unclosed\n", "not valid YAML"),
    ],
)
def test_broken_messages_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "messages.yaml"
    path.write_text(text)
    with pytest.raises(ContentError, match=problem):
        load_messages(path)
