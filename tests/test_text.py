"""The shared text normaliser: one folding for every reader of free text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from backchain.bot.adapters.console import label_key
from backchain.bot.routine.schedule import parse_time_of_day
from backchain.bot.routine.timezones import normalize_place
from backchain.bot.understanding.textnorm import normalize as matcher_normalize
from backchain.storage.questions import _grouping_key

from backchain.text import fold, normalize


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  Hip   PAIN ", "hip pain"),
        ("São Paulo", "sao paulo"),
        ("Straße", "strasse"),
        ("don\u2019t", "don't"),
        ("don`t", "don't"),
        ("donʼt", "don't"),
        ("UTC\u22122", "utc-2"),
        ("UTC\u20132", "utc-2"),
        ("7\tp.m.\n", "7 p.m."),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Why does my HIP hurt?!", "why does my hip hurt"),
        ("don\u2019t roll the psoas", "dont roll the psoas"),
        ("foam roller & ball", "foam roller and ball"),
        ("Piriformis 🔥🔥", "piriformis"),
        ("Névralgie   sciatique", "nevralgie sciatique"),
        ("背中 back", "back"),
    ],
)
def test_normalize(text: str, normalized: str) -> None:
    assert normalize(text) == normalized


@pytest.mark.parametrize(
    "text",
    ["Why does my HIP hurt?", "SÃO  Paulo", "don\u2019t", "7:30 P.M.", "Start now ▶️", "UTC\u22123"],
)
@pytest.mark.parametrize(
    "reader",
    [matcher_normalize, _grouping_key, normalize_place, label_key, parse_time_of_day],
    ids=["matcher", "unanswered-log", "timezones", "console-labels", "time-of-day"],
)
def test_every_reader_folds_with_the_shared_fold(
    text: str, reader: Callable[[str], object]
) -> None:
    """Folding first changes nothing any reader sees: each one starts from `fold`."""
    assert reader(fold(text)) == reader(text)


def test_the_matcher_and_the_unanswered_log_read_words_alike() -> None:
    text = "Why does my HIP hurt?!"
    assert matcher_normalize(text) == _grouping_key(text) == normalize(text)


def test_time_of_day_reads_folded_text() -> None:
    assert parse_time_of_day("  7:30\u00a0P.M. ") == parse_time_of_day("7:30 pm")


def test_unanswered_questions_group_across_punctuation_and_case() -> None:
    assert _grouping_key("Why does my hip HURT??") == _grouping_key("why does my hip hurt")
