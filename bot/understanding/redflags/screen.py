"""Screening one message against the compiled rules: which red flag, if any, it raises."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from backchain.bot.understanding.redflags.normalize import SENTENCE_MARK, correct_typos, normalize
from backchain.bot.understanding.redflags.terms import (
    KEY_LENGTH,
    Requirement,
    message_words,
    whole_words,
)

# Most severe first: the first level with a matching rule wins. "crisis" (thoughts of suicide or
# self-harm) is not medical triage but comes first: its reply is sent alone.
LEVELS: tuple[str, ...] = ("crisis", "emergency", "urgent")
# How far back a negation may reach; longer chains of filler words are not negations.
NEGATION_LOOKBACK = 120
MASK = " _ "


@dataclass(frozen=True)
class RedFlag:
    level: str  # one of LEVELS
    rule: str  # rule id
    label: str
    advice: str  # the advice text from content: the rule's own, or its level's


@dataclass(frozen=True)
class Group:
    """Concepts that must all be found in one sentence ("a & b"), or one concept on its own."""

    names: tuple[str, ...]
    # The longest stretch, in words, that holds one match of each concept; None for any length.
    max_words: int | None = None


@dataclass(frozen=True)
class Alternative:
    """One `match` line: every group must be found somewhere in the message."""

    groups: tuple[Group, ...]
    # Every concept of every group, and the groups that need more than presence.
    names: tuple[str, ...] = field(init=False)
    placed: tuple[Group, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for group in self.groups for name in group.names)
        object.__setattr__(self, "names", names)
        placed = tuple(group for group in self.groups if len(group.names) > 1)
        object.__setattr__(self, "placed", placed)


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    label: str
    # Any one alternative is enough.
    alternatives: tuple[Alternative, ...]
    advice: str  # the text sent when this rule is the one that matched


KeySets = tuple[frozenset[str], ...]  # a match has a word starting with a key of each set
# What a message must hold for a fragment to match: its key sets, then the words it needs.
Needs = tuple[KeySets, Requirement]


class Words:
    """The words of one message, and whether it holds what a term needs (see `Requirement`)."""

    def __init__(self, text: str, concepts: dict[str, Concept]):
        self.words = message_words(text)
        self._concepts = concepts
        self._held: dict[str, bool] = {}

    @cached_property
    def beginnings(self) -> frozenset[str]:
        """Every beginning of every word ("nu", "num", "numb" of "numb"): a word starting with
        one of a term's stems is then one set lookup per stem, not a pass over the words."""
        return frozenset(word[:end] for word in self.words for end in range(1, len(word) + 1))

    def hold(self, requirement: Requirement) -> bool:
        if requirement is None:
            return True
        kind = requirement[0]
        if kind == "word":
            if not requirement[1].isdisjoint(self.words):
                return True
            starts = requirement[2]
            return bool(starts) and not self.beginnings.isdisjoint(starts)
        if kind == "all":
            return all(self.hold(part) for part in requirement[1])
        if kind == "any":
            return any(self.hold(part) for part in requirement[1])
        # A concept: what any of its terms needs.
        name = requirement[1]
        found = self._held.get(name)
        if found is None:
            concept = self._concepts.get(name)
            found = concept is None or any(self.hold(needs[1]) for needs in concept.needs)
            self._held[name] = found
        return found


