"""Facets and follow-ups: which part of a topic a message asks for, and whether it continues
the thread ("how long?", "and the other side?") rather than naming a topic of its own.

Rules and words live in content/conversation.yaml; this module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from backchain.bot.errors import ContentError
from backchain.bot.understanding.textnorm import normalize, phrase_positions
from backchain.bot.yamlfile import optional_str_list, read_yaml_mapping

# The parts of a topic a question can ask for, in the order their phrases are tried.
FACETS: tuple[str, ...] = ("dose", "tool", "avoid", "why", "how", "what")


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(normalize(text).split())


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    return next(phrase_positions(words, phrase), None) is not None


@dataclass(frozen=True)
class FollowUpRules:
    """The words that ask for a facet or continue a thread, as read from the content file."""

    facet_phrases: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    back_references: frozenset[str]
    general_topics: frozenset[str]
    continuations: tuple[tuple[str, ...], ...]
    more: frozenset[tuple[str, ...]]
    remember_minutes: int
    after_massage_topic: str | None = None
    after_massage_words: tuple[tuple[str, ...], ...] = ()
    subject_references: frozenset[str] = frozenset()
    complaints: frozenset[str] = frozenset()
    chain_topic: str | None = None
    other_side: tuple[tuple[str, ...], ...] = ()
    part_matters: frozenset[str] = frozenset()
    activities: tuple[str, ...] = ()

    def names_subject(self, words: tuple[str, ...]) -> bool:
        """ "Why does it hurt when I sit?": the topic in hand is the subject."""
        return not self.subject_references.isdisjoint(words)

    def asks_other_side(self, words: tuple[str, ...]) -> bool:
        present = set(words)
        return any(p[0] in present and _contains(words, p) for p in self.other_side)

    def after_massage(self, words: tuple[str, ...]) -> bool:
        """ "sore after", "bruised": how the self-massage just done left the body."""
        present = set(words)
        return any(p[0] in present and _contains(words, p) for p in self.after_massage_words)

    def facet(self, words: tuple[str, ...]) -> str | None:
        """The first facet, in FACETS order, that one of its phrases names; None if none does."""
        best: int | None = None
        index = self._by_first_word
        present = set(words)
        for word in present:
            for rank, phrase in index.get(word, ()):
                if best is not None and rank >= best:
                    continue
                if len(phrase) == 1 or (present.issuperset(phrase) and _contains(words, phrase)):
                    best = rank
        return None if best is None else FACETS[best]

    @cached_property
    def _by_first_word(self) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
        ranks = {facet: rank for rank, facet in enumerate(FACETS)}
        index: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for facet, phrases in self.facet_phrases:
            for phrase in phrases:
                index.setdefault(phrase[0], []).append((ranks[facet], phrase))
        return index

    def refers_back(self, words: tuple[str, ...]) -> bool:
        return not self.back_references.isdisjoint(words)

    def continues(self, words: tuple[str, ...]) -> bool:
        """The message opens like the rest of a thread: "and the other side?", "what else"."""
        return any(words[: len(phrase)] == phrase for phrase in self.continuations)

    def asks_more(self, words: tuple[str, ...]) -> bool:
        """The whole message asks for more of the same: "tell me more", "go on"."""
        return words in self.more


def load_follow_ups(path: Path, topic_ids: set[str]) -> FollowUpRules:
    """Load and check content/conversation.yaml."""
    data = read_yaml_mapping(path)
    file = str(path)
    raw_facets = data.get("facets")
    if not isinstance(raw_facets, dict):
        raise ContentError(file, "must map each facet to its phrases", None, "facets")
    unknown = set(raw_facets) - set(FACETS)
    if unknown:
        raise ContentError(file, f"unknown facet(s) {sorted(unknown)}", None, "facets")
    facet_phrases = []
    for facet in FACETS:
        listed = optional_str_list(raw_facets, facet, file, "facets")
        phrases = tuple(p for p in map(_phrase, listed) if p)
        if not phrases:
            raise ContentError(file, "needs at least one phrase", "facets", facet)
        facet_phrases.append((facet, phrases))
    general = optional_str_list(data, "general_topics", file, None)
    for topic in general:
        if topic not in topic_ids:
            raise ContentError(file, f"names unknown topic '{topic}'", None, "general_topics")
    minutes = data.get("remember_minutes", 30)
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ContentError(file, "must be minutes from 1 to 1440", None, "remember_minutes")
    after = data.get("after_massage") or {}
    if not isinstance(after, dict):
        raise ContentError(file, "must be a mapping", None, "after_massage")
    after_topic = after.get("topic")
    if after_topic is not None and after_topic not in topic_ids:
        raise ContentError(file, f"names unknown topic '{after_topic}'", "after_massage", "topic")
    complaints = optional_str_list(data, "complaints", file, None)
    chain = data.get("chain_topic")
    activities = optional_str_list(data, "activities", file, None)
    for topic in [*complaints, *activities, *([chain] if chain else [])]:
        if topic not in topic_ids:
            raise ContentError(file, f"names unknown topic '{topic}'", None, "complaints")
    return FollowUpRules(
        facet_phrases=tuple(facet_phrases),
        back_references=frozenset(
            w for r in optional_str_list(data, "back_references", file, None) for w in _phrase(r)
        ),
        general_topics=frozenset(general),
        continuations=tuple(
            p for p in map(_phrase, optional_str_list(data, "continuations", file, None)) if p
        ),
        more=frozenset(p for p in map(_phrase, optional_str_list(data, "more", file, None)) if p),
        remember_minutes=minutes,
        after_massage_topic=after_topic,
        subject_references=frozenset(
            w for r in optional_str_list(data, "subject_references", file, None) for w in _phrase(r)
        ),
        complaints=frozenset(complaints),
        chain_topic=chain if isinstance(chain, str) else None,
        activities=tuple(optional_str_list(data, "activities", file, None)),
        part_matters=frozenset(
            w for r in optional_str_list(data, "part_matters", file, None) for w in _phrase(r)
        ),
        other_side=tuple(
            p for p in map(_phrase, optional_str_list(data, "other_side", file, None)) if p
        ),
        after_massage_words=tuple(
            p for p in map(_phrase, optional_str_list(after, "words", file, "after_massage")) if p
        ),
    )
