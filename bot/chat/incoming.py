"""What a user sent, independent of the transport that carried it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    COMMAND = "command"
    PRESS = "press"
    OTHER = "other"  # stickers, photos, voice, locations, documents...


@dataclass(frozen=True)
class Incoming:
    user_id: int
    chat_id: int
    kind: Kind
    text: str = ""  # the message text, or the command name without "/"
    data: str = ""  # callback data of a pressed button

    @classmethod
    def text_message(cls, user_id: int, chat_id: int, text: str) -> Incoming:
        """A typed line: "/cmd args" becomes a command, anything else a question."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            name = stripped[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            return cls(user_id, chat_id, Kind.COMMAND, text=name)
        return cls(user_id, chat_id, Kind.TEXT, text=text)

    @classmethod
    def press(cls, user_id: int, chat_id: int, data: str) -> Incoming:
        return cls(user_id, chat_id, Kind.PRESS, data=data)

    @classmethod
    def other(cls, user_id: int, chat_id: int) -> Incoming:
        return cls(user_id, chat_id, Kind.OTHER)
