"""The lay-word vocabulary a therapist tunes in content/vocabulary.yaml, read and validated.

Stop words, spellings, synonyms, weak words, the words of the matcher's rules (cause words, pain
that runs down the leg, which kit to get), the scoring points the matcher uses, how near and
how sure words must be for its rules, and how it reads words typed wrong, together or apart.
Loading
checks the shape of every entry; `check_topic_ids` checks the topic ids against the topics, which
only the matcher's builder has at hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.understanding.textnorm import singular, tokenize
from backchain.bot.understanding.topics import Group, Topic
from backchain.bot.yamlfile import Id, Model, convert_entries, decode

# Points on the 0-100 scale, each kind within the range that keeps the matcher sane.
Score = Annotated[float, msgspec.Meta(ge=1, le=100)]
Bonus = Annotated[float, msgspec.Meta(ge=0, le=50)]
PerExtra = Annotated[float, msgspec.Meta(ge=0, le=30)]
Floor = Annotated[float, msgspec.Meta(ge=0, le=100)]
Factor = Annotated[float, msgspec.Meta(ge=0, le=1)]
# How many words apart two words may be and still belong together.
Reach = Annotated[int, msgspec.Meta(ge=1, le=10)]
# A number of letters in a word, or of pieces in one.
Letters = Annotated[int, msgspec.Meta(ge=1, le=30)]
# One or a few letters, as typed ("ps", "z").
LetterRun = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{1,4}$")]
Letter = Annotated[str, msgspec.Meta(pattern=r"^[a-z]$")]


class Scoring(Model, frozen=True):
    """Points a therapist can tune in the vocabulary file, on the 0-100 scale."""

    accept: Score
    ambiguous_margin: Bonus
    phrase: Score
    per_extra_word: PerExtra
    per_extra_phrase: PerExtra
    symptom_bonus: Bonus
    link_bonus: Bonus
    kit_bonus: Bonus
    outrank_bonus: Bonus
    safety_margin: Bonus
    candidate_floor: Floor
    off_topic_factor: Factor
    group_bonus: dict[Group, Bonus] = {}


class RuleSettings(Model, frozen=True):
    """How near and how sure words must be for the matcher's rules (bot/understanding/rules.py)."""

    sure: Factor
    pain_reach: Reach
    path_reach: Reach
    own_strength: Factor


class SoundSettings(Model, frozen=True):
    """How a word spelled by ear ("syatica") is found by the consonants it is heard with."""

    length: Letters
    consonants: Letters
    distance: Letters
    spellings: dict[LetterRun, LetterRun]
    alikes: list[tuple[Letter, Letter]]


class _ReadingFile(Model, frozen=True):
    typo_confidence: dict[Letters, Factor]
    sure_typo: Factor
    fragment: Letters
    shortest_part: Letters
    most_parts: Annotated[int, msgspec.Meta(ge=2, le=4)]
    silent_starts: list[LetterRun]
    sound: SoundSettings
    binding_words: Phrases
    owners: Phrases


# Words of three letters and more are corrected as typos (the matcher's `_max_typo_distance`).
SHORTEST_TYPO = 3


@dataclass(frozen=True)
class ReadingSettings:
    """How the matcher reads a word typed wrong, together with another or in pieces."""

    typo_confidence: tuple[tuple[int, float], ...]  # (at least this many letters, confidence)
    sure_typo: float
    fragment: int
    shortest_part: int
    most_parts: int
    silent_starts: tuple[str, ...]
    sound_length: int
    sound_consonants: int
    sound_distance: int
    sound_spellings: tuple[tuple[str, str], ...]  # applied in this order
    sound_alikes: frozenset[tuple[str, str]]  # both ways round
    binding_words: frozenset[str]
    owners: frozenset[str]

    def typo_confidence_of(self, word: str) -> float:
        """How sure a typo correction of `word` is, by the length of the word typed."""
        return next(c for n, c in self.typo_confidence if len(word) >= n)


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
    rules: RuleSettings
    reading: ReadingSettings


# A word or phrase as written in the file: it must hold at least one letter or digit.
Phrase = Annotated[str, msgspec.Meta(pattern=r"[0-9A-Za-z]")]
Phrases = list[Phrase]


class _Symptoms(Model, frozen=True):
    pain_words: Phrases = []
    topics: dict[Id, Id] = {}


class _Links(Model, frozen=True):
    topic: Id | None = None
    words: Phrases = []
    alone: Phrases = []
    areas: Phrases = []
    descriptions: Phrases = []
    neighbours: list[list[Id]] = []


class _Paths(Model, frozen=True):
    topic: Id | None = None
    sources: list[Id] = msgspec.field(default_factory=list, name="from")
    via: Phrases = []
    to: Phrases = []


class _Kits(Model, frozen=True):
    topics: dict[Id, list[Id]] = {}
    asks: Phrases = []
    nouns: Phrases = []
    holds: Phrases = []


