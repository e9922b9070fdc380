"""Reading a typed pain rating: "6", "6/10", "about a 6 i guess", "six out of ten"."""

from __future__ import annotations

import re

from backchain.bot.understanding.textnorm import normalize

PAIN_MIN, PAIN_MAX = 0, 10
_NUMBER_WORDS = {
    "zero": 0, "none": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
# "6/10", "6 / 10", "6 of 10", "6 out of 10": the rating is the first number.
_OUT_OF = re.compile(r"\b(\d{1,2})\s*(?:/|out of|of)\s*10\b")
# A rating answers a question in a few words; a longer text is something else.
_MAX_WORDS = 8
_SCALE = re.compile(r"\b(?:out of|of) (?:ten|10)\b")
# A number here is not a rating: "2 days", "3 weeks", "at 7pm", "7:30".
_NOT_RATING = re.compile(
    r"\d\s*(?:days?|weeks?|months?|years?|hours?|am|pm|min|mins|minutes|:)|-\s*\d"
)


def parse_pain(text: str) -> int | None:
    """The 0-10 rating a short reply gives, or None when it gives none or several."""
    lowered = text.lower()
    if _NOT_RATING.search(lowered):
        return None
    out_of = _OUT_OF.search(lowered)
    if out_of:
        value = int(out_of.group(1))
        return value if PAIN_MIN <= value <= PAIN_MAX else None
    words = _SCALE.sub(" ", normalize(text)).split()
    if not words or len(words) > _MAX_WORDS:
        return None
    numbers = [int(w) if w.isdigit() else _NUMBER_WORDS[w] for w in words if _is_number(w)]
    if len(set(numbers)) != 1:
        return None
    value = numbers[0]
    return value if PAIN_MIN <= value <= PAIN_MAX else None


def _is_number(word: str) -> bool:
    return (word.isdigit() and len(word) <= 2) or word in _NUMBER_WORDS
