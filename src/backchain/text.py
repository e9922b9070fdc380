"""The one text normaliser every reader of free text shares: the matcher, small talk, the time
zone finder, the console's button labels, the time-of-day parser and the unanswered-question log.

`fold` makes two spellings of the same thing equal without losing any character that carries
meaning (case, accents, quote and dash variants, spacing); `normalize` goes on to plain ASCII
words, for matching.
"""

from __future__ import annotations

import re
import unicodedata

# Every quote mark people type for an apostrophe, and every dash for a hyphen or minus sign.
_FOLDED = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "`": "'",
        "\u00b4": "'",
        "\u02bc": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2212": "-",
    }
)
_AMPERSAND = re.compile(r"\s*&\s*")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Case-folded, accents removed ("São" -> "sao"), one apostrophe and one hyphen for their
    look-alikes, runs of white space as one space, none at the ends."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().translate(_FOLDED).split())


def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; everything else becomes a space.

    On top of `fold`: apostrophes vanish ("don't" -> "dont"), "&" reads as "and", and emoji,
    punctuation, control characters and other scripts are dropped.
    """
    text = _AMPERSAND.sub(" and ", fold(text).replace("'", ""))
    return " ".join(_NOT_WORD.sub(" ", text).split())
