"""Every user-facing sentence of the conversation, loaded from `content/messages.yaml`."""

from __future__ import annotations

import html
import string
from pathlib import Path
from typing import Any

from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import Text, convert, read_yaml_mapping


class Messages:
    """Message templates (Telegram HTML) with `{name}` placeholders filled with escaped values."""

    def __init__(self, templates: dict[str, str], file: str):
        self._templates = templates
        self._file = file

    def __call__(self, key: str, **values: Any) -> str:
        """The message `key` with `values` HTML-escaped into its placeholders."""
        template = self._templates.get(key)
        if template is None:
            raise ContentError(self._file, "is missing", key, "text")
        escaped = {name: html.escape(str(value), quote=False) for name, value in values.items()}
        return template.format(**escaped)

    def raw(self, key: str, **values: str) -> str:
        """The message `key` with `values` inserted as they are (already safe HTML)."""
        template = self._templates.get(key)
        if template is None:
            raise ContentError(self._file, "is missing", key, "text")
        return template.format(**values)

    def count(self, key: str, number: int) -> str:
        """`key_one` for exactly one, else `key_many` with {count}: "1 step", "3 steps"."""
        return self(f"{key}_one") if number == 1 else self(f"{key}_many", count=number)

    def __contains__(self, key: str) -> bool:
        return key in self._templates

    def keys(self) -> list[str]:
        return list(self._templates)


def load_messages(path: Path) -> Messages:
    """Load and validate the messages file: texts only, placeholders well formed."""
    data = read_yaml_mapping(path)
    file = str(path)
    templates: dict[str, str] = {}
    for key, value in data.items():
        text = convert(value, Text, file, str(key), "text")
        try:
            list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ContentError(file, f"has a broken placeholder ({exc})", str(key), "text") from exc
        templates[str(key)] = text
    return Messages(templates, file)