class _VocabularyFile(Model, frozen=True):
    scoring: Scoring
    rules: RuleSettings
    reading: _ReadingFile
    stop_words: Phrases = []
    plain_words: Phrases = []
    off_topic_words: Phrases = []
    own_body_words: Phrases = []
    own_day_phrases: Phrases = []
    generic_tool_words: Phrases = []
    context_words: Phrases = []
    not_topics: Phrases = []
    # Mappings keyed by a word or a topic, read entry by entry so an error names the key.
    spellings: dict[str, Any] = {}
    weak_words: dict[str, Any] = {}
    synonyms: dict[str, Any] = {}
    word_sets: dict[str, Any] = {}
    outranks: dict[str, Any] = {}
    symptoms: _Symptoms = _Symptoms()
    links: _Links = _Links()
    paths: _Paths = _Paths()
    kits: _Kits = _Kits()


def load_vocabulary(path: Path) -> Vocabulary:
    """Read and validate the lay-word vocabulary; `check_topic_ids` checks its topic ids."""
    data, _ = decode(path, _VocabularyFile)
    file = str(path)
    weak = convert_entries(data.weak_words, Factor, file, "weak_words")
    spellings = convert_entries(data.spellings, Phrase, file, "spellings")
    single = [(w, w, "weak_words") for w in weak]
    single += [
        (w, text, "spellings") for w, spelling in spellings.items() for text in (w, spelling)
    ]
    for entry, text, key in single:
        if len(tokenize(text)) != 1:
            raise ContentError(file, f"'{text}' must be a single word", entry, key)
    links, kits = data.links, data.kits
    return Vocabulary(
        stop_words=frozenset(w for p in data.stop_words for w in tokenize(p)),
        plain_words=_words(data.plain_words),
        off_topic_words=_words(data.off_topic_words),
        own_body_words=_words(data.own_body_words),
        own_day_phrases=_runs(data.own_day_phrases),
        generic_tool_words=_words(data.generic_tool_words),
        spellings={tokenize(k)[0]: tokenize(v)[0] for k, v in spellings.items()},
        synonyms=_topic_lists(data.synonyms, file, "synonyms"),
        word_sets=_topic_lists(data.word_sets, file, "word_sets"),
        not_topics=tuple(data.not_topics),
        outranks=_topic_lists(data.outranks, file, "outranks"),
        weak_words={singular(tokenize(w)[0]): float(v) for w, v in weak.items()},
        context_words=_words(data.context_words),
        pain_words=_words(data.symptoms.pain_words),
        symptom_topics=dict(data.symptoms.topics),
        link_topic=links.topic,
        link_phrases=_runs(links.words),
        link_alone_phrases=_runs(links.alone),
        link_area_words=_words(links.areas),
        link_descriptions=_runs(links.descriptions),
        link_neighbours=tuple(frozenset(group) for group in links.neighbours),
        kits=KitWords(
            asks=_runs(kits.asks),
            nouns=_words(kits.nouns),
            holds=_runs(kits.holds),
            kit_of=_kit_of(kits.topics, file),
        ),
        paths=PathWords(
            topic=data.paths.topic,
            sources=frozenset(data.paths.sources),
            via=_words(data.paths.via),
            ends=_words(data.paths.to),
        ),
        scoring=data.scoring,
        rules=data.rules,
        reading=_reading(data.reading, file),
    )


def _reading(data: _ReadingFile, file: str) -> ReadingSettings:
    if not data.typo_confidence or min(data.typo_confidence) > SHORTEST_TYPO:
        detail = f"must give a confidence for words of {SHORTEST_TYPO} letters"
        raise ContentError(file, detail, "reading", "typo_confidence")
    for key, words in (("binding_words", data.binding_words), ("owners", data.owners)):
        if any(len(tokenize(w)) != 1 for w in words):
            raise ContentError(file, "must be single words", "reading", key)
    sound = data.sound
    return ReadingSettings(
        typo_confidence=tuple(sorted(data.typo_confidence.items(), reverse=True)),
        sure_typo=data.sure_typo,
        fragment=data.fragment,
        shortest_part=data.shortest_part,
        most_parts=data.most_parts,
        silent_starts=tuple(data.silent_starts),
        sound_length=sound.length,
        sound_consonants=sound.consonants,
        sound_distance=sound.distance,
        sound_spellings=tuple(sound.spellings.items()),
        sound_alikes=frozenset(pair for a, b in sound.alikes for pair in ((a, b), (b, a))),
        binding_words=frozenset(tokenize(w)[0] for w in data.binding_words),
        owners=frozenset(tokenize(w)[0] for w in data.owners),
    )


def _words(phrases: list[str]) -> frozenset[str]:
    """Every word of the phrases, in its singular form."""
    return frozenset(singular(w) for p in phrases for w in tokenize(p))


def _runs(phrases: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(tokenize(p)) for p in phrases)


def _topic_lists(raw: dict[str, Any], file: str, key: str) -> dict[str, tuple[str, ...]]:
    return {topic: tuple(v) for topic, v in convert_entries(raw, Phrases, file, key).items()}


def _kit_of(kit_topics: dict[str, list[str]], file: str) -> dict[str, str]:
    kit_of: dict[str, str] = {}
    for kit, topics in kit_topics.items():
        kit_of[kit] = kit
        for topic in topics:
            if kit_of.setdefault(topic, kit) != kit:
                raise ContentError(file, f"'{topic}' is listed under two kits", kit, "kits")
    return kit_of


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
