"""Red-flag screening: symptoms that need a doctor before any self-massage advice.

Every message is screened before topic matching. The rules live in `content/red_flags.yaml` as
named concept lists (terms a therapist can read) and rules that combine concepts; everything is
compiled into regular expressions once, at load time, so screening a message costs microseconds.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchain.bot.errors import ContentError
from backchain.bot.yamlfile import optional_str_list, read_yaml_mapping, require_str

# The standard parser reads a pattern's first letters for the quick word check. It is private,
# so when a Python release changes it the check is skipped and every pattern simply runs.
try:
    from re import _constants, _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the Python release
    _parser = None  # type: ignore[assignment]

# Most severe first: the first level with a matching rule wins.
LEVELS: tuple[str, ...] = ("emergency", "urgent")
MAX_SCREENED_CHARS = 4096
RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CONCEPT_NAME = RULE_ID
# How far back a negation may reach; longer chains of filler words are not negations.
NEGATION_LOOKBACK = 120

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
# Clause punctuation becomes a "|" token and the end of a sentence a "||" token; no phrase may
# cross either. A decimal point between digits ("38.5") stays.
# (Every alternative starts with a character so the regex engine can skip ahead quickly.)
_SENTENCE_BREAK = re.compile(r"[!?\n\r\u2026]|\.(?!\d)|\.(?<!\d\.)")
_CLAUSE_BREAK = re.compile(r"[;:,()\[\]{}\"\t]")
_NOT_KEPT = re.compile(r"[^a-z0-9'.| ]+")
_COMBINING_MARK = re.compile(r"[\u0300-\u036f]+")
# Quotes around a word go; the apostrophe inside "don't" stays.
_EDGE_APOSTROPHE = re.compile(r"'+(?![a-z0-9])|'(?<![a-z0-9]')'*")
_REPEATED_BREAK = re.compile(r"\|+(?: \|+)+")
SENTENCE_MARK = "||"
_TERM_GAP = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")
_TERM_REFERENCE = re.compile(r"\{([a-z][a-z0-9-]*)\}")
_TERM_APOSTROPHE = re.compile(r"'(?!\?)")
_UPPER_CASE_OUTSIDE_ESCAPES = re.compile(r"\\.|[A-Z]+")
# A term matches whole words only; the apostrophe counts as part of a word ("don't").
_WORD_START = r"(?<![\w'])"
_WORD_END = r"(?![\w'])"
# "..." in a term: up to three words, never across a clause break.
_GAP = r"(?: [^ |]+){0,3} "
_MASK = " _ "


@dataclass(frozen=True)
class RedFlag:
    level: str  # "emergency" | "urgent"
    rule: str  # rule id
    label: str
    advice: str  # the level's advice text from content


@dataclass(frozen=True)
class _Group:
    """Concepts that must all be found in one sentence ("a & b"), or one concept on its own."""

    names: tuple[str, ...]
    # The longest stretch, in words, that holds one match of each concept; None for any length.
    max_words: int | None = None


@dataclass(frozen=True)
class _Alternative:
    """One `match` line: every group must be found somewhere in the message."""

    groups: tuple[_Group, ...]
    # Every concept of every group, and the groups that need more than presence.
    names: tuple[str, ...] = field(init=False)
    placed: tuple[_Group, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for group in self.groups for name in group.names)
        object.__setattr__(self, "names", names)
        placed = tuple(group for group in self.groups if len(group.names) > 1)
        object.__setattr__(self, "placed", placed)


@dataclass(frozen=True)
class _Rule:
    id: str
    level: str
    label: str
    # Any one alternative is enough.
    alternatives: tuple[_Alternative, ...]


def normalize(text: str) -> str:
    """Lower-case words separated by single spaces, with " | " where a clause ends.

    Accents are folded, curly apostrophes become "'", emoji and other symbols vanish.
    """
    text = text[:MAX_SCREENED_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
        text = _COMBINING_MARK.sub("", text).casefold()
    text = _SENTENCE_BREAK.sub(" || ", text.lower())
    text = _CLAUSE_BREAK.sub(" | ", text)
    text = _NOT_KEPT.sub(" ", text)
    if "'" in text:
        text = _EDGE_APOSTROPHE.sub("", text)
    return _REPEATED_BREAK.sub(_one_break, " ".join(text.split()))


def _one_break(run: re.Match[str]) -> str:
    # A run of breaks ends the sentence when any of them does.
    return SENTENCE_MARK if SENTENCE_MARK in run.group() else "|"


class _Negation:
    """Decides whether a matched symptom is negated by the words around it."""

    def __init__(self, before: re.Pattern[str], after: re.Pattern[str]):
        self._before = before
        self._after = after

    def cancels(self, text: str, start: int, end: int) -> bool:
        lookback = text[max(0, start - NEGATION_LOOKBACK) : start].rstrip()
        if self._before.search(lookback):
            return True
        return self._after.match(text, end) is not None


class RedFlagScreen:
    """Screens free text for red-flag symptoms; built by `load_red_flags`."""

    def __init__(
        self,
        rules: Iterable[_Rule],
        concepts: dict[str, _Concept],
        advice: dict[str, str],
        negation: _Negation,
        not_symptoms: _Concept | None,
        typos: dict[str, str],
    ):
        severity = {level: rank for rank, level in enumerate(LEVELS)}
        self._rules = sorted(rules, key=lambda rule: severity[rule.level])
        self._concepts = concepts
        self._advice = advice
        self._negation = negation
        self._not_symptoms = not_symptoms
        self._typos = typos

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self._rules)

    def screen(self, text: str) -> RedFlag | None:
        """The most severe red flag in `text`, or None."""
        message = _Message(self._prepare(text), self._not_symptoms)
        found = message.found
        for rule in self._rules:
            for alternative in rule.alternatives:
                # Presence is cheap and cached; where the matches stand is checked only after.
                for name in alternative.names:
                    present = found.get(name)
                    if present is None:
                        present = self._present(name, message)
                    if not present:
                        break
                else:
                    if all(self._together(group, message) for group in alternative.placed):
                        return RedFlag(rule.level, rule.id, rule.label, self._advice[rule.level])
        return None

    def _together(self, group: _Group, message: _Message) -> bool:
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

    def _places(self, name: str, message: _Message) -> list[_Place]:
        places = message.places.get(name)
        if places is None:
            text = message.masked
            places = [
                _Place.of(text, m.start(), m.end())
                for m in self._concepts[name].matches(message)
                if not self._negation.cancels(text, m.start(), m.end())
            ]
            message.places[name] = places
        return places

    def _prepare(self, text: str) -> str:
        """The normalised text with single typing slips in key words corrected."""
        typos = self._typos
        return " ".join([typos.get(word, word) for word in normalize(text).split(" ")])

    def _present(self, name: str, message: _Message) -> bool:
        found = message.found.get(name)
        if found is None:
            concept = self._concepts[name]
            found = concept.could_match(message.keys) and any(
                not self._negation.cancels(message.masked, m.start(), m.end())
                for m in concept.matches(message)
            )
            message.found[name] = found
        return found


@dataclass(frozen=True)
class _Place:
    """Where a match stands: its sentence and its first and last word, counted from 0."""

    sentence: int
    first_word: int
    last_word: int

    @classmethod
    def of(cls, text: str, start: int, end: int) -> _Place:
        first = text.count(" ", 0, start)
        return cls(
            sentence=text.count(SENTENCE_MARK, 0, start),
            first_word=first,
            last_word=first + text.count(" ", start, end),
        )


class _Message:
    """One message being screened, with what has been found in it so far."""

    def __init__(self, text: str, not_symptoms: _Concept | None):
        self.text = text
        self.keys = {word[:KEY_LENGTH] for word in text.split(" ")}
        self.found: dict[str, bool] = {}
        self.places: dict[str, list[_Place]] = {}
        self._not_symptoms = not_symptoms
        self._masked: str | None = None

    @property
    def masked(self) -> str:
        """The text with everyday look-alike phrases blanked out, computed when first needed."""
        if self._masked is None:
            self._masked = self._mask()
        return self._masked

    def _mask(self) -> str:
        phrases = self._not_symptoms
        if phrases is None or not phrases.could_match(self.keys):
            return self.text
        if phrases.starters is None:
            return phrases.pattern.sub(_MASK, self.text)
        found = _matches_at_word_starts(phrases.starters, self.text, self.keys)
        return _blank_out(self.text, found)


def _blank_out(text: str, matches: list[re.Match[str]]) -> str:
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
        pieces.append(_MASK)
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces)


def _matches_at_word_starts(
    starters: _Starters, text: str, message_keys: set[str]
) -> list[re.Match[str]]:
    """A match at every word start where one can begin; far quicker than a search.

    The normalised text is words separated by single spaces, so a match can only start at the
    start of a word, and only the terms that can begin with that word's key are tried there.
    """
    matches = []
    patterns = starters.patterns
    for key in starters.keys.intersection(message_keys):
        pattern = patterns[key]
        if text.startswith(key):
            match = pattern.match(text)
            if match:
                matches.append(match)
        needle = " " + key
        found = text.find(needle)
        while found >= 0:
            match = pattern.match(text, found + 1)
            if match:
                matches.append(match)
            found = text.find(needle, found + 1)
    return matches


_KeySets = tuple[frozenset[str], ...]  # a match has a word starting with a key of each set


@dataclass(frozen=True)
class _Starters:
    """The terms that can start with a word of each key, as one pattern per key."""

    patterns: dict[str, re.Pattern[str]]
    keys: frozenset[str]  # the same keys, for quick set operations


@dataclass(frozen=True)
class _Concept:
    pattern: re.Pattern[str]
    # Every match contains a word starting with one of these keys; None when unknown.
    keys: frozenset[str] | None
    # Keys of the terms that need only one word: any of them in a message may match.
    single_keys: frozenset[str] = frozenset()
    # Terms that need several words ("{numbness} ... {saddle-area}"), by a key of their least
    # common word: such a term may match when each of its other key sets is met too.
    combined_keys: dict[str, tuple[_KeySets, ...]] = field(default_factory=dict)
    combined_first_keys: frozenset[str] = frozenset()
    # None when some term's first word is unknown, so the whole text is searched.
    starters: _Starters | None = None

    def matches(self, message: _Message) -> Iterable[re.Match[str]]:
        if self.starters is None:
            return self.pattern.finditer(message.masked)
        return _matches_at_word_starts(self.starters, message.masked, message.keys)

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


# --- word keys: a cheap test that lets most concepts skip their regex -----------------------

KEY_LENGTH = 3
# Keys of everyday words: a poor choice when a term offers a rarer word to look for.
_COMMON_KEYS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "bee", "but", "can", "cou", "do", "doe",
        "don", "eve", "fee", "for", "get", "got", "had", "has", "hav", "her", "his", "i", "i'm",
        "if", "im", "in", "is", "it", "its", "jus", "lik", "me", "my", "no", "not", "of", "on",
        "or", "out", "so", "som", "tha", "the", "thi", "to", "up", "was", "whe", "wit", "wou",
        "you",
    }
)  # fmt: skip
# Keys of words that nearly every message here contains: they make poor sole keys too.
_DOMAIN_KEYS = frozenset({"bac", "pai", "hur", "hip", "leg", "fee", "sor", "ach", "low", "my"})
_SMALL_CHARACTER_SET = 12
_Start = tuple[str, bool]  # (literal start of a match, whether the word ends right after it)


def _word_keys(pattern: str) -> frozenset[str] | None:
    """Keys (first KEY_LENGTH letters) of one word that every match of `pattern` contains.

    Of the words a match must contain, the least common one is chosen ("fall" in
    "(a|the|my) fall"). None when no such word is known in advance.
    """
    key_sets = _all_word_keys(pattern)
    return key_sets[0] if key_sets else None


def _all_word_keys(pattern: str) -> _KeySets | None:
    """Key sets of every word that a match of `pattern` must contain, least common first."""
    if _parser is None:
        return None
    try:
        candidates = _mandatory_word_keys(list(_parser.parse(pattern)))
    except Exception:  # an unfamiliar parser shape: no shortcut, the pattern always runs
        return None
    unique = sorted(set(candidates), key=_commonness)
    return tuple(unique) if unique else None


def _new_concept(pattern: str, fragments: list[str]) -> _Concept:
    compiled = re.compile(pattern)
    starters = _starters(fragments)
    keys: set[str] = set()
    single: set[str] = set()
    combined: dict[str, list[_KeySets]] = {}
    for fragment in fragments:
        key_sets = _all_word_keys(fragment)
        if key_sets is None:
            return _Concept(compiled, None, starters=starters)
        keys |= key_sets[0]
        if len(key_sets) == 1:
            single |= key_sets[0]
            continue
        # Two words are enough to skip most messages; more only cost time.
        for key in key_sets[0]:
            combined.setdefault(key, []).append(key_sets[1:2])
    return _Concept(
        compiled,
        frozenset(keys),
        frozenset(single),
        {key: tuple(others) for key, others in combined.items()},
        frozenset(combined),
        starters,
    )


def _starters(fragments: list[str]) -> _Starters | None:
    """One pattern per first-word key, of the fragments whose matches can start with it."""
    by_key: dict[str, list[str]] = {}
    for fragment in fragments:
        first_keys = _first_word_keys(_whole_words([fragment]))
        if first_keys is None:
            return None
        for key in first_keys:
            by_key.setdefault(key, []).append(fragment)
    # Keys that share a group share one compiled pattern (the re module caches compilations).
    patterns = {key: re.compile(_whole_words(group)) for key, group in by_key.items()}
    return _Starters(patterns, frozenset(patterns))


def _first_word_keys(pattern: str) -> frozenset[str] | None:
    """Keys of the words a match of `pattern` may start with; None when unknown."""
    if _parser is None:
        return None
    try:
        return _keys_of_starts(_starts(list(_parser.parse(pattern)), "", 0))
    except Exception:  # an unfamiliar parser shape: the whole text is searched
        return None


def _commonness(keys: frozenset[str]) -> tuple[int, int]:
    short = sum(1 for key in keys if len(key) < KEY_LENGTH)
    return (len(keys & _COMMON_KEYS) + len(keys & _DOMAIN_KEYS) + short, len(keys))


def _mandatory_word_keys(ops: list[Any]) -> list[frozenset[str]]:
    """Key sets of the words that start at a known place in the top-level sequence `ops`."""
    found = []
    at_word_start = True
    index = 0
    while index < len(ops):
        op, arg = ops[index]
        if op is _constants.SUBPATTERN:
            # A plain group: its items stand in the sequence itself.
            ops = ops[:index] + list(arg[-1]) + ops[index + 1 :]
            continue
        index += 1
        if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
            continue
        if at_word_start:
            keys = _keys_of_starts(_starts(ops[index - 1 :], "", 0))
            if keys is not None:
                found.append(keys)
        if op is _constants.LITERAL:
            at_word_start = arg == ord(" ")
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
            at_word_start = at_word_start and _ends_with_space(arg[2])
        else:
            at_word_start = False
    return found


def _ends_with_space(ops: Any) -> bool:
    items = list(ops)
    return bool(items) and items[-1] == (_constants.LITERAL, ord(" "))


def _keys_of_starts(starts: set[_Start] | None) -> frozenset[str] | None:
    if starts is None:
        return None
    keys: set[str] = set()
    for prefix, word_ends in starts:
        if len(prefix) >= KEY_LENGTH:
            keys.add(prefix[:KEY_LENGTH])
        elif prefix and word_ends:
            keys.add(prefix)
        else:
            return None
    return frozenset(keys)


def _starts(ops: list[Any], prefix: str, depth: int) -> set[_Start] | None:
    """Every literal start (up to KEY_LENGTH characters) of the parsed sequence `ops`."""
    if len(prefix) >= KEY_LENGTH:
        return {(prefix, False)}
    if not ops:
        return {(prefix, True)}
    if depth > 50:
        return None
    op, arg = ops[0]
    rest = ops[1:]
    if op is _constants.LITERAL:
        if arg == ord(" "):
            return {(prefix, True)} if prefix else None
        return _starts(rest, prefix + chr(arg), depth + 1)
    if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
        return _starts(rest, prefix, depth + 1)
    if op is _constants.SUBPATTERN:
        return _starts(list(arg[-1]) + rest, prefix, depth + 1)
    if op is _constants.BRANCH:
        return _union(_starts(list(branch) + rest, prefix, depth + 1) for branch in arg[1])
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
        return _repeat_starts(arg, rest, prefix, depth)
    if op is _constants.IN:
        characters = _small_set(arg)
        if characters is not None:
            return _union(_starts(rest, prefix + ch, depth + 1) for ch in characters)
    return {(prefix, False)}


def _repeat_starts(arg: Any, rest: list[Any], prefix: str, depth: int) -> set[_Start] | None:
    low, high, item = arg
    if high == 0:
        return _starts(rest, prefix, depth + 1)
    again = [(_constants.MAX_REPEAT, (max(low - 1, 0), high - 1, item))]
    once = _starts(list(item) + again + rest, prefix, depth + 1)
    return once if low > 0 else _union([once, _starts(rest, prefix, depth + 1)])


def _small_set(items: Any) -> list[str] | None:
    characters: list[str] = []
    for op, arg in items:
        if op is _constants.LITERAL:
            characters.append(chr(arg))
        elif op is _constants.RANGE:
            characters.extend(chr(code) for code in range(arg[0], arg[1] + 1))
        else:
            return None
    return characters if len(characters) <= _SMALL_CHARACTER_SET else None


def _union(parts: Iterable[set[_Start] | None]) -> set[_Start] | None:
    result: set[_Start] = set()
    for part in parts:
        if part is None:
            return None
        result |= part
    return result


# --- loading ---------------------------------------------------------------------------------


def _term_to_regex(term: str) -> str:
    """A therapist's term ("can't ... pee") as a regex fragment over normalised text."""
    term = _UPPER_CASE_OUTSIDE_ESCAPES.sub(_lower_letter, " ".join(term.split()))
    term = _TERM_GAP.sub(lambda _: _GAP, term)
    return _TERM_APOSTROPHE.sub("'?", term)


