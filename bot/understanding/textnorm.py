"""Normalising free text into comparable word tokens.

Both the user's question and every alias go through the same functions, so a match never depends
on case, accents, emoji, punctuation or a plural ending.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from backchain.text import normalize as shared_normalize

# Telegram refuses longer messages, so nothing a person typed in the chat is cut off.
MAX_INPUT_CHARS = 4096
MAX_TOKENS = 400

# Endings that look plural but belong to the singular word (psoas, soleus, piriformis, glass).
_KEEP_S_ENDINGS = ("ss", "us", "is", "as")


def truncate(text: str, limit: int = MAX_INPUT_CHARS) -> str:
    """At most `limit` characters, cut at the last space so no word is split."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head


# One message is read by several passes (small talk, safety words, the matcher, follow-ups);
# each normalises it, so the last few results are kept.
@lru_cache(maxsize=256)
def normalize(text: str) -> str:
    """The shared normaliser (`backchain.text.normalize`) over at most MAX_INPUT_CHARS."""
    return shared_normalize(truncate(text))


def tokenize(text: str) -> list[str]:
    """The normalised words of `text`, at most MAX_TOKENS of them."""
    return normalize(text).split()[:MAX_TOKENS]


def singular(word: str) -> str:
    """A light plural fold: 'hamstrings' -> 'hamstring', 'knees' -> 'knee', 'psoas' unchanged.

    Irregular plurals (calves, feet) are listed as spellings in the vocabulary file instead.
    """
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S_ENDINGS):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1]


def verb_bases(word: str) -> list[str]:
    """Possible plain forms of an '-ing' or '-ed' word, most likely first.

    'rolled' -> ['roll', 'rolle'], 'aching' -> ['ach', 'ache'], 'sitting' -> [.., 'sit'].
    The caller keeps the first one it knows, so no dictionary is needed here.
    """
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            bases = [stem, stem + "e"]
            if stem[-1] == stem[-2]:
                bases.append(stem[:-1])
            return bases
    return []


def phrase_positions(words: Sequence[str], phrase: Sequence[str]) -> Iterator[int]:
    """Where `phrase` (normalised words) starts in `words`, each place in order."""
    size = len(phrase)
    first = phrase[0]
    phrase = tuple(phrase)
    stop = len(words) - size + 1
    start = 0
    # `index` finds each place the first word stands without a loop over the other words.
    while start < stop:
        try:
            start = words.index(first, start, stop)
        except ValueError:
            return
        if size == 1 or tuple(words[start : start + size]) == phrase:
            yield start
        start += 1
