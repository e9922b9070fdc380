"""Rendering Telegram-HTML replies as plain text for terminals."""

from __future__ import annotations

import html
import re

from backchain.bot.chat.replies import Reply

_TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")


def plain_text(text: str) -> str:
    """Drop the few HTML tags we use and unescape entities."""
    return html.unescape(_TAG.sub("", text))


def render_reply(reply: Reply, numbered_from: int = 1) -> str:
    """The reply's text followed by its buttons as numbered choices."""
    lines = [plain_text(reply.text).rstrip()]
    for number, button in enumerate(reply.button_list(), start=numbered_from):
        lines.append(f"  [{number}] {button.label}")
    return "\n".join(lines)
