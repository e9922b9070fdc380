"""Replies as plain data: what the bot says, rendered by the Telegram and console adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Button:
    """One button: a label the user sees and namespaced callback data the bot parses."""

    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """One message. `text` is Telegram-HTML (already escaped); `buttons` are rows of buttons.

    `image` is a PNG file to send as a photo, `document` a file to send as a document.
    `edit` asks the adapter to edit the message the button was pressed on instead of sending anew.
    `temporary` says the image and document were made for this reply only: an adapter that
    delivers them elsewhere (Telegram) removes them once sent.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: Path | None = None
    document: Path | None = None
    edit: bool = False
    temporary: bool = False

    def button_list(self) -> list[Button]:
        """All buttons, row by row."""
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True)
class Timer:
    """A request to the adapter: after `seconds`, feed `callback_data` back to the engine."""

    seconds: int
    callback_data: str
    name: str


@dataclass
class Outcome:
    """What the engine produced for one input: the replies to send and timers to schedule."""

    replies: list[Reply] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    cancel_timers: list[str] = field(default_factory=list)

    def say(self, reply: Reply) -> Outcome:
        self.replies.append(reply)
        return self


TELEGRAM_LIMIT = 4096


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split a long message at paragraph, then line, then word boundaries into chunks <= limit.

    Splits never fall inside an HTML tag or entity because they only happen at whitespace,
    and tags in our templates never span whitespace-separated paragraphs.
    """
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks
