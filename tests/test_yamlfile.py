"""Typed content decoding: every error names the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import Entries, Id, Model, OpenModel, Text, convert, convert_entries


class Item(Model):
    id: Id
    title: Text
    count: int = 1


class Book(Model):
    items: list[Item]
    named: Entries | None = None


class Open(OpenModel):
    id: Id


@pytest.mark.parametrize(
    ("raw", "entry", "field", "words"),
    [
        ({"items": [{"id": "a", "title": 3}]}, "a", "title", "must be a text"),
        ({"items": [{"id": "a", "title": "  "}]}, "a", "title", "non-empty"),
        ({"items": [{"id": "a"}]}, "a", "title", "is missing"),
        ({"items": [{"title": "x"}]}, "#1", "id", "is missing"),
        ({"items": [{"id": "a", "title": "x"}, {"id": "B", "title": "y"}]}, "B", "id", "lower"),
        ({"items": [{"id": "a", "title": "x", "colour": "red"}]}, "a", "colour", "not a known"),
        ({"items": [{"id": "a", "title": "x", "count": True}]}, "a", "count", "whole number"),
        ({"items": "none"}, None, "items", "must be a list"),
        ({}, None, "items", "is missing"),
    ],
)
def test_errors_name_entry_and_field(
    raw: dict[str, object], entry: str | None, field: str, words: str
) -> None:
    with pytest.raises(ContentError) as caught:
        convert(raw, Book, "book.yaml")
    error = caught.value
    assert (error.file, error.entry, error.field) == ("book.yaml", entry, field)
    assert words in error.detail


def test_named_entries_are_named_by_their_key() -> None:
    with pytest.raises(ContentError, match="book.yaml: entry 'second', field 'title'"):
        convert_entries(
            {"first": {"id": "a", "title": "x"}, "second": {"id": "b"}}, Item, "book.yaml"
        )


def test_texts_are_stripped_and_open_models_keep_unknown_fields_out_of_the_way() -> None:
    assert convert({"id": "a", "title": "  x \n"}, Item, "f").title == "x"
    assert convert({"id": "a", "facets": {"what": "a muscle"}}, Open, "f").id == "a"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    from backchain.bot.yamlfile import decode

    with pytest.raises(ContentError, match="file is missing"):
        decode(tmp_path / "none.yaml", Book)
