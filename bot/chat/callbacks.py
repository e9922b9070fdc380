"""Callback data: built and parsed in one place, never trusted.

Format: `<namespace>:<action>[:<arg>...]`, ASCII, at most 64 bytes (Telegram's limit).
Anything that does not parse into a known shape is rejected and the user is told the
button has expired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_INT = re.compile(r"^(?:0|[1-9][0-9]{0,8})$")

# namespace -> action -> the kinds of its arguments
_SHAPES: dict[str, dict[str, tuple[str, ...]]] = {
    "t": {"show": ("id",)},  # show a topic
    "g": {"show": ("id",)},  # browse a topic group
    "ob": {"tool": ("id",), "tools-done": (), "focus": ("id",)},  # onboarding / profile
    "fg": {"yes": (), "no": ()},  # forget me
    "hs": {  # health screen
        "t": ("id",),  # toggle a condition
        "none": (),
        "done": (),
        "side": ("id", "id"),  # condition, left|right|both
        "add": ("id",),  # yes to an offer made from free text
        "add-side": ("id", "id"),
        "no": ("id",),
        "doctor-ok": (),
        "open": (),  # /health from a button
    },
    "s": {  # guided session
        "new": (),
        "resume": ("int",),
        "over": ("int",),
        "pain": ("int", "id", "int"),  # session, before|after, score
        "timer": ("int", "int"),
        "more": ("int", "int"),  # the step's full texts
        "done": ("int", "int"),
        "skip": ("int", "int"),
        "hurt": ("int", "int"),
        "stop": ("int",),
        "checked": (),  # a doctor has checked me since the warning
        "notyet": (),
        "gentle": ("int", "int"),  # did the gentler way of a painful step
        "move": ("int", "int"),  # leave a painful area for today
    },
    # timer events, fed back by adapters: session, step (, seconds since the start)
    "tm": {"tick": ("int", "int", "int"), "end": ("int", "int")},
    "r": {  # reminders, rest-day notes and the weekly summary day
        "time": ("int",),
        "off": (),
        "start": (),
        "snooze": (),
        "skip": (),
        "rest": ("int",),  # 1: a note on rest days, 0: quiet
        "week": ("int",),  # summary weekday 0-6, 7: none
    },
    "oc": {  # outcome scores
        "start": (),
        "add": (),
        "stop": (),
        "first": ("id", "int"),  # the activity just typed, its first score
        "rate": ("id", "int"),  # psfs-<n> | peg-<item>, score
    },
}


@dataclass(frozen=True)
class Press:
    """A parsed button press: namespace, action and validated arguments."""

    namespace: str
    action: str
    args: tuple[str | int, ...] = ()

    def int_arg(self, index: int) -> int:
        value = self.args[index]
        assert isinstance(value, int)
        return value

    def str_arg(self, index: int) -> str:
        return str(self.args[index])


def build(namespace: str, action: str, *args: str | int) -> str:
    """Callback data for a button; raises ValueError if it would not parse back."""
    data = ":".join([namespace, action, *(str(a) for a in args)])
    if parse(data) is None:
        raise ValueError(f"invalid callback data {data!r}")
    return data


def parse(data: str | None) -> Press | None:
    """The press described by `data`, or None for anything forged, stale in shape or malformed."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES or not data.isascii():
        return None
    parts = data.split(":")
    if len(parts) < 2:
        return None
    namespace, action, raw_args = parts[0], parts[1], parts[2:]
    kinds = _SHAPES.get(namespace, {}).get(action)
    if kinds is None or len(kinds) != len(raw_args):
        return None
    args: list[str | int] = []
    for kind, raw in zip(kinds, raw_args, strict=True):
        if kind == "int" and _INT.match(raw):
            args.append(int(raw))
        elif kind == "id" and _ID.match(raw):
            args.append(raw)
        else:
            return None
    return Press(namespace, action, tuple(args))
