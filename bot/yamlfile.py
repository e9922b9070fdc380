"""Reading one YAML content file safely, with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from backchain.bot.errors import ContentError

# libyaml's loader is many times faster than the pure-Python one; both are safe loaders.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Load `path` with a safe loader and insist on a mapping at the top."""
    if not path.is_file():
        raise ContentError(str(path), "file is missing")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ContentError(str(path), f"not valid YAML ({first_line})") from exc
    if not isinstance(data, dict):
        raise ContentError(str(path), "the file must hold a mapping at the top level")
    return data


def require_str(data: dict[str, Any], key: str, file: str, entry: str | None) -> str:
    """A non-empty string field, or a ContentError naming file, entry and field."""
    value = data.get(key)
    if value is None:
        raise ContentError(file, "is missing", entry, key)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(file, "must be a non-empty text", entry, key)
    return value.strip()


def optional_str_list(data: dict[str, Any], key: str, file: str, entry: str | None) -> list[str]:
    """A list of non-empty strings (absent means empty)."""
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ContentError(file, "must be a list of texts", entry, key)
    return [v.strip() for v in value]