def _lower_letter(match: re.Match[str]) -> str:
    # "\W" and "\w" mean different things: only plain letters are folded.
    text = match.group()
    return text if text.startswith("\\") else text.lower()


def _whole_words(alternatives: Iterable[str]) -> str:
    return f"{_WORD_START}(?:{'|'.join(alternatives)}){_WORD_END}"


class _ConceptCompiler:
    """Expands `{name}` references between concepts and compiles each concept once."""

    def __init__(self, raw: dict[str, list[str]], file: str):
        self._raw = raw
        self._file = file
        self._expanded: dict[str, str] = {}
        self._fragments: dict[str, list[str]] = {}

    def expand(self, name: str, trail: tuple[str, ...] = ()) -> str:
        if name in self._expanded:
            return self._expanded[name]
        if name in trail:
            cycle = " -> ".join((*trail, name))
            raise ContentError(self._file, f"refers to itself ({cycle})", trail[0], "concepts")
        fragments = []
        for term in self._raw[name]:
            fragment = _TERM_REFERENCE.sub(
                functools.partial(
                    self._expand_reference, name=name, term=term, trail=(*trail, name)
                ),
                _term_to_regex(term),
            )
            _check_regex(fragment, term, self._file, name)
            fragments.append(fragment)
        self._fragments[name] = fragments
        self._expanded[name] = _whole_words(fragments)
        return self._expanded[name]

    def _expand_reference(
        self, ref: re.Match[str], name: str, term: str, trail: tuple[str, ...]
    ) -> str:
        return self._reference(ref.group(1), name, term, trail)

    def _reference(self, target: str, name: str, term: str, trail: tuple[str, ...]) -> str:
        if target not in self._raw:
            raise ContentError(
                self._file, f"term '{term}' names unknown concept '{target}'", name, "concepts"
            )
        return self.expand(target, trail)

    def compile_all(self) -> dict[str, _Concept]:
        compiled = {}
        for name in self._raw:
            pattern = self.expand(name)
            compiled[name] = _new_concept(pattern, self._fragments[name])
        return compiled


