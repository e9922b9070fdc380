"""The term language of `red_flags.yaml`: plain words a therapist can read, compiled to regex.

A term is a phrase matched as whole words over normalised text (see `normalize`):

    chest ... pain          "..." stands for up to three other words; "...6" for up to six
                            (never across a comma, a semicolon or a full stop)
    bed ..., he's 5         "," a clause break (a comma, semicolon, colon or bracket)
    pee/pees/peed           one of these words
    numb*                   any word starting with "numb"
    #                       a number: "# kg", "38.#"
    _                       any one word
    [the] [a/an]            optional words
    (push ups / the gym)    one of these phrases (brackets not needed round a whole term)
    [a bit / a little]      optionally one of these phrases
    {numbness}              any term of the concept `numbness`
    can't                   the apostrophe may be left out

Regular-expression syntax is not part of the language: the loader builds the patterns.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# A term matches whole words only; the apostrophe counts as part of a word ("don't").
WORD_START = r"(?<![\w'])"
WORD_END = r"(?![\w'])"
ANY_WORD = r"[^ |]+"
DEFAULT_GAP = 3
CLAUSE_BREAK = "|"  # what a comma in a term stands for: the mark `normalize` leaves
KEY_LENGTH = 3

_WORD = re.compile(r"^[a-z0-9'.*#]+$")
_REFERENCE = re.compile(r"^\{([a-z][a-z0-9-]*)\}$")
_GAP = re.compile(r"^\.\.\.(\d*)$")


class TermError(ValueError):
    """A term that does not follow the term language; the message says what is wrong."""


# --- the parsed form -------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    text: str  # letters, digits, "'", "." and the wildcards "*" (word ending) and "#" (number)


@dataclass(frozen=True)
class Reference:
    name: str


@dataclass(frozen=True)
class AnyWord:
    pass


Piece = Literal | Reference | AnyWord


@dataclass(frozen=True)
class Word:
    """One word, one of several spellings: "pee/pees/peed"."""

    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class Gap:
    """Up to `size` other words."""

    size: int


@dataclass(frozen=True)
class Choice:
    """One of several phrases; `optional` when none may stand here at all."""

    phrases: tuple[Phrase, ...]
    optional: bool


Node = Word | Gap | Choice
Phrase = tuple[Node, ...]
# The regex, and the first-word keys, of a concept by name: how references are resolved.
ConceptRegex = Callable[[str], str]


# --- parsing ---------------------------------------------------------------------------------


def _tokens(term: str) -> list[str]:
    spaced = re.sub(r"([()\[\],])", r" \1 ", term.lower())
    return spaced.split()


def parse(term: str) -> Phrase:
    """The parsed form of `term`; a TermError says what is wrong."""
    tokens = _tokens(term)
    if not tokens:
        raise TermError("is empty")
    phrases, position = _phrases(tokens, 0, closing=None)
    if position != len(tokens):
        raise TermError(f"has an unmatched '{tokens[position]}'")
    # "out of breath / breathless*": phrases side by side are one choice.
    phrase = phrases[0] if len(phrases) == 1 else (Choice(tuple(phrases), optional=False),)
    _check_phrase(phrase)
    return phrase


def _check_phrase(phrase: Phrase) -> None:
    if not any(_required(node) for node in phrase):
        raise TermError("needs at least one word that is not optional")
    if isinstance(phrase[0], Gap) or isinstance(phrase[-1], Gap):
        raise TermError("cannot start or end with '...'")


def _required(node: Node) -> bool:
    return isinstance(node, Word) or (isinstance(node, Choice) and not node.optional)


def _phrases(tokens: list[str], position: int, closing: str | None) -> tuple[list[Phrase], int]:
    phrases: list[Phrase] = []
    current: list[Node] = []
    while position < len(tokens):
        token = tokens[position]
        if token in (")", "]"):
            if token != closing:
                raise TermError(f"has an unmatched '{token}'")
            break
        position += 1
        if token == "/":
            if not current:
                raise TermError("has an empty phrase next to ' / '")
            phrases.append(tuple(current))
            current = []
        elif token in ("(", "["):
            expected = ")" if token == "(" else "]"
            inner, position = _phrases(tokens, position, closing=expected)
            if position >= len(tokens) or tokens[position] != expected:
                raise TermError(f"has an unclosed '{token}'")
            position += 1
            if not inner or any(not any(_required(n) for n in p) for p in inner):
                raise TermError(f"has a phrase without a required word in '{token}{expected}'")
            current.append(Choice(tuple(inner), optional=token == "["))
        else:
            current.append(_word(token))
    if current or phrases:
        if not current:
            raise TermError("has an empty phrase next to ' / '")
        phrases.append(tuple(current))
    return phrases, position


@functools.lru_cache(maxsize=4096)
def _word(token: str) -> Node:
    if token == ",":
        return Word((Literal(CLAUSE_BREAK),))
    gap = _GAP.match(token)
    if gap:
        size = int(gap.group(1)) if gap.group(1) else DEFAULT_GAP
        if not 1 <= size <= 12:
            raise TermError(f"'{token}': a gap holds 1 to 12 words")
        return Gap(size)
    pieces: list[Piece] = []
    for spelling in token.split("/"):
        reference = _REFERENCE.match(spelling)
        if reference:
            pieces.append(Reference(reference.group(1)))
        elif spelling == "_":
            pieces.append(AnyWord())
        elif spelling and _WORD.match(spelling) and spelling.strip("*'.") != "":
            pieces.append(Literal(spelling))
        else:
            raise TermError(f"'{token}' is not a word, a word/word choice, '...' or {{concept}}")
    return Word(tuple(pieces))


def references(phrase: Phrase) -> Iterable[str]:
    """The names of the concepts `phrase` refers to."""
    for node in phrase:
        if isinstance(node, Word):
            yield from (p.name for p in node.pieces if isinstance(p, Reference))
        elif isinstance(node, Choice):
            for inner in node.phrases:
                yield from references(inner)


def literal_words(phrase: Phrase) -> Iterable[str]:
    """Every plain word the phrase spells out (for the typo table)."""
    for node in phrase:
        if isinstance(node, Word):
            for piece in node.pieces:
                if isinstance(piece, Literal):
                    yield from re.findall(r"[a-z]{3,}", piece.text)
        elif isinstance(node, Choice):
            for inner in node.phrases:
                yield from literal_words(inner)


# --- regex -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def literal_regex(text: str) -> str:
    """A word's regex: "*" any ending, "#" a number, "'" an apostrophe that may be left out."""
    if text.isalnum():
        return text
    return re.escape(text).replace(r"\*", r"\w*").replace(r"\#", r"\d+").replace("'", "'?")


