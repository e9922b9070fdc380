"""Reading YAML content files into typed models, with errors that name file, entry and field.

A content file is declared as `msgspec.Struct` models (field types and constraints); `decode`
reads the YAML, strips every text, and converts it, turning the first problem into a
ContentError. Checks across entries (references, duplicates) stay with each loader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
from backchain.bot.errors import ContentError

_Model = TypeVar("_Model")

# Shared field types, so every file says "an id" or "a text" the same way.
Id = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Text = Annotated[str, msgspec.Meta(min_length=1)]
Texts = list[Text]


class Model(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A content entry: unknown fields are refused (a typo never passes silently)."""


class OpenModel(msgspec.Struct, frozen=True):
    """A content entry that others may extend with optional fields before this code knows them."""


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Load `path` with `yaml.safe_load` and insist on a mapping at the top."""
    # Imported here: content read back from the build cache needs no YAML parser at all.
    import yaml

    if not path.is_file():
        raise ContentError(str(path), "file is missing")
    # The C parser when PyYAML was built with it (several times faster); the same safe subset.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ContentError(str(path), f"not valid YAML ({first_line})") from exc
    if not isinstance(data, dict):
        raise ContentError(str(path), "the file must hold a mapping at the top level")
    return data


def decode(path: Path, model: type[_Model]) -> tuple[_Model, dict[str, Any]]:
    """The file at `path` as `model`, and the raw mapping it was read from."""
    raw = read_yaml_mapping(path)
    return convert(raw, model, str(path)), raw


def convert(
    raw: Any, model: type[_Model], file: str, entry: str | None = None, field: str | None = None
) -> _Model:
    """`raw` (parsed YAML) as `model`; ContentError naming `file`, the entry and the field.

    Texts are stripped first. With `entry` given, `raw` is that entry; otherwise the entry is
    found from the error's path: a list item by its `id` (or its position), a mapping by key.
    `field` names the field when `raw` is a single value.
    """
    try:
        return msgspec.convert(_stripped(raw), model, strict=True)
    except msgspec.ValidationError as exc:
        error = _content_error(str(exc), raw, file, entry)
        if error.field is None and field is not None:
            error = ContentError(file, error.detail, error.entry, field)
        raise error from None


def convert_entries(
    entries: dict[Any, Any], model: Any, file: str, field: str | None = None
) -> dict[str, Any]:
    """Each value of a mapping of named entries as `model`; an error names the entry by its key
    (and `field`, the mapping's own name, when the value is not itself a mapping)."""
    return {
        str(key): convert(value, model, file, str(key), field) for key, value in entries.items()
    }


# A mapping of named entries, each converted on its own (`convert_entries`) so that an error can
# name its key.
Entries = Annotated[dict[str, Any], msgspec.Meta(min_length=1)]


def _stripped(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    if isinstance(value, dict):
        return {key: _stripped(item) for key, item in value.items()}
    return value


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`")


def _content_error(message: str, raw: Any, file: str, entry: str | None) -> ContentError:
    problem, _, where = message.partition(" - at `")
    where = where.split("` in `")[-1]  # "at `key` in `$.x`": a bad key of the mapping x
    steps = [m.group(1) or m.group(2) for m in _STEP.finditer(where.rstrip("`").lstrip("$"))]
    named = _NAMED_FIELD.match(problem)
    if named:
        steps.append(named.group(1))
        problem = "is missing" if "missing" in problem else "is not a known field"
    else:
        problem = _plain(problem)
    return ContentError(file, problem, *_entry_and_field(steps, raw, entry))


def _entry_and_field(
    steps: list[str], raw: Any, entry: str | None
) -> tuple[str | None, str | None]:
    """Where a problem is, in content words. An item of a list of mappings is an entry (named by
    its `id`, else its position); otherwise a section is the entry and its key the field."""
    if entry is None:
        node = raw
        for position, step in enumerate(steps):
            if step.isdigit() and isinstance(node, list) and int(step) < len(node):
                item = node[int(step)]
                if isinstance(item, dict):
                    found = item.get("id")
                    entry = str(found) if found is not None else f"#{int(step) + 1}"
                    steps = steps[position + 1 :]
                    break
                node = item
            else:
                node = node.get(step) if isinstance(node, dict) else None
    names = [step for step in steps if not step.isdigit() and step != "..."]
    if entry is None and len(names) >= 2:
        return names[0], ".".join(names[1:])
    return entry, ".".join(names) or None


def _plain(problem: str) -> str:
    """msgspec's wording in the words content errors have always used."""
    replacements = {
        "Expected `str` of length >= 1": "must be a non-empty text",
        "Expected `str`, got": "must be a text, not",
        "Expected `array`, got": "must be a list, not",
        "Expected `object`, got": "must be a mapping, not",
        "Expected `int`, got": "must be a whole number, not",
        "Expected `float`, got": "must be a number, not",
        "Expected `str` matching regex '^[a-z0-9]+(?:-[a-z0-9]+)*$'": (
            "must be lower-case words joined by '-'"
        ),
    }
    enum = re.match(r"^Invalid enum value (.+)$", problem)
    if enum:
        return f"must be one of the allowed values, not {enum.group(1)}"
    if problem.endswith("got `bool`"):
        problem += " (quote yes, no, on, off to mean the words)"
    for msgspec_words, ours in replacements.items():
        if problem.startswith(msgspec_words):
            return ours + problem[len(msgspec_words) :]
    return problem


# Field by field checks, still used by the red-flag loader until it declares its models too.
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
