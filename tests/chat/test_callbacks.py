"""Callback data is parsed in one place and never trusted."""

import pytest
from backchain.bot.chat import callbacks
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("t:show:hip-pain", ("t", "show", ("hip-pain",))),
        ("s:pain:12:before:7", ("s", "pain", (12, "before", 7))),
        ("s:done:3:0", ("s", "done", (3, 0))),
        ("ob:tools-done", ("ob", "tools-done", ())),
        ("r:time:730", ("r", "time", (730,))),
        ("fg:yes", ("fg", "yes", ())),
    ],
)
def test_valid_data_parses(data: str, expected: tuple) -> None:
    press = callbacks.parse(data)
    assert press is not None
    assert (press.namespace, press.action, press.args) == expected


@pytest.mark.parametrize(
    "data",
    [
        "",
        None,
        "t",
        "t:show",  # missing argument
        "t:show:hip-pain:extra",  # too many
        "t:show:Hip Pain",  # not an id
        "t:show:../../etc",
        "s:done:abc:0",  # not a number
        "s:done:-1:0",
        "s:done:1:99999999999",  # number too long
        "zz:show:x",  # unknown namespace
        "t:drop:x",  # unknown action
        "fg:yes:1",
        "t:show:" + "a" * 70,  # over 64 bytes
        "t:show:hïp",  # not ASCII
    ],
)
def test_forged_or_malformed_data_is_rejected(data: str | None) -> None:
    assert callbacks.parse(data) is None


def test_build_refuses_what_parse_would_reject() -> None:
    with pytest.raises(ValueError):
        callbacks.build("t", "show", "Not An Id")


@given(st.text(max_size=80))
def test_parse_never_raises(data: str) -> None:
    press = callbacks.parse(data)
    if press is not None:
        assert callbacks.build(press.namespace, press.action, *press.args) == data
