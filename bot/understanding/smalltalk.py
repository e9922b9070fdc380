"""Greetings, thanks and "what can you do": kind replies instead of "I'm not sure"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backchain.bot.errors import ContentError
from backchain.bot.understanding.textnorm import normalize
from backchain.bot.yamlfile import optional_str_list, read_yaml_mapping, require_str


@dataclass(frozen=True)
class SmallTalk:
    """Phrase -> the message key that answers it."""

    replies: dict[str, str]
    max_words: int

    def reply_key(self, text: str) -> str | None:
        """The message key for a social message, or None for anything that may be a question."""
        words = normalize(text).split()
        if not words or len(words) > self.max_words:
            return None
        # Longest phrase first, so "good night" wins over a shorter phrase that starts it.
        for length in range(len(words), 0, -1):
            key = self.replies.get(" ".join(words[:length]))
            if key is not None:
                return key
        return None


def load_smalltalk(path: Path, message_keys: set[str]) -> SmallTalk:
    """Load and validate the small-talk file against the messages that answer it."""
    data = read_yaml_mapping(path)
    file = str(path)
    max_words = data.get("max_words", 4)
    if not isinstance(max_words, int) or not 1 <= max_words <= 10:
        raise ContentError(file, "must be a whole number from 1 to 10", None, "max_words")
    intents = data.get("intents")
    if not isinstance(intents, dict) or not intents:
        raise ContentError(file, "must map intent names to replies and phrases", None, "intents")
    replies: dict[str, str] = {}
    for name, raw in intents.items():
        if not isinstance(raw, dict):
            raise ContentError(file, "must be a mapping", str(name))
        reply = require_str(raw, "reply", file, str(name))
        if reply not in message_keys:
            raise ContentError(file, f"names unknown message '{reply}'", str(name), "reply")
        phrases = optional_str_list(raw, "phrases", file, str(name))
        if not phrases:
            raise ContentError(file, "needs at least one phrase", str(name), "phrases")
        for phrase in phrases:
            key = normalize(phrase)
            if replies.setdefault(key, reply) != reply:
                raise ContentError(file, f"phrase '{phrase}' is used twice", str(name), "phrases")
    return SmallTalk(replies, max_words)