class Concept:
    """One concept's terms as regex fragments, compiled only when a message needs them."""

    def __init__(
        self,
        fragments: list[str],
        keys: frozenset[str] | None,
        single_keys: frozenset[str],
        combined_keys: dict[str, tuple[KeySets, ...]],
        starters: dict[str, tuple[int, ...]] | None,
        needs: list[Needs] | None = None,
        decode_needs: Callable[[], list[Needs]] | None = None,
    ):
        self.fragments = fragments
        # Every match contains a word starting with one of these keys; None when unknown.
        self.keys = keys
        # Keys of the terms that need only one word: any of them in a message may match.
        self.single_keys = single_keys
        # Terms that need several words, by a key of their least common word: such a term may
        # match when each of its other key sets is met too.
        self.combined_keys = combined_keys
        self.combined_first_keys = frozenset(combined_keys)
        # The fragments that can start with a word of each key; None: the whole text is searched.
        self.starters = starters
        self.starter_keys = frozenset(starters) if starters is not None else frozenset()
        # Each fragment's key sets (rarest first) and the words it needs: a match of the
        # fragment has a word starting with a key of every set, and those words, so a message
        # missing one cannot match it.
        # `decode_needs` reads them from the disk cache when first needed instead: a message
        # looks at the needs of the few concepts its words touch.
        self._needs = needs
        self._decode_needs = decode_needs
        self._everything = tuple(range(len(fragments)))
        # Patterns of the fragments a message could match, by their indices: a plain question
        # compiles few or none, and each set of fragments is compiled once.
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        self._at_key: dict[str, re.Pattern[str]] = {}
        self._asked_keys: set[str] = set()
        self._gates: dict[str, frozenset[str] | None] = {}

    @property
    def needs(self) -> list[Needs]:
        if self._needs is None:
            decode = self._decode_needs
            self._needs = decode() if decode is not None else [((), None)] * len(self.fragments)
        return self._needs

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Every fragment in one pattern (what a search of the whole concept would use)."""
        return re.compile(whole_words(self.fragments))

    def possible(self, indices: tuple[int, ...], message_keys: set[str]) -> tuple[int, ...]:
        """Those of the fragments `indices` whose every key set the message meets."""
        needs = self.needs
        return tuple(
            i for i in indices if all(not keys.isdisjoint(message_keys) for keys in needs[i][0])
        )

    def pattern_for(self, indices: tuple[int, ...], words: Words | None) -> re.Pattern[str] | None:
        """The fragments `indices`, in their order, as one whole-word pattern; None when the
        message (its `words`) holds the words of none of them. Compiled once, then kept.

        Leaving out fragments that cannot match anywhere in a message changes no match: the
        pattern's alternatives are tried in order, and those left out would all have failed.
        """
        pattern = self._compiled.get(indices)
        if pattern is None:
            if words is not None and not any(words.hold(self.needs[i][1]) for i in indices):
                return None
            pattern = self._compiled[indices] = self._compile(indices)
        return pattern

    def pattern_at(
        self, key: str, message_keys: set[str], words: Words | None
    ) -> re.Pattern[str] | None:
        """The pattern to try where a word with `key` starts; None when nothing can match there.

        The first time, only the fragments the message could match are compiled, and only when
        it holds their words (a cold `backchain ask` compiles few); asked again, every fragment
        that can start with `key` is compiled once and kept (`prepare`), and later messages need
        no key or word checks at all. Both find the same matches.
        """
        assert self.starters is not None
        pattern = self._at_key.get(key)
        if pattern is not None:
            return pattern
        if key in self._asked_keys:
            return self.prepare(key)
        self._asked_keys.add(key)
        indices = self.possible(self.starters[key], message_keys)
        return self.pattern_for(indices, words) if indices else None

    def prepare(self, key: str) -> re.Pattern[str]:
        """Every fragment that can start with `key`, compiled and kept for all later messages."""
        assert self.starters is not None
        pattern = self._at_key.get(key)
        if pattern is None:
            pattern = self._at_key[key] = self._compile(self.starters[key])
        return pattern

    def _compile(self, indices: tuple[int, ...]) -> re.Pattern[str]:
        return re.compile(whole_words(self.fragments[i] for i in indices))

    def gate(self, key: str) -> frozenset[str] | None:
        """Word keys of which a message must hold one for any fragment that can start with
        `key` to match there; None when some such fragment needs no more than `key` itself.

        Each fragment needs a word with a key of each of its key sets; the rarest set besides
        the one `key` meets is enough to rule it out, so a message holding none of these keys
        holds no match at `key` (`possible` would find no fragment).
        """
        if key in self._gates:
            return self._gates[key]
        assert self.starters is not None
        gate: set[str] = set()
        for i in self.starters[key]:
            others = [keys for keys in self.needs[i][0] if key not in keys]
            if not others:
                self._gates[key] = None
                return None
            gate |= others[0]
        found = self._gates[key] = frozenset(gate)
        return found

    def warm(self) -> int:
        """Compile every pattern a message may need (what messages would do one by one);
        how many were compiled."""
        return sum(1 for _ in self.warm_steps())

    def warm_steps(self) -> Iterator[None]:
        """`warm`, one pattern at a time: each step is well under a millisecond."""
        if self.starters is None:
            self.pattern_for(self._everything, None)
            yield
            return
        for key in self.starters:
            self.prepare(key)
            self.gate(key)
            yield

    def matches(
        self,
        text: str,
        message_keys: set[str],
        words: Words | None = None,
        starts: WordStarts | None = None,
    ) -> list[re.Match[str]]:
        """Every match in `text`, whose word keys are among `message_keys` and whose words are
        among `words` (a message's keys and words stand for those of its masked text too:
        masking only takes words away); `starts`: where `text`'s words start (`word_starts`)."""
        if self.starters is None:
            indices = self.possible(self._everything, message_keys)
            pattern = self.pattern_for(indices, words) if indices else None
            return list(pattern.finditer(text)) if pattern is not None else []
        if starts is None:
            starts = word_starts(text)
        return _matches_at_word_starts(self, text, message_keys, words, starts)

    def could_match(self, message_keys: set[str]) -> bool:
        if self.keys is None:
            return True
        if self.keys.isdisjoint(message_keys):
            return False
        if not self.single_keys.isdisjoint(message_keys):
            return True
        combined = self.combined_keys
        for key in self.combined_first_keys.intersection(message_keys):
            for other_key_sets in combined[key]:
                for keys in other_key_sets:
                    if keys.isdisjoint(message_keys):
                        break
                else:
                    return True
        return False


