"""Callback data: small frozen records with named fields, packed and parsed here only, never
trusted.

Wire format: `<namespace>:<action>[:<field>...]`, ASCII, at most 64 bytes (Telegram's limit); a
class's `prefix` is its namespace and action, its fields follow in order. A field is an `int`
(a non-negative number of at most nine digits), an `Id` (lower-case words joined by hyphens) or a
`Literal` of such words. Anything that does not parse into a known class, field by field, is
rejected, and the user is told the button has expired.

The records are frozen msgspec structs rather than frozen dataclasses: the same named, typed,
immutable, comparable and hashable fields, but made in C, so the fifty classes below cost about
2 ms at import instead of about 40 ms (a dataclass compiles six methods per class), which every
start of the bot and every `backchain ask` pays.
"""

from __future__ import annotations

import re
import typing
from typing import Any, ClassVar, Literal, TypeVar

import msgspec

MAX_BYTES = 64
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_INT = re.compile(r"^(?:0|[1-9][0-9]{0,8})$")

Id = str  # a field read with the id pattern: a topic, a tool, a condition, a side
_Data = TypeVar("_Data", bound="CallbackData")

# prefix -> the class it packs; filled in as each class is defined.
_REGISTRY: dict[str, type[CallbackData]] = {}
# class -> for each field, a function from the raw text to its value (None when invalid).
_READERS: dict[type[CallbackData], tuple[typing.Callable[[str], Any], ...]] = {}


class CallbackData(msgspec.Struct, frozen=True):
    """A button press as data. Subclasses set `prefix` and declare their fields."""

    prefix: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("prefix"):
            if cls.prefix in _REGISTRY:
                raise TypeError(f"callback prefix {cls.prefix!r} is used twice")
            _REGISTRY[cls.prefix] = cls

    @property
    def namespace(self) -> str:
        return self.prefix.split(":", 1)[0]

    @property
    def action(self) -> str:
        return self.prefix.split(":", 1)[1]

    @property
    def args(self) -> tuple[Any, ...]:
        """The field values in order, as they travel after the prefix."""
        return msgspec.structs.astuple(self)

    def pack(self) -> str:
        """The callback data for a button; ValueError if it would not parse back to itself."""
        data = ":".join([self.prefix, *(str(value) for value in self.args)])
        if parse(data) != self:
            raise ValueError(f"invalid callback data {data!r}")
        return data


# Press is what a flow receives: any parsed callback data.
Press = CallbackData


def _reader(kind: Any) -> typing.Callable[[str], Any]:
    if kind is int:
        return lambda raw: int(raw) if _INT.match(raw) else None
    if kind is str:
        return lambda raw: raw if _ID.match(raw) else None
    if typing.get_origin(kind) is Literal:
        allowed = frozenset(typing.get_args(kind))
        return lambda raw: raw if raw in allowed else None
    raise TypeError(f"callback fields are int, Id or Literal, not {kind!r}")


def _readers(cls: type[CallbackData]) -> tuple[typing.Callable[[str], Any], ...]:
    if cls not in _READERS:
        hints = typing.get_type_hints(cls)
        _READERS[cls] = tuple(_reader(hints[name]) for name in cls.__struct_fields__)
    return _READERS[cls]


def parse(data: str | None) -> CallbackData | None:
    """The press described by `data`, or None for anything forged, stale in shape or malformed."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES or not data.isascii():
        return None
    parts = data.split(":")
    if len(parts) < 2:
        return None
    cls = _REGISTRY.get(f"{parts[0]}:{parts[1]}")
    if cls is None:
        return None
    readers = _readers(cls)
    if len(readers) != len(parts) - 2:
        return None
    values = [read(raw) for read, raw in zip(readers, parts[2:], strict=True)]
    if any(value is None for value in values):
        return None
    return cls(*values)


def parse_as(cls: type[_Data], data: str | None) -> _Data | None:
    """`parse`, accepting only presses of class `cls`."""
    press = parse(data)
    return press if isinstance(press, cls) else None


def build(namespace: str, action: str, *args: str | int) -> str:
    """Callback data from its parts; ValueError if no class has that shape. Prefer the classes."""
    cls = _REGISTRY.get(f"{namespace}:{action}")
    if cls is None:
        raise ValueError(f"no callback data {namespace}:{action}")
    try:
        return cls(*args).pack()
    except TypeError as exc:
        raise ValueError(f"invalid callback data for {cls.prefix}: {args!r}") from exc


# --- topics ------------------------------------------------------------------------------------


class ShowTopic(CallbackData, frozen=True):
    prefix: ClassVar[str] = "t:show"
    topic: Id


class TopicCard(CallbackData, frozen=True):
    """ "Tell me more": the topic's whole card."""

    prefix: ClassVar[str] = "t:more"
    topic: Id


class TopicFacet(CallbackData, frozen=True):
    """One part of a topic: how long, which tool, what to avoid..."""

    prefix: ClassVar[str] = "t:f"
    topic: Id
    facet: Id


class ShowGroup(CallbackData, frozen=True):
    prefix: ClassVar[str] = "g:show"
    group: Id


# --- onboarding and profile --------------------------------------------------------------------


class ToggleTool(CallbackData, frozen=True):
    prefix: ClassVar[str] = "ob:tool"
    tool: Id