def _check_regex(fragment: str, term: str, file: str, entry: str | None) -> None:
    try:
        re.compile(fragment)
    except re.error as exc:
        raise ContentError(
            file,
            f"term '{term}' is not a valid pattern ({exc})",
            entry,
            "concepts" if entry else None,
        ) from exc


def _parse_levels(data: dict[str, Any], file: str) -> dict[str, str]:
    levels = data.get("levels")
    if not isinstance(levels, dict):
        raise ContentError(file, "must map each level to its advice", None, "levels")
    for level in levels:
        if level not in LEVELS:
            raise ContentError(
                file, f"unknown level; use one of {', '.join(LEVELS)}", str(level), "levels"
            )
    advice = {}
    for level in LEVELS:
        entry = levels.get(level)
        if not isinstance(entry, dict):
            raise ContentError(file, "is missing", level, "advice")
        advice[level] = require_str(entry, "advice", file, level)
    return advice


def _parse_concepts(data: dict[str, Any], file: str) -> dict[str, list[str]]:
    concepts = data.get("concepts")
    if not isinstance(concepts, dict) or not concepts:
        raise ContentError(file, "must map concept names to lists of terms", None, "concepts")
    parsed: dict[str, list[str]] = {}
    for name in concepts:
        if not isinstance(name, str) or not CONCEPT_NAME.match(name):
            raise ContentError(
                file, "concept names are lower-case words joined by '-'", str(name), "concepts"
            )
        parsed[name] = optional_str_list(concepts, name, file, name)
        if not parsed[name]:
            raise ContentError(file, "needs at least one term", name, "concepts")
    return parsed


