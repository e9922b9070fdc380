"""The edge where Telegram's JSON enters: text made valid once, unparseable updates set aside.

Valid JSON can still carry text no encoder accepts (lone UTF-16 surrogates such as "\\ud800"),
NUL bytes and control characters. Every string of an incoming update is cleaned here, before it
is stored or parsed, so nothing further in has to think about it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Bot, Update

logger = logging.getLogger(__name__)

# Lone surrogates, NUL and C0/C1 controls except tab, newline and carriage return.
_INVALID = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """The text without characters that cannot be encoded or shown."""
    return _INVALID.sub("", text) if _INVALID.search(text) else text


def clean(value: Any) -> Any:
    """A JSON value with every string in it cleaned (keys included)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(str(key)): clean(item) for key, item in value.items()}
    return value


def parse_update(payload: dict[str, Any], bot: Bot | None) -> Update | None:
    """The update, or None (logged once, without its content) when the library cannot parse it."""
    try:
        return Update.de_json(payload, bot)
    except Exception as exc:  # the library raises anything from KeyError to TypeError here
        logger.warning(
            "update %s skipped: the library cannot parse it (%s)",
            payload.get("update_id"),
            type(exc).__name__,
        )
        return None
