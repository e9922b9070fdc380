"""Greetings, thanks and "what can you do": kind replies instead of "I'm not sure"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec
from backchain.bot.errors import ContentError
from backchain.bot.understanding.textnorm import normalize
from backchain.bot.yamlfile import Entries, Model, Text, convert_entries, decode


@dataclass(frozen=True)
class SmallTalk:
    """Phrase -> the message key that answers it."""

    replies: dict[str, str]
    max_words: int
    # Phrases that count only as the whole message: "ok" is small talk, "ok how long?" is not.
    whole: frozenset[str] = frozenset()

    def reply_key(self, text: str) -> str | None:
        """The message key for a social message, or None for anything that may be a question."""
        if len(text.split()) > 2 * self.max_words:
            return None  # far too long for small talk: skip normalising it
        words = normalize(text).split()
        if not words or len(words) > self.max_words:
            return None
        # Longest phrase first, so "good night" wins over a shorter phrase that starts it.
        for length in range(len(words), 0, -1):
            phrase = " ".join(words[:length])
            key = self.replies.get(phrase)
            if key is not None and (length == len(words) or phrase not in self.whole):
                return key
        return None


class _Intent(Model, frozen=True):
    reply: Text
    phrases: Annotated[list[Text], msgspec.Meta(min_length=1)]
    whole_message: bool = False


class _SmallTalkFile(Model, frozen=True):
    intents: Entries
    max_words: Annotated[int, msgspec.Meta(ge=1, le=10)] = 4


def load_smalltalk(path: Path, message_keys: set[str]) -> SmallTalk:
    """Load and validate the small-talk file against the messages that answer it."""
    data, _ = decode(path, _SmallTalkFile)
    file = str(path)
    replies: dict[str, str] = {}
    whole: set[str] = set()
    for name, intent in convert_entries(data.intents, _Intent, file).items():
        if intent.reply not in message_keys:
            raise ContentError(file, f"names unknown message '{intent.reply}'", name, "reply")
        for phrase in intent.phrases:
            key = normalize(phrase)
            if replies.setdefault(key, intent.reply) != intent.reply:
                raise ContentError(file, f"phrase '{phrase}' is used twice", name, "phrases")
            if intent.whole_message:
                whole.add(key)
    return SmallTalk(replies, data.max_words, frozenset(whole))