_WITHIN = re.compile(r"^\s*within (\d+) words?:(.*)$")


def _parse_alternative(
    line: str, rule_id: str, concepts: dict[str, Any], file: str
) -> _Alternative:
    """A `match` line: "a + b" anywhere, "a & b" in one sentence, "within 8 words: a & b"."""
    max_words = None
    within = _WITHIN.match(line)
    if within:
        max_words = int(within.group(1))
        line = within.group(2)
        if "&" not in line or max_words < 1:
            raise ContentError(
                file,
                f"'{line.strip()}': 'within N words:' needs an 'a & b' group",
                rule_id,
                "match",
            )
    groups = []
    for part in line.split("+"):
        names = tuple(name.strip() for name in part.split("&"))
        for name in names:
            if name not in concepts:
                raise ContentError(file, f"names unknown concept '{name}'", rule_id, "match")
        groups.append(_Group(names, max_words))
    return _Alternative(tuple(groups))


def _parse_rule(raw: Any, index: int, concepts: dict[str, Any], file: str) -> _Rule:
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", f"#{index + 1}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise ContentError(file, "must be lower-case words joined by '-'", f"#{index + 1}", "id")
    level = raw.get("level")
    if level not in LEVELS:
        raise ContentError(file, f"must be one of {', '.join(LEVELS)}", rule_id, "level")
    lines = optional_str_list(raw, "match", file, rule_id)
    if not lines:
        raise ContentError(file, "needs at least one pattern line", rule_id, "match")
    return _Rule(
        id=rule_id,
        level=level,
        label=require_str(raw, "label", file, rule_id),
        alternatives=tuple(_parse_alternative(line, rule_id, concepts, file) for line in lines),
    )


