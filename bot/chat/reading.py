"""Building the one reader of messages from the content, without touching storage (so that
`backchain ask --json` stays quick)."""

from __future__ import annotations

from backchain.bot.content import Content
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.textnorm import normalize
from backchain.bot.understanding.understand import Understander


def build_understander(content: Content, matcher: Matcher) -> Understander:
    """The one reader of messages, over the matcher and the content's rules."""
    rules = content.follow_ups
    topics = content.topics.values()
    massage = {t.id for t in topics if t.group == "kits"} | rules.general_topics
    parts = frozenset(t.id for t in topics if t.group == "anatomy")
    names = {
        t.id: frozenset(normalize(f"{t.title} {t.id.replace('-', ' ')}").split())
        - matcher.stop_words
        for t in topics
    }
    safety = frozenset(t.id for t in topics if t.group == "safety")
    return Understander(
        matcher,
        content.red_flags,
        content.smalltalk,
        rules,
        frozenset(massage),
        parts,
        names,
        safety,
    )