class WordStarts(dict[str, list[int]]):
    """Where the words of one text that begin with a key start, looked up when first asked."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def __missing__(self, key: str) -> list[int]:
        text = self.text
        found = [0] if text.startswith(key) else []
        needle = " " + key
        at = text.find(needle)
        while at >= 0:
            found.append(at + 1)
            at = text.find(needle, at + 1)
        self[key] = found
        return found


def word_starts(text: str) -> WordStarts:
    """Where the words of `text` beginning with any key start (computed per key, when asked)."""
    return WordStarts(text)


def _matches_at_word_starts(
    concept: Concept, text: str, message_keys: set[str], words: Words | None, starts: WordStarts
) -> list[re.Match[str]]:
    """A match at every word start where one can begin; far quicker than a search.

    The normalised text is words separated by spaces, so a match can only start at the start
    of a word, and only the terms that can begin with that word's key, and whose other words
    the message has, are tried there.
    """
    matches = []
    prepared = concept._at_key
    gates = concept._gates
    for key in concept.starter_keys.intersection(message_keys):
        gate = gates[key] if key in gates else concept.gate(key)
        if gate is not None and gate.isdisjoint(message_keys):
            continue  # no fragment that can start here has its other words in the message
        positions = starts[key]
        if not positions:
            continue
        pattern = prepared.get(key)  # once prepared, no more to ask (see `pattern_at`)
        if pattern is None:
            pattern = concept.pattern_at(key, message_keys, words)
            if pattern is None:
                continue
        match_at = pattern.match
        for position in positions:
            match = match_at(text, position)
            if match:
                matches.append(match)
    return matches


class Negation:
    """Decides whether a matched symptom is negated by the words around it."""

    def __init__(self, before: str, after: str):
        self.before = before  # the patterns' sources, compiled when first needed
        self.after = after

    @cached_property
    def _before(self) -> re.Pattern[str]:
        return re.compile(self.before)

    @cached_property
    def _after(self) -> re.Pattern[str]:
        return re.compile(self.after)

    def warm(self) -> None:
        self._before  # noqa: B018 - compiles and keeps them
        self._after  # noqa: B018

    def cancels(self, text: str, start: int, end: int) -> bool:
        lookback = text[max(0, start - NEGATION_LOOKBACK) : start].rstrip()
        if self._before.search(lookback):
            return True
        return self._after.match(text, end) is not None


@dataclass(frozen=True)
class Place:
    """Where a match stands: its sentence and its first and last word, counted from 0."""

    sentence: int
    first_word: int
    last_word: int

    @classmethod
    def of(cls, text: str, start: int, end: int) -> Place:
        first = text.count(" ", 0, start)
        return cls(
            sentence=text.count(SENTENCE_MARK, 0, start),
            first_word=first,
            last_word=first + text.count(" ", start, end),
        )


class Message:
    """One message being screened, with what has been found in it so far."""

    def __init__(
        self,
        text: str,
        not_symptoms: Concept | None,
        concepts: dict[str, Concept] | None = None,
    ):
        self.text = text
        self.keys = {word[:KEY_LENGTH] for word in text.split(" ")}
        self.words = Words(text, concepts or {})
        self.found: dict[str, bool] = {}
        self.places: dict[str, list[Place]] = {}
        self._starts: dict[str, WordStarts] = {}
        self._not_symptoms = not_symptoms

    @cached_property
    def masked(self) -> str:
        """The text with everyday look-alike phrases blanked out, computed when first needed."""
        phrases = self._not_symptoms
        if phrases is None or not phrases.could_match(self.keys):
            return self.text
        return blank_out(
            self.text, phrases.matches(self.text, self.keys, self.words, self.starts(self.text))
        )

    def starts(self, text: str) -> WordStarts:
        """Where the words of `text` (this message's text, or its masked text) start."""
        found = self._starts.get(text)
        if found is None:
            found = self._starts[text] = word_starts(text)
        return found


def blank_out(text: str, matches: list[re.Match[str]]) -> str:
    """`text` with each match replaced by a mask; of overlapping matches the earliest, longest wins.

    Same result as a regex substitution of the whole phrase list, but only word starts whose key
    can begin a phrase are tried, which is far quicker than searching every position.
    """
    if not matches:
        return text
    pieces = []
    end = 0
    for match in sorted(matches, key=lambda m: (m.start(), -m.end())):
        if match.start() < end:
            continue
        pieces.append(text[end : match.start()])
        pieces.append(MASK)
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces)