class ToolsDone(CallbackData, frozen=True):
    prefix: ClassVar[str] = "ob:tools-done"


class ChooseFocus(CallbackData, frozen=True):
    prefix: ClassVar[str] = "ob:focus"
    area: Id


# --- forget me ---------------------------------------------------------------------------------


class ForgetYes(CallbackData, frozen=True):
    """ "Yes, delete everything", with the minute it was offered (UTC epoch minutes)."""

    prefix: ClassVar[str] = "fg:yes"
    minute: int


class ForgetNo(CallbackData, frozen=True):
    prefix: ClassVar[str] = "fg:no"


# --- health screen -----------------------------------------------------------------------------


class HealthToggle(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:t"
    condition: Id


class HealthNone(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:none"


class HealthDone(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:done"


class HealthSide(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:side"
    condition: Id
    side: Id  # left | right | both, checked against the condition's sides


class HealthAdd(CallbackData, frozen=True):
    """Yes to an offer made from free text."""

    prefix: ClassVar[str] = "hs:add"
    condition: Id


class HealthAddSide(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:add-side"
    condition: Id
    side: Id


class HealthNo(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:no"
    condition: Id


class HealthDoctorOk(CallbackData, frozen=True):
    prefix: ClassVar[str] = "hs:doctor-ok"


class HealthOpen(CallbackData, frozen=True):
    """/health from a button."""

    prefix: ClassVar[str] = "hs:open"


# --- guided session ----------------------------------------------------------------------------


class NewSession(CallbackData, frozen=True):
    prefix: ClassVar[str] = "s:new"


class DoctorChecked(CallbackData, frozen=True):
    """A doctor has checked me since the red-flag warning."""

    prefix: ClassVar[str] = "s:checked"


class NotCheckedYet(CallbackData, frozen=True):
    prefix: ClassVar[str] = "s:notyet"


class SessionPress(CallbackData, frozen=True):
    """Any press about one stored session."""

    session: int


class Resume(SessionPress, frozen=True):
    prefix: ClassVar[str] = "s:resume"


class StartOver(SessionPress, frozen=True):
    prefix: ClassVar[str] = "s:over"


class Pain(SessionPress, frozen=True):
    prefix: ClassVar[str] = "s:pain"
    when: Literal["before", "after"]
    score: int


class StopSession(SessionPress, frozen=True):
    prefix: ClassVar[str] = "s:stop"


class StepPress(SessionPress, frozen=True):
    """Any press about one step of a session."""

    step: int


class StartTimer(StepPress, frozen=True):
    prefix: ClassVar[str] = "s:timer"


class MoreDetail(StepPress, frozen=True):
    """The step's full texts."""

    prefix: ClassVar[str] = "s:more"


class StepDone(StepPress, frozen=True):
    prefix: ClassVar[str] = "s:done"


class StepSkip(StepPress, frozen=True):
    prefix: ClassVar[str] = "s:skip"


class StepHurt(StepPress, frozen=True):
    prefix: ClassVar[str] = "s:hurt"


class GentlerDone(StepPress, frozen=True):
    """Did the gentler way of a painful step."""

    prefix: ClassVar[str] = "s:gentle"


class LeaveArea(StepPress, frozen=True):
    """Leave a painful area for today."""

    prefix: ClassVar[str] = "s:move"


# Timer events: never a button, fed back by the adapters when a step timer fires.
class TimerTick(StepPress, frozen=True):
    """The countdown moves on: `elapsed` seconds since the step's timer started."""

    prefix: ClassVar[str] = "tm:tick"
    elapsed: int


class TimerEnd(StepPress, frozen=True):
    prefix: ClassVar[str] = "tm:end"


# --- reminders ---------------------------------------------------------------------------------


class ReminderTime(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:time"
    hhmm: int  # 730 for 07:30; the hour and minute are checked where it is used

    @property
    def hour(self) -> int:
        return self.hhmm // 100

    @property
    def minute(self) -> int:
        return self.hhmm % 100


class RemindersOff(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:off"


class RestDayNote(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:rest"
    note: int  # 1: a short note on rest days, 0: stay quiet


class SummaryDay(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:week"
    weekday: int  # 0 = Monday .. 6 = Sunday, 7: no weekly summary


class StartFromReminder(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:start"


class Snooze(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:snooze"


class SkipToday(CallbackData, frozen=True):
    prefix: ClassVar[str] = "r:skip"


# --- outcome scores ----------------------------------------------------------------------------


class CheckinStart(CallbackData, frozen=True):
    prefix: ClassVar[str] = "oc:start"


class ActivityAdd(CallbackData, frozen=True):
    prefix: ClassVar[str] = "oc:add"


class ActivityStop(CallbackData, frozen=True):
    prefix: ClassVar[str] = "oc:stop"


class ScorePress(CallbackData, frozen=True):
    """A score from 0 to 10 for one item."""

    item: Id  # psfs-<n> | peg-<item>, or the activity just typed
    score: int


class FirstScore(ScorePress, frozen=True):
    """The first score of an activity just typed."""

    prefix: ClassVar[str] = "oc:first"


class Rate(ScorePress, frozen=True):
    prefix: ClassVar[str] = "oc:rate"