def _parse_rules(data: dict[str, Any], concepts: dict[str, Any], file: str) -> list[_Rule]:
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "must be a non-empty list", None, "rules")
    rules: list[_Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries):
        rule = _parse_rule(raw, index, concepts, file)
        if rule.id in seen:
            raise ContentError(file, "duplicate rule id", rule.id, "id")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _phrase_list(data: dict[str, Any], key: str, file: str, entry: str | None) -> str:
    """The terms under `key` as one alternation, each checked as a regex."""
    return "|".join(_phrase_fragments(data, key, file, entry))


def _phrase_fragments(data: dict[str, Any], key: str, file: str, entry: str | None) -> list[str]:
    fragments = []
    for term in optional_str_list(data, key, file, entry):
        fragment = _term_to_regex(term)
        try:
            re.compile(fragment)
        except re.error as exc:
            raise ContentError(
                file, f"'{term}' is not a valid pattern ({exc})", entry, key
            ) from exc
        fragments.append(fragment)
    return fragments


def _parse_negation(data: dict[str, Any], file: str) -> _Negation:
    raw = data.get("negation", {})
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", None, "negation")
    before = _phrase_list(raw, "before", file, "negation") or "(?!)"
    fillers = _phrase_list(raw, "fillers", file, "negation") or "(?!)"
    after = _phrase_list(raw, "after", file, "negation") or "(?!)"
    after_fillers = _phrase_list(raw, "after_fillers", file, "negation") or "(?!)"
    # "no fever" / "I don't have any numbness" / "no numbness or weakness": the cue, then only
    # filler words (or "X or") up to the symptom.
    before_pattern = rf"(?:^| )(?:{before})(?: (?:{fillers}|[^ |]+ (?:or|nor)))*$"
    # "bladder is fine" / "bladder and bowels are fine", never "is not fine".
    after_pattern = rf"(?: (?:and|or) [^ |]+)?(?: (?:{after_fillers}))* (?:{after}){_WORD_END}"
    return _Negation(re.compile(before_pattern), re.compile(after_pattern))


