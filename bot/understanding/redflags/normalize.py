"""Normalising a message before screening: case, accents, punctuation, and typing slips."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_SCREENED_CHARS = 4096
SENTENCE_MARK = "||"

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


def correct_typos(text: str, typos: dict[str, str]) -> str:
    """`text` (already normalised) with each word that is a known slip replaced by its word."""
    return " ".join([typos.get(word, word) for word in text.split(" ")])


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


def typo_table(words: Iterable[str], known: set[str]) -> dict[str, str]:
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