def phrase_regex(phrase: Phrase, concept: ConceptRegex) -> str:
    """The phrase as a regex over normalised text (words joined by single spaces)."""
    out = ""
    lead = ""  # optional words before the first required one
    for node in phrase:
        if isinstance(node, Gap):
            if out:
                out += f"(?: {ANY_WORD}){{0,{node.size}}}"
            else:
                lead += f"(?:{ANY_WORD} ){{0,{node.size}}}"
            continue
        body = _node_regex(node, concept)
        if isinstance(node, Choice) and node.optional:
            if out:
                out += f"(?: {body})?"
            else:
                lead += f"(?:{body} )?"
        elif out:
            out += " " + body
        else:
            out = lead + body
    return out


def _node_regex(node: Node, concept: ConceptRegex) -> str:
    if isinstance(node, Word):
        parts = [_piece_regex(piece, concept) for piece in node.pieces]
        return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"
    if isinstance(node, Choice):
        return f"(?:{'|'.join(phrase_regex(p, concept) for p in node.phrases)})"
    raise TermError("a gap cannot stand here")  # pragma: no cover - parse() prevents it


def _piece_regex(piece: Piece, concept: ConceptRegex) -> str:
    if isinstance(piece, Literal):
        return literal_regex(piece.text)
    if isinstance(piece, Reference):
        return concept(piece.name)
    return ANY_WORD


def whole_words(alternatives: Iterable[str]) -> str:
    return f"{WORD_START}(?:{'|'.join(alternatives)}){WORD_END}"


def fixed_spellings(phrase: Phrase) -> list[str]:
    """Every spelling of a phrase without wildcards or gaps (for "not_preceded_by")."""
    options: list[list[str]] = []
    for node in phrase:
        if isinstance(node, Word):
            spellings = []
            for piece in node.pieces:
                if not isinstance(piece, Literal) or set("*#") & set(piece.text):
                    raise TermError("'not_preceded_by' phrases need plain words")
                spellings.extend(_apostrophe_spellings(piece.text))
            options.append(spellings)
        elif isinstance(node, Choice):
            inner = [s for p in node.phrases for s in fixed_spellings(p)]
            options.append(inner + ([""] if node.optional else []))
        else:
            raise TermError("'not_preceded_by' phrases cannot hold '...'")
    found = {" ".join(w for w in combo if w) for combo in itertools.product(*options)}
    return sorted(found)


def _apostrophe_spellings(text: str) -> list[str]:
    if "'" not in text:
        return [text]
    parts = text.split("'")
    found = set()
    for joins in itertools.product(("'", ""), repeat=len(parts) - 1):
        found.add(parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True)))
    return sorted(found)


# --- word keys: a cheap test that lets most concepts skip their regex ------------------------

KeySet = frozenset[str]
KeysOf = Callable[[str], "KeySet | None"]


@functools.lru_cache(maxsize=4096)
def literal_keys(text: str) -> KeySet | None:
    """Keys (first KEY_LENGTH letters) that a word spelled `text` can start with."""
    keys = set()
    for spelling in _apostrophe_spellings(text):
        cut = min((spelling.find(c) for c in "*#" if c in spelling), default=len(spelling))
        stem = spelling[:cut]
        if len(stem) >= KEY_LENGTH:
            keys.add(stem[:KEY_LENGTH])
        elif cut == len(spelling) and stem:
            keys.add(stem)
        else:
            return None
    return frozenset(keys)