def _parse_not_symptoms(data: dict[str, Any], file: str) -> _Concept | None:
    fragments = _phrase_fragments(data, "not_symptoms", file, None)
    return _new_concept(_whole_words(fragments), fragments) if fragments else None


def _literal_words(texts: Iterable[str]) -> set[str]:
    return {word for text in texts for word in re.findall(r"[a-z]{3,}", text.lower())}


def _slips(word: str) -> set[str]:
    """Spellings one typing slip away from `word`; wider for longer words, where slips are safe."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    variants = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    variants |= {word[:i] + word[i] + word[i:] for i in range(len(word))}
    if len(word) >= 5:
        variants |= {word[:i] + word[i + 1 :] for i in range(len(word))}
    if len(word) >= 7:
        variants |= {word[:i] + c + word[i + 1 :] for i in range(len(word)) for c in letters}
    variants.discard(word)
    return variants


def _typo_table(words: list[str], known: set[str]) -> dict[str, str]:
    """Misspelling -> key word, leaving out anything that is itself a word the content uses."""
    table: dict[str, str] = {}
    ambiguous: set[str] = set()
    for word in words:
        for slip in _slips(word.lower()):
            if slip in known or len(slip) < 4:
                continue
            if table.setdefault(slip, word) != word:
                ambiguous.add(slip)
    for slip in ambiguous:
        del table[slip]
    return table


def load_red_flags(path: Path) -> RedFlagScreen:
    """Read, validate and compile `red_flags.yaml`."""
    data = read_yaml_mapping(path)
    file = str(path)
    advice = _parse_levels(data, file)
    raw_concepts = _parse_concepts(data, file)
    rules = _parse_rules(data, raw_concepts, file)
    concepts = _ConceptCompiler(raw_concepts, file).compile_all()
    negation = _parse_negation(data, file)
    not_symptoms = _parse_not_symptoms(data, file)
    typo_words = optional_str_list(data, "typo_tolerant", file, None)
    known = _literal_words(
        [term for terms in raw_concepts.values() for term in terms]
        + optional_str_list(data, "not_symptoms", file, None)
        + optional_str_list(data, "not_typos", file, None)
    )
    return RedFlagScreen(
        rules=rules,
        concepts=concepts,
        advice=advice,
        negation=negation,
        not_symptoms=not_symptoms,
        typos=_typo_table(typo_words, known),
    )
