"""`without`: imports inside it see a module as not installed; outside, nothing has changed."""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from backchain.imports import without


def test_a_module_not_yet_imported_is_absent_inside_and_importable_after() -> None:
    name = "colorsys"  # a standard module nothing here imports
    sys.modules.pop(name, None)
    with without(name), pytest.raises(ImportError):
        importlib.import_module(name)
    assert name not in sys.modules
    assert importlib.import_module(name).rgb_to_hsv


def test_a_module_already_imported_is_left_as_it_is() -> None:
    with without("json"):
        assert importlib.import_module("json") is json
    assert sys.modules["json"] is json
