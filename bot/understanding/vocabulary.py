"""The lay-word vocabulary a therapist tunes in content/vocabulary.yaml, read and validated.

Stop words, spellings, synonyms, weak words, the words of the matcher's rules (cause words, pain
that runs down the leg, which kit to get) and the scoring points the matcher uses. Loading
checks the shape of every entry; `check_topic_ids` checks the topic ids against the topics, which
only the matcher's builder has at hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchain.bot.errors import ContentError
from backchain.bot.understanding.textnorm import singular, tokenize
from backchain.bot.understanding.topics import GROUPS, Topic
from backchain.bot.yamlfile import read_yaml_mapping


@dataclass(frozen=True)
class Scoring:
    """Points a therapist can tune in the vocabulary file, on the 0-100 scale."""

    accept: float
    ambiguous_margin: float
    phrase: float
    per_extra_word: float
    per_extra_phrase: float
    symptom_bonus: float
    link_bonus: float
    kit_bonus: float
    outrank_bonus: float
    safety_margin: float
    candidate_floor: float
    off_topic_factor: float
    group_bonus: dict[str, float]


@dataclass(frozen=True)
class KitWords:
    """How a question asks which kit to get, and which kit answers for each topic."""

    asks: tuple[tuple[str, ...], ...]  # "which kit", "what should i buy"
    nouns: frozenset[str]  # "kit", "bundle", "set": straight after an area or tool they name a kit
    holds: tuple[tuple[str, ...], ...]  # "kit with": tools named after it point to their kit
    kit_of: dict[str, str]  # an area, tool or kit topic -> the kit for it


@dataclass(frozen=True)
class PathWords:
    """Pain running from one area down into others names one topic: "from my back down my leg"."""

    topic: str | None
    sources: frozenset[str]  # topics the pain runs from
    via: frozenset[str]  # "down", "into"
    ends: frozenset[str]  # words for where it runs to: "leg", "foot"


@dataclass(frozen=True)
class Vocabulary:
    stop_words: frozenset[str]
    plain_words: frozenset[str]
    off_topic_words: frozenset[str]
    own_body_words: frozenset[str]
    # "sit all day", "on my feet the whole shift": the asker's own day, whatever their job is.
    own_day_phrases: tuple[tuple[str, ...], ...]
    generic_tool_words: frozenset[str]
    spellings: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]
    word_sets: dict[str, tuple[str, ...]]
    not_topics: tuple[str, ...]
    # A topic that answers the narrower question when both are named ("how often to massage").
    outranks: dict[str, tuple[str, ...]]
    weak_words: dict[str, float]
    context_words: frozenset[str]
    pain_words: frozenset[str]
    symptom_topics: dict[str, str]
    link_topic: str | None
    link_phrases: tuple[tuple[str, ...], ...]
    link_alone_phrases: tuple[tuple[str, ...], ...]
    link_area_words: frozenset[str]
    # "that connects to the spine" describes a part; it says nothing about a cause.
    link_descriptions: tuple[tuple[str, ...], ...]
    # Areas that explain each other without the chain: "sciatica from my piriformis".
    link_neighbours: tuple[frozenset[str], ...]
    kits: KitWords
    paths: PathWords
    scoring: Scoring


def _mapping(data: dict[str, Any], key: str, file: str) -> dict[str, Any]:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ContentError(file, "must be a mapping", key)
    return value


def _phrases(value: Any, file: str, entry: str | None, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ContentError(file, "must be a list", entry, key)
    for item in value:
        if not isinstance(item, str) or not tokenize(item):
            raise ContentError(file, f"'{item}' is not a word (quote yes, no, on, off)", entry, key)
    return tuple(value)


def _words(data: dict[str, Any], key: str, file: str, entry: str | None = None) -> frozenset[str]:
    phrases = _phrases(data.get(key, []), file, entry, key)
    return frozenset(singular(w) for p in phrases for w in tokenize(p))


def _single_word(text: Any, file: str, entry: str, key: str) -> str:
    words = tokenize(text) if isinstance(text, str) else []
    if len(words) != 1:
        raise ContentError(file, f"'{text}' must be a single word", entry, key)
    return words[0]


def _number(value: Any, file: str, entry: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ContentError(file, f"must be a number from {low:g} to {high:g}", entry, key)
    return float(value)


_SCORING_RANGES = {
    "accept": (1, 100),
    "ambiguous_margin": (0, 50),
    "phrase": (1, 100),
    "per_extra_word": (0, 30),
    "per_extra_phrase": (0, 30),
    "symptom_bonus": (0, 50),
    "link_bonus": (0, 50),
    "kit_bonus": (0, 50),
    "outrank_bonus": (0, 50),
    "safety_margin": (0, 50),
    "candidate_floor": (0, 100),
    "off_topic_factor": (0, 1),
}


def _parse_scoring(raw: dict[str, Any], file: str) -> Scoring:
    values = {
        key: _number(raw.get(key), file, "scoring", key, low, high)
        for key, (low, high) in _SCORING_RANGES.items()
    }
    groups = _mapping(raw, "group_bonus", file)
    for group, bonus in groups.items():
        if group not in GROUPS:
            raise ContentError(file, f"unknown group '{group}'", "scoring", "group_bonus")
        _number(bonus, file, "scoring", "group_bonus", 0, 50)
    return Scoring(**values, group_bonus={g: float(b) for g, b in groups.items()})


def _topic_lists(data: dict[str, Any], key: str, file: str) -> dict[str, tuple[str, ...]]:
    return {
        str(topic): _phrases(value, file, str(topic), key)
        for topic, value in _mapping(data, key, file).items()
    }


def load_vocabulary(path: Path) -> Vocabulary:
    """Read and validate the lay-word vocabulary; `check_topic_ids` checks its topic ids."""
    data = read_yaml_mapping(path)
    file = str(path)
    weak = {
        singular(_single_word(word, file, str(word), "weak_words")): _number(
            strength, file, str(word), "weak_words", 0, 1
        )
        for word, strength in _mapping(data, "weak_words", file).items()
    }
    spellings = {
        _single_word(k, file, str(k), "spellings"): _single_word(v, file, str(k), "spellings")
        for k, v in _mapping(data, "spellings", file).items()
    }
    symptoms = _mapping(data, "symptoms", file)
    links = _mapping(data, "links", file)
    link_topic = links.get("topic")
    if link_topic is not None and not isinstance(link_topic, str):
        raise ContentError(file, "must be a topic id", "links", "topic")
    return Vocabulary(
        stop_words=frozenset(
            w
            for p in _phrases(data.get("stop_words", []), file, None, "stop_words")
            for w in tokenize(p)
        ),
        plain_words=_words(data, "plain_words", file),
        off_topic_words=_words(data, "off_topic_words", file),
        own_body_words=_words(data, "own_body_words", file),
        own_day_phrases=_word_runs(data, "own_day_phrases", file, "own_day_phrases"),
        generic_tool_words=_words(data, "generic_tool_words", file),
        spellings=spellings,
        synonyms=_topic_lists(data, "synonyms", file),
        word_sets=_topic_lists(data, "word_sets", file),
        not_topics=_phrases(data.get("not_topics", []), file, None, "not_topics"),
        outranks=_topic_lists(data, "outranks", file),
        weak_words=weak,
        context_words=_words(data, "context_words", file),
        pain_words=_words(symptoms, "pain_words", file, "symptoms"),
        symptom_topics={str(k): str(v) for k, v in _mapping(symptoms, "topics", file).items()},
        link_topic=link_topic,
        link_phrases=_word_runs(links, "words", file, "links"),
        link_alone_phrases=_word_runs(links, "alone", file, "links"),
        link_area_words=_words(links, "areas", file, "links"),
        link_descriptions=_word_runs(links, "descriptions", file, "links"),
        link_neighbours=_topic_groups(links, "neighbours", file, "links"),
        kits=_parse_kits(_mapping(data, "kits", file), file),
        paths=_parse_paths(_mapping(data, "paths", file), file),
        scoring=_parse_scoring(_mapping(data, "scoring", file), file),
    )


def _word_runs(
    data: dict[str, Any], key: str, file: str, entry: str
) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(tokenize(p)) for p in _phrases(data.get(key, []), file, entry, key))


def _topic_groups(
    data: dict[str, Any], key: str, file: str, entry: str
) -> tuple[frozenset[str], ...]:
    groups = data.get(key, [])
    if not isinstance(groups, list):
        raise ContentError(file, "must be a list of topic lists", entry, key)
    return tuple(frozenset(_phrases(group, file, entry, key)) for group in groups)


def _parse_paths(raw: dict[str, Any], file: str) -> PathWords:
    topic = raw.get("topic")
    if topic is not None and not isinstance(topic, str):
        raise ContentError(file, "must be a topic id", "paths", "topic")
    return PathWords(
        topic=topic,
        sources=frozenset(_phrases(raw.get("from", []), file, "paths", "from")),
        via=_words(raw, "via", file, "paths"),
        ends=_words(raw, "to", file, "paths"),
    )


def _parse_kits(raw: dict[str, Any], file: str) -> KitWords:
    kit_of: dict[str, str] = {}
    for kit, topics in _mapping(raw, "topics", file).items():
        kit_of[str(kit)] = str(kit)
        for topic in _phrases(topics, file, str(kit), "kits"):
            if kit_of.setdefault(topic, str(kit)) != kit:
                raise ContentError(file, f"'{topic}' is listed under two kits", str(kit), "kits")
    return KitWords(
        asks=_word_runs(raw, "asks", file, "kits"),
        nouns=_words(raw, "nouns", file, "kits"),
        holds=_word_runs(raw, "holds", file, "kits"),
        kit_of=kit_of,
    )


def check_topic_ids(vocab: Vocabulary, topics: dict[str, Topic], file: str) -> None:
    """Every topic id the vocabulary names must be a topic of the content."""
    named = [(t, "synonyms") for t in vocab.synonyms]
    named += [(t, "word_sets") for t in vocab.word_sets]
    named += [(t, "symptoms") for pair in vocab.symptom_topics.items() for t in pair]
    named += [(t, "kits") for t in vocab.kits.kit_of]
    named += [(t, "paths") for t in vocab.paths.sources]
    named += [(t, "links") for group in vocab.link_neighbours for t in group]
    named += [(t, "outranks") for topic, below in vocab.outranks.items() for t in (topic, *below)]
    if vocab.link_topic is not None:
        named.append((vocab.link_topic, "links"))
    if vocab.paths.topic is not None:
        named.append((vocab.paths.topic, "paths"))
    for topic_id, key in named:
        if topic_id not in topics:
            raise ContentError(file, f"names unknown topic '{topic_id}'", topic_id, key)
