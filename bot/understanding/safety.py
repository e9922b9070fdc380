"""Safety questions: a question that names a health condition goes to that condition's safety topic.

"Can I use the Footballer on my varicose veins" asks whether it is safe, not what the Footballer
is. The condition words come from two places a therapist edits: the `mentions` of each condition
in `content/health.yaml` (handed in as plain data), and `content/safety.yaml` for the safety
topics that are not on the health screen (discs, injections, pacemakers...) and for three kinds of
wording that lists cannot cover: a child's age ("my son is 14"), surgery words ("appendectomy"),
and small typing slips in long medicine names ("rivaroxiban").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.understanding.textnorm import normalize, phrase_positions
from backchain.bot.yamlfile import Model, Text, convert, read_yaml_mapping
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extractOne

# An age, not a duration: "13yo", "a 15 year old", "8 months old", "aged 12" ("3 years" is not).
_DIGIT = re.compile(r"[0-9]")
_AGE = re.compile(
    r"\b(?:(\d{1,2}) ?(?:yo|y o|yrs? old|years? old|(month)s? old)|aged? (\d{1,2}))\b"
)


Phrases = Annotated[tuple[Text, ...], msgspec.Meta(min_length=1)]


class _Children(Model, frozen=True):
    topic: Text
    under_age: Annotated[int, msgspec.Meta(ge=1, le=21)]
    people: Phrases  # "my son is 12", "my 12 year old"


class _Endings(Model, frozen=True):
    topic: Text
    endings: Phrases  # "appendectomy", "arthroscopy"
    shortest: Annotated[int, msgspec.Meta(ge=5)] = 8


class _SafetyFile(Model, frozen=True):
    typo_min_letters: Annotated[int, msgspec.Meta(ge=5, le=20)]
    asks: Phrases
    named: dict[str, Phrases]
    when_asked: dict[str, Phrases]
    children: _Children
    surgery_words: _Endings


@dataclass(frozen=True)
class SafetyWords:
    """Finds the safety topic a question is about, or None."""

    phrases: tuple[tuple[str, tuple[str, ...]], ...]  # (topic, words of a phrase), by priority
    asked: tuple[tuple[str, tuple[str, ...]], ...]  # count only in a question about safety
    asks: tuple[tuple[str, ...], ...]  # "is it safe", "can i", "ok to", "worse"...
    long_words: dict[str, str]  # single long words (medicines) -> topic, for typo tolerance
    children: _Children
    surgery: _Endings
    typo_min_letters: int

    def find(self, text: str) -> str | None:
        words = normalize(text).split()
        if not words:
            return None
        # Only phrases whose first word is in the question can be in it; the earliest wins.
        found = _first_found(words, self._phrases_by_first_word)
        if found is not None:
            return found
        present = set(words)
        if not self._ask_words.isdisjoint(present) or any(
            present.issuperset(ask) and _contains(words, ask) for ask in self._ask_phrases
        ):
            found = _first_found(words, self._asked_by_first_word)
            if found is not None:
                return found
        child = self._child(words)
        if child is not None:
            return child
        for word in words:
            if len(word) >= self.surgery.shortest and word.endswith(self.surgery.endings):
                return self.surgery.topic
        return self._slip(words)

    @cached_property
    def _phrases_by_first_word(self) -> dict[str, list[tuple[int, str, tuple[str, ...]]]]:
        return _by_first_word(self.phrases)

    @cached_property
    def _asked_by_first_word(self) -> dict[str, list[tuple[int, str, tuple[str, ...]]]]:
        return _by_first_word(self.asked)

    @cached_property
    def _ask_words(self) -> frozenset[str]:
        return frozenset(ask[0] for ask in self.asks if len(ask) == 1)

    @cached_property
    def _ask_phrases(self) -> tuple[tuple[str, ...], ...]:
        return tuple(ask for ask in self.asks if len(ask) > 1)

    @cached_property
    def _people(self) -> frozenset[str]:
        return frozenset(self.children.people)

    def _child(self, words: list[str]) -> str | None:
        text = " ".join(words)
        if not _DIGIT.search(text):
            return None  # an age is always typed in digits
        people = self._people
        for match in _AGE.finditer(text):
            age = int(match.group(1) or match.group(3))
            if match.group(2) or age < self.children.under_age:
                return self.children.topic
        if people.isdisjoint(words):
            return None
        for i, word in enumerate(words):
            if word in people:
                after = words[i + 1 : i + 4]
                for value in after:
                    if value.isdigit() and int(value) < self.children.under_age:
                        return self.children.topic
        return None

    def _slip(self, words: list[str]) -> str | None:
        for word in words:
            if len(word) >= self.typo_min_letters:
                topic = self._slip_of(word)
                if topic is not None:
                    return topic
        return None

    @cached_property
    def _long_word_list(self) -> tuple[str, ...]:
        return tuple(self.long_words)

    @cached_property
    def _slips(self) -> dict[str, str | None]:
        """Word -> the topic of the medicine it is one slip away from; the same long words
        come back in message after message, so each is looked up once."""
        return {}

    def _slip_of(self, word: str) -> str | None:
        slips = self._slips
        if word in slips:
            return slips[word]
        found = extractOne(word, self._long_word_list, scorer=Levenshtein.distance, score_cutoff=1)
        topic = self.long_words[found[0]] if found is not None else None
        if len(slips) >= _SLIP_CACHE:
            slips.clear()
        slips[word] = topic
        return topic


_SLIP_CACHE = 20_000  # words remembered; a bound so odd input cannot grow it forever
_Indexed = dict[str, list[tuple[int, str, tuple[str, ...]]]]


def _by_first_word(phrases: tuple[tuple[str, tuple[str, ...]], ...]) -> _Indexed:
    index: _Indexed = {}
    for rank, (topic, phrase) in enumerate(phrases):
        index.setdefault(phrase[0], []).append((rank, topic, phrase))
    return index


def _first_found(words: list[str], index: _Indexed) -> str | None:
    """The topic of the highest-priority phrase in `words`, as a scan in order would find."""
    best: tuple[int, str] | None = None
    present = set(words)
    for word in present:
        # Each word's phrases are listed by rank: the first one found is its best.
        for rank, topic, phrase in index.get(word, ()):
            if best is not None and rank >= best[0]:
                break
            if len(phrase) == 1 or (present.issuperset(phrase) and _contains(words, phrase)):
                best = (rank, topic)
                break
    return best[1] if best else None


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    return next(phrase_positions(words, phrase), None) is not None


def load_safety_words(
    path: Path, condition_mentions: Sequence[tuple[str, Sequence[str]]], topic_ids: set[str]
) -> SafetyWords:
    """Read `safety.yaml`; `condition_mentions` are (safety topic, phrases) from the health
    screen, checked first, in checklist order."""
    file = str(path)
    data = convert(read_yaml_mapping(path), _SafetyFile, file)
    named: list[tuple[str, Sequence[str]]] = [*condition_mentions, *data.named.items()]
    extra = [(data.children.topic, ()), (data.surgery_words.topic, ())]
    for topic, _ in [*named, *data.when_asked.items(), *extra]:
        if topic not in topic_ids:
            raise ContentError(file, f"unknown topic '{topic}'", topic, "topic")
    phrases = _phrases(named, file)
    long_words: dict[str, str] = {}
    for topic, words in phrases:
        if len(words) == 1 and len(words[0]) >= data.typo_min_letters:
            long_words.setdefault(words[0], topic)
    return SafetyWords(
        phrases=tuple(phrases),
        asked=tuple(_phrases(list(data.when_asked.items()), file)),
        asks=tuple(tuple(normalize(ask).split()) for ask in data.asks),
        long_words=long_words,
        children=data.children,
        surgery=data.surgery_words,
        typo_min_letters=data.typo_min_letters,
    )


def _phrases(
    named: Sequence[tuple[str, Sequence[str]]], file: str
) -> list[tuple[str, tuple[str, ...]]]:
    """Normalised phrases, longer ones first so "hip replacement surgery" is a new hip, not any
    operation; on equal length the earlier topic (checklist order) wins."""
    phrases: list[tuple[str, tuple[str, ...]]] = []
    for topic, texts in named:
        for text in texts:
            words = tuple(normalize(text).split())
            if not words:
                raise ContentError(file, f"empty phrase '{text}'", topic, "phrases")
            phrases.append((topic, words))
    phrases.sort(key=lambda item: -len(item[1]))
    return phrases