@dataclass(frozen=True)
class ScreenParts:
    """What a screen is built from (for the on-disk cache)."""

    rules: list[Rule]
    concepts: dict[str, Concept]
    negation: Negation
    not_symptoms: Concept | None
    typos: dict[str, str]


class RedFlagScreen:
    """Screens free text for red-flag symptoms; built by `load_red_flags`."""

    def __init__(
        self,
        rules: Iterable[Rule],
        concepts: dict[str, Concept],
        negation: Negation,
        not_symptoms: Concept | None,
        typos: dict[str, str],
    ):
        severity = {level: rank for rank, level in enumerate(LEVELS)}
        self._rules = sorted(rules, key=lambda rule: severity[rule.level])
        self._concepts = concepts
        self._negation = negation
        self._not_symptoms = not_symptoms
        self._typos = typos
        # The concepts a word key can begin a match of, and those with no known keys: a
        # message's keys name every concept it could hold, found with one look-up per key.
        by_key: dict[str, list[str]] = {}
        unkeyed = set()
        for name, concept in concepts.items():
            if concept.keys is None:
                unkeyed.add(name)
            for key in concept.keys or ():
                by_key.setdefault(key, []).append(name)
        self._by_key = {key: tuple(names) for key, names in by_key.items()}
        self._unkeyed = frozenset(unkeyed)

    def parts(self) -> ScreenParts:
        return ScreenParts(
            self._rules,
            self._concepts,
            self._negation,
            self._not_symptoms,
            self._typos,
        )

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self._rules)

    def warm(self) -> int:
        """Compile every pattern now rather than on the messages that first need them, so no
        message pays for a compilation. Answers are the same either way. Returns how many
        patterns were compiled."""
        return sum(1 for _ in self.warm_steps())

    def warm_steps(self) -> Iterator[None]:
        """`warm` in small steps (one pattern each), for a caller that interleaves other work:
        the bot runs them between messages on its event loop after it starts."""
        for concept in self._concepts.values():
            yield from concept.warm_steps()
        if self._not_symptoms is not None:
            yield from self._not_symptoms.warm_steps()
        self._negation.warm()
        yield

    def screen(self, text: str) -> RedFlag | None:
        """The most severe red flag in `text`, or None."""
        message = self.message(text)
        found = message.found
        keyed = self._keyed(message.keys)
        for rule in self._rules:
            for alternative in rule.alternatives:
                # Presence is cheap and cached; where the matches stand is checked only after.
                for name in alternative.names:
                    present = found.get(name)
                    if present is None:
                        # A concept none of whose keys the message holds cannot match.
                        present = name in keyed and self._present(name, message)
                    if not present:
                        break
                else:
                    if all(self._together(group, message) for group in alternative.placed):
                        return RedFlag(rule.level, rule.id, rule.label, rule.advice)
        return None

    def _keyed(self, keys: set[str]) -> set[str]:
        """The concepts with a key among `keys`, and those without keys."""
        names = set(self._unkeyed)
        by_key = self._by_key
        for key in keys:
            found = by_key.get(key)
            if found is not None:
                names.update(found)
        return names

    def message(self, text: str) -> Message:
        """`text` normalised, with typing slips in key words corrected, ready to screen."""
        return Message(
            correct_typos(normalize(text), self._typos), self._not_symptoms, self._concepts
        )

    def _together(self, group: Group, message: Message) -> bool:
        """Whether one match of each concept of `group` shares a sentence (and a word window)."""
        limit = group.max_words
        for places in itertools.product(*(self._places(n, message) for n in group.names)):
            if len({place.sentence for place in places}) != 1:
                continue
            first = min(place.first_word for place in places)
            last = max(place.last_word for place in places)
            if limit is None or last - first < limit:
                return True
        return False

    def _places(self, name: str, message: Message) -> list[Place]:
        places = message.places.get(name)
        if places is None:
            text = message.masked
            places = [
                Place.of(text, m.start(), m.end())
                for m in self._concepts[name].matches(
                    text, message.keys, message.words, message.starts(text)
                )
                if not self._negation.cancels(text, m.start(), m.end())
            ]
            message.places[name] = places
        return places

    def _present(self, name: str, message: Message) -> bool:
        found = message.found.get(name)
        if found is None:
            concept = self._concepts[name]
            found = False
            if concept.could_match(message.keys):
                text = message.masked
                found = any(
                    not self._negation.cancels(text, m.start(), m.end())
                    for m in concept.matches(
                        text, message.keys, message.words, message.starts(text)
                    )
                )
            message.found[name] = found
        return found
