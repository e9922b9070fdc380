"""The one way text becomes meaning: `Understander.understand(text, context) -> Understanding`.

A message is, in this order: a command ("/remind 7:30"), a red flag (crisis first), a reply to
red-flag advice given a moment ago ("is it serious?"), small talk, a question about a topic and
the part of it asked for (its facet), a follow-up that names no topic and so continues the topic
in hand ("how long?"), or nothing understood. The chat, the console, `backchain ask` and the
benchmarks all call this; none of them reads text any other way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import Enum

from backchain.bot.understanding.commands import Command, parse_command
from backchain.bot.understanding.followup import FollowUpRules
from backchain.bot.understanding.matcher import Matcher, MatchResult
from backchain.bot.understanding.redflags import RedFlag, RedFlagScreen
from backchain.bot.understanding.smalltalk import SmallTalk
from backchain.bot.understanding.textnorm import normalize

CRISIS = "crisis"
# A message this short that asks for a facet ("how often?") is about the topic in hand.
SHORT_FOLLOW_UP = 3


@dataclass(frozen=True)
class Context:
    """What the conversation remembers between two messages of one user."""

    topic: str | None = None  # the topic in hand
    facet: str | None = None  # the part of it answered last
    step_topic: str | None = None  # the topic of the session step in hand
    red_flag_level: str | None = None  # the level of the red-flag advice given last
    red_flag_rule: str | None = None


EMPTY = Context()


class Meaning(Enum):
    COMMAND = "command"
    CRISIS = "crisis"
    RED_FLAG = "red-flag"
    RED_FLAG_FOLLOW_UP = "red-flag-follow-up"  # "is it serious?" after red-flag advice
    SMALL_TALK = "small-talk"
    TOPIC = "topic"
    AMBIGUOUS = "ambiguous"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Understanding:
    meaning: Meaning
    topic: str | None = None
    facet: str | None = None  # one of followup.FACETS, or None for the topic as a whole
    follow_up: bool = False  # the topic came from the context, not from the words
    more: bool = False  # the whole card was asked for ("tell me more")
    repeat: bool = False  # the same topic and facet as the answer just given
    flag: RedFlag | None = None
    red_flag_level: str | None = None  # for red flags and replies to their advice
    small_talk: str | None = None  # the message key that answers it
    match: MatchResult | None = None
    command: Command | None = None

    @property
    def is_red_flag(self) -> bool:
        return self.meaning in (Meaning.RED_FLAG, Meaning.CRISIS, Meaning.RED_FLAG_FOLLOW_UP)

    def next_context(self, context: Context) -> Context:
        """What to remember after this message."""
        if self.flag is not None:
            return Context(
                step_topic=context.step_topic,
                red_flag_level=self.flag.level,
                red_flag_rule=self.flag.rule,
            )
        if self.meaning is Meaning.TOPIC:
            return Context(topic=self.topic, facet=self.facet, step_topic=context.step_topic)
        if self.meaning is Meaning.AMBIGUOUS and self.match is not None:
            # "Did you mean ...?" offers the best guess first; a follow-up typed instead of a
            # press is about that guess.
            return Context(topic=self.match.topic, facet=self.facet, step_topic=context.step_topic)
        return context


class Understander:
    """Reads messages; build once at start, then call `understand` freely (no I/O)."""

    def __init__(
        self,
        matcher: Matcher,
        red_flags: RedFlagScreen,
        smalltalk: SmallTalk,
        rules: FollowUpRules,
        massage_topics: frozenset[str] = frozenset(),
        part_topics: frozenset[str] = frozenset(),
        name_words: dict[str, frozenset[str]] | None = None,
        safety_topics: frozenset[str] = frozenset(),
    ):
        self.matcher = matcher
        self.red_flags = red_flags
        self.smalltalk = smalltalk
        self.rules = rules
        # Tools and techniques: after them, "sore after" is about the self-massage.
        self.massage_topics = massage_topics
        # Body parts, for "why does my <part> matter for my back".
        self.part_topics = part_topics
        # The words of each topic's own name: "routine" names the routine, "how often" does not.
        self.name_words = name_words or {}
        # After a safety answer, questions about a tool or technique stay with it.
        self.safety_topics = safety_topics

    def warm(self) -> int:
        """Prepare, ahead of the first messages, what is otherwise built when first needed (the
        red-flag screen's patterns); how many steps that took."""
        return sum(1 for _ in self.warm_steps())

    def warm_steps(self) -> Iterator[None]:
        """`warm` in steps well under a millisecond each, to interleave with reading messages."""
        return self.red_flags.warm_steps()

    def understand(self, text: str, context: Context = EMPTY) -> Understanding:
        command = parse_command(text)
        if command is not None:
            return Understanding(Meaning.COMMAND, command=command)
        flag = self.red_flags.screen(text)
        if flag is not None:
            meaning = Meaning.CRISIS if flag.level == CRISIS else Meaning.RED_FLAG
            return Understanding(meaning, flag=flag, red_flag_level=flag.level)
        social = self.smalltalk.reply_key(text)
        if social is not None:
            return Understanding(Meaning.SMALL_TALK, small_talk=social)
        words = tuple(normalize(text).split())
        result = self.matcher.match(text)
        if context.red_flag_level is not None and self._about_the_advice(words, result):
            return Understanding(
                Meaning.RED_FLAG_FOLLOW_UP, red_flag_level=context.red_flag_level, match=result
            )
        facet = self.rules.facet(words)
        in_hand = context.topic or context.step_topic
        after = self.rules.after_massage_topic
        if (
            after is not None
            and (
                context.topic in self.massage_topics
                or context.step_topic is not None
                or result.topic in self.rules.general_topics
            )
            and self.rules.after_massage(words)
        ):
            return self._topic(after, facet or "what", result, context, follow_up=True, more=False)
        if context.topic in self.safety_topics and (
            result.topic is None or result.topic in self.massage_topics
        ):
            # "What about just gentle rolling?" after a safety answer: still the safety question.
            return self._topic(context.topic, facet, result, context, follow_up=True, more=False)
        if in_hand is not None and self._continues(words, result, facet):
            more = self.rules.asks_more(words)
            if self.rules.asks_other_side(words) and facet is None:
                facet = "how"
            if facet is None and not more:
                facet = context.facet if context.topic else None
            return self._topic(in_hand, facet, result, context, follow_up=True, more=more)
        if result.topic is None:
            return Understanding(Meaning.NOTHING, match=result)
        if result.ambiguous:
            return Understanding(Meaning.AMBIGUOUS, match=result, facet=facet)
        topic = self._activity_asked(result, facet) or self._part_for_chain(result, facet, words)
        # A topic named on its own ("psoas") is answered with what it is.
        return self._topic(topic, facet or "what", result, context, follow_up=False, more=False)

    def _activity_asked(self, result: MatchResult, facet: str | None) -> str | None:
        """ "Is sitting bad for my back?": the activity answers whether it is harmful."""
        if facet != "avoid" or result.topic not in self.rules.complaints:
            return None
        named = {c.topic for c in result.candidates}
        return next((a for a in self.rules.activities if a in named and a != result.topic), None)

    def _about_the_advice(self, words: tuple[str, ...], result: MatchResult) -> bool:
        """Just after red-flag advice, a message that names no new body area, points back ("is
        that from the massage?") or asks about the routine ("should I still roll?") is about
        that advice."""
        return (
            result.topic is None
            or self.rules.refers_back(words)
            or result.topic in self.massage_topics
            or result.topic == self.rules.after_massage_topic
        )

    def _part_for_chain(
        self, result: MatchResult, facet: str | None, words: tuple[str, ...]
    ) -> str:
        """ "Why do my quads matter for my back?": the quads' own "why" tells their part in the
        chain; the chain stays the answer to how areas connect in general."""
        assert result.topic is not None
        if result.topic != self.rules.chain_topic or facet != "why":
            return result.topic
        if self.rules.part_matters.isdisjoint(words):
            return result.topic
        for candidate in result.candidates[1:]:
            if candidate.topic in self.part_topics and candidate.topic not in self.rules.complaints:
                return candidate.topic
        return result.topic

    def _continues(self, words: tuple[str, ...], result: MatchResult, facet: str | None) -> bool:
        """A message that names no topic of its own but asks about the one in hand."""
        if result.topic is None:
            return (
                facet is not None
                or self.rules.continues(words)
                or self.rules.asks_more(words)
                or self.rules.asks_other_side(words)
            )
        # "why does it hurt when I sit?": the complaint is named, the topic in hand is asked.
        if result.topic in self.rules.complaints and self.rules.names_subject(words):
            return facet is not None
        # "how long should I roll it?", "how many times a week?": a general word, pointing back
        # at the topic in hand or not naming the general topic itself.
        return (
            result.topic in self.rules.general_topics
            and facet is not None
            and (
                self.rules.refers_back(words)
                or len(words) <= SHORT_FOLLOW_UP
                or not self._names(result.topic, words)
            )
        )

    def _names(self, topic: str, words: tuple[str, ...]) -> bool:
        """Whether the message uses a word of the topic's own name ("routine", "chain")."""
        return not self.name_words.get(topic, frozenset()).isdisjoint(words)

    def _topic(
        self,
        topic: str,
        facet: str | None,
        result: MatchResult,
        context: Context,
        follow_up: bool,
        more: bool,
    ) -> Understanding:
        repeat = not more and (topic, facet) == (context.topic, context.facet)
        return Understanding(
            Meaning.TOPIC,
            topic=topic,
            facet=facet,
            follow_up=follow_up,
            more=more,
            repeat=repeat,
            match=result,
        )


def with_step(context: Context, step_topic: str | None) -> Context:
    """The context with the session step in hand (None when no session is running)."""
    return replace(context, step_topic=step_topic)
