"""What a user sent, independent of the transport that carried it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from backchain.bot.understanding.commands import parse_command


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
    args: str = ""  # what a command was typed with: "7:30" in "/remind 7:30"
    # Handled again after a restart: its first reply may never have reached the person.
    replayed: bool = False

    @classmethod
    def text_message(cls, user_id: int, chat_id: int, text: str) -> Incoming:
        """A typed line: "/cmd args" becomes a command, anything else a question."""
        command = parse_command(text)
        if command is not None:
            return cls(user_id, chat_id, Kind.COMMAND, text=command.name, args=command.args)
        return cls(user_id, chat_id, Kind.TEXT, text=text)

    @classmethod
    def press(cls, user_id: int, chat_id: int, data: str, replayed: bool = False) -> Incoming:
        return cls(user_id, chat_id, Kind.PRESS, data=data, replayed=replayed)

    @classmethod
    def other(cls, user_id: int, chat_id: int) -> Incoming:
        return cls(user_id, chat_id, Kind.OTHER)
