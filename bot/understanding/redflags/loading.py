"""Reading `red_flags.yaml`: validating it and compiling its terms for the screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from backchain.bot.errors import ContentError
from backchain.bot.understanding.redflags import cache, terms
from backchain.bot.understanding.redflags.normalize import typo_table
from backchain.bot.understanding.redflags.screen import (
    LEVELS,
    Alternative,
    Concept,
    Group,
    KeySets,
    Needs,
    Negation,
    RedFlagScreen,
    Rule,
)
from backchain.bot.understanding.redflags.terms import KEY_LENGTH, KeySet, Phrase, TermError
from backchain.bot.yamlfile import optional_str_list, read_yaml_mapping, require_str

NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WITHIN = re.compile(r"^\s*within (\d+) words?:(.*)$")
TERM_KEYS = ("words", "not_preceded_by", "not_followed_by", "unless_later")

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


class _Term:
    """One entry of a concept: a phrase, and the words that must not stand around it."""

    def __init__(self, raw: Any, where: _Where):
        self.text = raw if isinstance(raw, str) else str(raw.get("words", ""))
        self.where = where
        if isinstance(raw, dict):
            unknown = set(raw) - set(TERM_KEYS)
            if unknown:
                where.fail(f"term '{self.text}' has unknown keys: {', '.join(sorted(unknown))}")
            self.phrase = where.parse(self.text)
            self.not_preceded_by = [where.parse(p) for p in _phrases(raw, "not_preceded_by", where)]
            self.not_followed_by = [where.parse(p) for p in _phrases(raw, "not_followed_by", where)]
            self.unless_later = [where.parse(p) for p in _phrases(raw, "unless_later", where)]
        elif isinstance(raw, str):
            self.phrase = where.parse(raw)
            self.not_preceded_by = self.not_followed_by = self.unless_later = []
        else:
            where.fail("terms are text, or a mapping with 'words'")

    def phrases(self) -> list[Phrase]:
        return [self.phrase, *self.not_preceded_by, *self.not_followed_by, *self.unless_later]

    def regex(self, concept: terms.ConceptRegex) -> str:
        body = terms.phrase_regex(self.phrase, concept)
        before = ""
        for phrase in self.not_preceded_by:
            try:
                spellings = terms.fixed_spellings(phrase)
            except TermError as exc:
                self.where.fail(f"term '{self.text}': {exc}")
            before += "".join(f"(?<!{re.escape(s)} )" for s in spellings)
        after = ""
        if self.not_followed_by:
            options = "|".join(terms.phrase_regex(p, concept) for p in self.not_followed_by)
            after += f"(?! (?:{options}){terms.WORD_END})"
        if self.unless_later:
            options = "|".join(terms.phrase_regex(p, concept) for p in self.unless_later)
            after += f"(?!.* (?:{options}){terms.WORD_END})"
        return before + body + after


class _Where:
    """Where an entry stands in the file, for error messages."""

    def __init__(self, file: str, entry: str | None, field: str | None):
        self.file, self.entry, self.field = file, entry, field

    def fail(self, message: str) -> Any:
        raise ContentError(self.file, message, self.entry, self.field)

    def parse(self, text: str) -> Phrase:
        try:
            return terms.parse(text)
        except TermError as exc:
            return self.fail(f"term '{text}' {exc}")


def _phrases(raw: dict[str, Any], key: str, where: _Where) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and any(isinstance(v, bool) for v in value):
        where.fail(
            f"'{key}': put on, off, yes and no in quotes (\"on\"), or YAML reads them as true/false"
        )
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        where.fail(f"'{key}' must be a list of phrases")
    return list(value)


class _Concepts:
    """Resolves `{name}` references and builds each concept once."""

    def __init__(self, raw: dict[str, list[_Term]], file: str):
        self._raw = raw
        self._file = file
        self._regex: dict[str, str] = {}
        self._fragments: dict[str, list[str]] = {}
        self._first: dict[str, KeySet | None] = {}
        self._busy: list[str] = []

    def _enter(self, name: str, referrer: str | None) -> None:
        if name not in self._raw:
            raise ContentError(
                self._file, f"names unknown concept '{name}'", referrer or name, "concepts"
            )
        if name in self._busy:
            cycle = " -> ".join((*self._busy[self._busy.index(name) :], name))
            raise ContentError(self._file, f"refers to itself ({cycle})", name, "concepts")
        self._busy.append(name)

    def regex(self, name: str) -> str:
        if name not in self._regex:
            self._enter(name, self._busy[-1] if self._busy else None)
            try:
                fragments = [term.regex(self.regex) for term in self._raw[name]]
            finally:
                self._busy.pop()
            self._fragments[name] = fragments
            self._regex[name] = terms.whole_words(fragments)
        return self._regex[name]

    def first_keys(self, name: str) -> KeySet | None:
        if name not in self._first:
            self._enter(name, self._busy[-1] if self._busy else None)
            try:
                keys: set[str] | None = set()
                for term in self._raw[name]:
                    found = terms.first_keys(term.phrase, self.first_keys)
                    if found is None:
                        keys = None
                        break
                    assert keys is not None
                    keys |= found
            finally:
                self._busy.pop()
            self._first[name] = None if keys is None else frozenset(keys)
        return self._first[name]

    def build(self, name: str) -> Concept:
        self.regex(name)
        return new_concept(
            self._fragments[name], [term.phrase for term in self._raw[name]], self.first_keys
        )

    def build_all(self) -> dict[str, Concept]:
        return {name: self.build(name) for name in self._raw}


def new_concept(fragments: list[str], phrases: list[Phrase], keys_of: terms.KeysOf) -> Concept:
    """A concept with its word keys, so that most messages skip its regex."""
    starters: dict[str, list[int]] | None = {}
    keys: set[str] = set()
    single: set[str] = set()
    combined: dict[str, list[KeySets]] = {}
    needs: list[Needs] = []
    known = True
    for index, phrase in enumerate(phrases):
        first = terms.first_keys(phrase, keys_of)
        if first is None:
            starters = None
        elif starters is not None:
            for key in first:
                starters.setdefault(key, []).append(index)
        key_sets = sorted(set(terms.required_keys(phrase, keys_of)), key=_commonness)
        needs.append((tuple(key_sets), terms.phrase_requirement(phrase)))
        if not key_sets:
            known = False
            continue
        keys |= key_sets[0]
        if len(key_sets) == 1:
            single |= key_sets[0]
            continue
        # Two words are enough to skip most messages; more only cost time.
        for key in key_sets[0]:
            combined.setdefault(key, []).append(tuple(key_sets[1:2]))
    return Concept(
        fragments,
        frozenset(keys) if known else None,
        frozenset(single),
        {key: tuple(others) for key, others in combined.items()},
        None if starters is None else {key: tuple(v) for key, v in starters.items()},
        needs,
    )


def _commonness(keys: frozenset[str]) -> tuple[int, int]:
    short = sum(1 for key in keys if len(key) < KEY_LENGTH)
    return (len(keys & _COMMON_KEYS) + len(keys & _DOMAIN_KEYS) + short, len(keys))


# --- the file's sections ---------------------------------------------------------------------


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


def _parse_advice_texts(data: dict[str, Any], file: str) -> dict[str, str]:
    texts = data.get("advice_texts", {})
    if not isinstance(texts, dict):
        raise ContentError(file, "must map names to advice texts", None, "advice_texts")
    parsed = {}
    for name in texts:
        if not isinstance(name, str) or not NAME.match(name):
            raise ContentError(
                file, "names are lower-case words joined by '-'", str(name), "advice_texts"
            )
        parsed[name] = require_str(texts, name, file, name)
    return parsed


def _parse_concepts(data: dict[str, Any], file: str) -> dict[str, list[_Term]]:
    concepts = data.get("concepts")
    if not isinstance(concepts, dict) or not concepts:
        raise ContentError(file, "must map concept names to lists of terms", None, "concepts")
    parsed: dict[str, list[_Term]] = {}
    for name, entries in concepts.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise ContentError(
                file, "concept names are lower-case words joined by '-'", str(name), "concepts"
            )
        if not isinstance(entries, list) or not entries:
            raise ContentError(file, "needs a list of at least one term", name, "concepts")
        where = _Where(file, name, "concepts")
        parsed[name] = [_Term(entry, where) for entry in entries]
    for name, entries in parsed.items():
        for term in entries:
            for phrase in term.phrases():
                for target in terms.references(phrase):
                    if target not in parsed:
                        raise ContentError(
                            file,
                            f"term '{term.text}' names unknown concept '{target}'",
                            name,
                            "concepts",
                        )
    return parsed


def _parse_alternative(line: str, rule_id: str, concepts: dict[str, Any], file: str) -> Alternative:
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
        groups.append(Group(names, max_words))
    return Alternative(tuple(groups))


def _parse_rule(
    raw: Any,
    index: int,
    concepts: dict[str, Any],
    advice: dict[str, str],
    texts: dict[str, str],
    file: str,
) -> Rule:
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", f"#{index + 1}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not NAME.match(rule_id):
        raise ContentError(file, "must be lower-case words joined by '-'", f"#{index + 1}", "id")
    level = raw.get("level")
    if level not in LEVELS:
        raise ContentError(file, f"must be one of {', '.join(LEVELS)}", rule_id, "level")
    lines = optional_str_list(raw, "match", file, rule_id)
    if not lines:
        raise ContentError(file, "needs at least one pattern line", rule_id, "match")
    advice_name = raw.get("advice")
    if advice_name is not None and (not isinstance(advice_name, str) or advice_name not in texts):
        raise ContentError(file, f"names unknown advice text '{advice_name}'", rule_id, "advice")
    return Rule(
        id=rule_id,
        level=level,
        label=require_str(raw, "label", file, rule_id),
        alternatives=tuple(_parse_alternative(line, rule_id, concepts, file) for line in lines),
        advice=texts[advice_name] if isinstance(advice_name, str) else advice[str(level)],
    )


def _parse_rules(
    data: dict[str, Any],
    concepts: dict[str, Any],
    advice: dict[str, str],
    texts: dict[str, str],
    file: str,
) -> list[Rule]:
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "must be a non-empty list", None, "rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries):
        rule = _parse_rule(raw, index, concepts, advice, texts, file)
        if rule.id in seen:
            raise ContentError(file, "duplicate rule id", rule.id, "id")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _phrase_list(data: dict[str, Any], key: str, file: str, concepts: _Concepts) -> str:
    """The phrases under `key` of the negation section as one alternation."""
    where = _Where(file, "negation", key)
    fragments = []
    for text in optional_str_list(data, key, file, "negation"):
        fragments.append(terms.phrase_regex(where.parse(text), concepts.regex))
    return "|".join(fragments) or "(?!)"


def _parse_negation(data: dict[str, Any], file: str, concepts: _Concepts) -> Negation:
    raw = data.get("negation", {})
    if not isinstance(raw, dict):
        raise ContentError(file, "must be a mapping", None, "negation")
    before = _phrase_list(raw, "before", file, concepts)
    fillers = _phrase_list(raw, "fillers", file, concepts)
    after = _phrase_list(raw, "after", file, concepts)
    after_fillers = _phrase_list(raw, "after_fillers", file, concepts)
    # "no fever" / "I don't have any numbness" / "no numbness or weakness": the cue, then only
    # filler words (or "X or") up to the symptom.
    before_pattern = rf"(?:^| )(?:{before})(?: (?:{fillers}|[^ |]+ (?:or|nor)))*$"
    # "bladder is fine" / "bladder and bowels are fine", never "is not fine".
    after_pattern = rf"(?: (?:and|or) [^ |]+)?(?: (?:{after_fillers}))* (?:{after}){terms.WORD_END}"
    return Negation(before_pattern, after_pattern)


def _parse_not_symptoms(data: dict[str, Any], file: str, concepts: _Concepts) -> Concept | None:
    entries = data.get("not_symptoms", [])
    if not isinstance(entries, list):
        raise ContentError(file, "must be a list of phrases", None, "not_symptoms")
    if not entries:
        return None
    where = _Where(file, None, "not_symptoms")
    phrases = [_Term(entry, where) for entry in entries]
    fragments = [term.regex(concepts.regex) for term in phrases]
    return new_concept(fragments, [term.phrase for term in phrases], concepts.first_keys)


def _known_words(raw_concepts: dict[str, list[_Term]], data: dict[str, Any], file: str) -> set[str]:
    words = {
        word
        for entries in raw_concepts.values()
        for term in entries
        for phrase in term.phrases()
        for word in terms.literal_words(phrase)
    }
    for key in ("not_symptoms", "not_typos"):
        for entry in data.get(key, []) or []:
            text = entry if isinstance(entry, str) else str(entry.get("words", ""))
            words |= set(re.findall(r"[a-z]{3,}", text.lower()))
    return words


def load_red_flags(path: Path, use_cache: bool = True) -> RedFlagScreen:
    """Read, validate and compile `red_flags.yaml` (or take the tables cached for it)."""
    key = None
    if use_cache and path.is_file():
        try:
            key = cache.cache_key(path.read_bytes())
        except OSError:
            key = None
        cached = cache.read(key) if key is not None else None
        if cached is not None:
            return cached
    screen = compile_red_flags(path)
    if key is not None:
        cache.write(key, screen)
    return screen


def compile_red_flags(path: Path) -> RedFlagScreen:
    """Read, validate and compile `red_flags.yaml`."""
    data = read_yaml_mapping(path)
    file = str(path)
    advice = _parse_levels(data, file)
    texts = _parse_advice_texts(data, file)
    raw_concepts = _parse_concepts(data, file)
    rules = _parse_rules(data, raw_concepts, advice, texts, file)
    compiler = _Concepts(raw_concepts, file)
    concepts = compiler.build_all()
    negation = _parse_negation(data, file, compiler)
    not_symptoms = _parse_not_symptoms(data, file, compiler)
    typo_words = optional_str_list(data, "typo_tolerant", file, None)
    return RedFlagScreen(
        rules=rules,
        concepts=concepts,
        negation=negation,
        not_symptoms=not_symptoms,
        typos=typo_table(typo_words, _known_words(raw_concepts, data, file)),
    )
