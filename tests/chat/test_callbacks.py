"""Callback data: typed classes packed and parsed in one place, and never trusted."""

import pytest
from backchain.bot.chat import callbacks
from backchain.bot.chat.callbacks import (
    CallbackData,
    ChooseFocus,
    ForgetYes,
    GentlerDone,
    Pain,
    Rate,
    ReminderTime,
    ShowTopic,
    StepDone,
    StepPress,
    SummaryDay,
    TimerEnd,
    TimerTick,
    ToolsDone,
)
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("t:show:hip-pain", ShowTopic(topic="hip-pain")),
        ("s:pain:12:before:7", Pain(session=12, when="before", score=7)),
        ("s:done:3:0", StepDone(session=3, step=0)),
        ("tm:end:3:2", TimerEnd(session=3, step=2)),
        ("tm:tick:3:2:30", TimerTick(session=3, step=2, elapsed=30)),
        ("ob:tools-done", ToolsDone()),
        ("ob:focus:lower-back", ChooseFocus(area="lower-back")),
        ("r:time:730", ReminderTime(hhmm=730)),
        ("fg:yes:29400000", ForgetYes(29400000)),
        ("s:gentle:3:1", GentlerDone(session=3, step=1)),
        ("r:week:7", SummaryDay(weekday=7)),
        ("oc:rate:peg-pain:4", Rate(item="peg-pain", score=4)),
    ],
)
def test_valid_data_parses_into_named_fields(data: str, expected: CallbackData) -> None:
    assert callbacks.parse(data) == expected
    assert expected.pack() == data


def test_fields_are_named_and_typed() -> None:
    press = callbacks.parse("s:pain:12:after:3")
    assert isinstance(press, Pain)
    assert (press.session, press.when, press.score) == (12, "after", 3)
    assert (press.namespace, press.action) == ("s", "pain")
    step = callbacks.parse("s:done:4:1")
    assert isinstance(step, StepPress) and (step.session, step.step) == (4, 1)
    assert ReminderTime(1945).hour == 19 and ReminderTime(1945).minute == 45


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
        "s:pain:1:during:5",  # not one of the allowed words
        "s:resume",  # a base class without a prefix of its own
        "zz:show:x",  # unknown namespace
        "t:drop:x",  # unknown action
        "fg:yes",  # a confirmation from before it carried its minute
        "fg:no:1",
        "t:show:" + "a" * 70,  # over 64 bytes
        "t:show:hïp",  # not ASCII
    ],
)
def test_forged_or_malformed_data_is_rejected(data: str | None) -> None:
    assert callbacks.parse(data) is None


@pytest.mark.parametrize(
    "press",
    [ShowTopic("Not An Id"), Pain(1, "during", 3), StepDone(-1, 0), ShowTopic("x" * 70)],  # type: ignore[arg-type]
)
def test_pack_refuses_what_parse_would_reject(press: CallbackData) -> None:
    with pytest.raises(ValueError):
        press.pack()


def test_build_from_parts_matches_the_classes() -> None:
    assert callbacks.build("s", "done", 3, 0) == StepDone(3, 0).pack()
    with pytest.raises(ValueError):
        callbacks.build("t", "show", "Not An Id")
    with pytest.raises(ValueError):
        callbacks.build("t", "show")


def test_parse_as_accepts_only_its_class() -> None:
    assert callbacks.parse_as(StepDone, "s:done:3:0") == StepDone(3, 0)
    assert callbacks.parse_as(StepDone, "s:skip:3:0") is None


def test_every_prefix_is_unique_and_namespaced() -> None:
    prefixes = [cls.prefix for cls in callbacks._REGISTRY.values()]
    assert len(prefixes) == len(set(prefixes))
    assert all(prefix.count(":") == 1 for prefix in prefixes)


@given(st.text(max_size=80))
def test_parse_never_raises_and_round_trips(data: str) -> None:
    press = callbacks.parse(data)
    if press is not None:
        assert press.pack() == data


@given(
    st.sampled_from(sorted(callbacks._REGISTRY)),
    st.lists(st.from_regex(r"\A[a-z0-9:-]{0,12}\Z"), max_size=4),
)
def test_parse_of_any_known_prefix_never_raises(prefix: str, parts: list[str]) -> None:
    data = ":".join([prefix, *parts])
    press = callbacks.parse(data)
    if press is not None:
        assert press.pack() == data