def first_keys(nodes: Sequence[Node], concept_keys: KeysOf) -> KeySet | None:
    """Keys of the word a match of `nodes` starts with; None when it can be any word."""
    if not nodes:
        return None
    node, rest = nodes[0], nodes[1:]
    if isinstance(node, Gap):
        return None
    if isinstance(node, Word):
        keys: set[str] = set()
        for piece in node.pieces:
            if isinstance(piece, Literal):
                found = literal_keys(piece.text)
            elif isinstance(piece, Reference):
                found = concept_keys(piece.name)
            else:
                found = None
            if found is None:
                return None
            keys |= found
        return frozenset(keys)
    branches = [tuple(p) + tuple(rest) for p in node.phrases]
    if node.optional:
        branches.append(tuple(rest))
    result: set[str] = set()
    for branch in branches:
        found = first_keys(branch, concept_keys)
        if found is None:
            return None
        result |= found
    return frozenset(result)


def required_keys(phrase: Phrase, concept_keys: KeysOf) -> list[KeySet]:
    """Key sets of the words that every match of `phrase` contains, one set per word."""
    found = []
    for index, node in enumerate(phrase):
        if _required(node):
            keys = first_keys(phrase[index:], concept_keys)
            if keys is not None:
                found.append(keys)
    return found


# --- words a match needs: the key test made exact, for the few terms that pass it ----------
#
# A requirement says which words a message must hold, in any order, for a term to match:
#   ("word", whole, starts)  a word (or a part of one between full stops: "38" of "38.5") that
#                            is one of `whole` or starts with one of `starts`;
#   ("all", parts)           every part;  ("any", parts)  at least one part;
#   ("concept", name)        what any term of the concept `name` needs.
# None stands for "nothing known": any message may match.

Requirement = tuple[Any, ...] | None


def message_words(text: str) -> frozenset[str]:
    """The words of a normalised text, and the parts of those holding a full stop ("38.5")."""
    words = set(text.split(" "))
    if "." in text:
        for word in [word for word in words if "." in word]:
            words.update(word.split("."))
    return frozenset(words)


@functools.lru_cache(maxsize=4096)
def literal_requirement(text: str) -> Requirement:
    """What a message needs for the word `text` ("numb*", "can't") to match."""
    whole: set[str] = set()
    starts: set[str] = set()
    for spelling in _apostrophe_spellings(text):
        cut = min((spelling.find(c) for c in "*#" if c in spelling), default=len(spelling))
        stem = spelling[:cut]
        if not stem or "." in stem:
            return None
        (whole if cut == len(spelling) else starts).add(stem)
    return ("word", frozenset(whole), tuple(sorted(starts)))


def phrase_requirement(phrase: Phrase) -> Requirement:
    """What a message needs, word by word, for `phrase` to match."""
    return _all([_node_requirement(node) for node in phrase if _required(node)])


def _node_requirement(node: Node) -> Requirement:
    if isinstance(node, Word):
        options: list[Requirement] = []
        for piece in node.pieces:
            if isinstance(piece, Literal):
                options.append(literal_requirement(piece.text))
            elif isinstance(piece, Reference):
                options.append(("concept", piece.name))
            else:
                return None
        return _any(options)
    if isinstance(node, Choice):
        return _any([phrase_requirement(phrase) for phrase in node.phrases])
    return None  # pragma: no cover - gaps are never required


def _all(parts: list[Requirement]) -> Requirement:
    known = [part for part in parts if part is not None]
    if not known:
        return None
    return known[0] if len(known) == 1 else ("all", tuple(known))


def _any(parts: list[Requirement]) -> Requirement:
    if any(part is None for part in parts):
        return None
    # Plain words side by side are one test.
    words = [part for part in parts if part is not None and part[0] == "word"]
    rest = [part for part in parts if part is not None and part[0] != "word"]
    if len(words) > 1:
        whole = frozenset().union(*(word[1] for word in words))
        starts = tuple(sorted({start for word in words for start in word[2]}))
        words = [("word", whole, starts)]
    found = words + rest
    return found[0] if len(found) == 1 else ("any", tuple(found))


def requirement_to_json(requirement: Requirement) -> Any:
    if requirement is None or requirement[0] == "concept":
        return requirement and list(requirement)
    if requirement[0] == "word":
        return ["word", sorted(requirement[1]), list(requirement[2])]
    return [requirement[0], [requirement_to_json(part) for part in requirement[1]]]


def requirement_from_json(data: Any) -> Requirement:
    if data is None or data[0] == "concept":
        return data and tuple(data)
    if data[0] == "word":
        return ("word", frozenset(data[1]), tuple(data[2]))
    return (data[0], tuple(requirement_from_json(part) for part in data[1]))
