"""The matcher's rules: each moves topic scores for one kind of question.

The matcher scores every topic from the phrases found in a question, then runs its rules in the
order `ordered_rules` gives, each on the one scores dict. A rule is a small object with the words
and the settings it needs (content/vocabulary.yaml, `rules:` and `scoring:`) and one method,
`apply(question, scores)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from backchain.bot.understanding.vocabulary import KitWords, PathWords, Vocabulary

if TYPE_CHECKING:
    from backchain.bot.understanding.matcher import PhraseHit, Word, WordRuns

AREA_GROUPS = ("anatomy", "symptoms")
SAFETY_GROUP = "safety"
# Where pain starts, after "from".
_FROM = "from"
# Words that join the areas a kit word follows: "foot and leg set".
_JOINING_WORDS = frozenset({"and", "or", "n"})


@dataclass(frozen=True)
class Question:
    """A question as the rules see it: its words, the phrases found in them and its context."""

    words: list[Word]
    hits: list[PhraseHit]
    context: float  # 1.0 when plainly about the body, 0.0 when not
    elsewhere: bool  # plainly about something else: a farm's calf, a team's kit


class Rule(Protocol):
    def apply(self, question: Question, scores: dict[str, float]) -> None:
        """Move the scores of the topics this kind of question is about."""


@dataclass(frozen=True)
class SymptomRule:
    """A pain word next to a body area ("my knee really hurts") means its symptom topic."""

    pain_words: frozenset[str]
    symptom_topics: Mapping[str, str]  # a body area -> its symptom topic
    bonus: float
    reach: int  # a pain word this many words from an area is about that area

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        words = question.words
        pains = [i for i, w in enumerate(words) if not w.stop and w.text in self.pain_words]
        if not pains:
            return
        near_pain = {i + d for i in pains for d in range(-self.reach, self.reach + 1)}
        for hit in question.hits:
            for phrase in hit.phrases:
                symptom = self.symptom_topics.get(phrase.topic)
                near = not near_pain.isdisjoint(hit.positions)
                if symptom is not None and near and phrase.topic in scores:
                    area = phrase.topic
                    scores[symptom] = max(scores.get(symptom, 0.0), scores[area] + self.bonus)
                    scores[area] -= self.bonus


@dataclass(frozen=True)
class OutrankRule:
    """A narrower topic named with a broader one ("how often to massage") is the one asked."""

    outranks: Mapping[str, tuple[str, ...]]  # a topic -> the broader topics it beats
    bonus: float
    sure: float

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        sure = {p.topic for h in question.hits if h.confidence >= self.sure for p in h.phrases}
        for topic, below in self.outranks.items():
            beaten = [scores[t] for t in below if t in scores]
            if topic in scores and topic in sure and beaten:
                raised = max(beaten) + self.bonus
                scores[topic] = max(scores[topic], raised)


@dataclass(frozen=True)
class LinkRule:
    """Cause words between two body areas ("can tight calves cause back pain"), or the cause
    asked for with no area named ("why does the relief never last"): the chain between them."""

    topic: str | None  # the chain's topic
    groups: Mapping[str, str]  # topic -> its group
    symptom_topics: Mapping[str, str]
    area_words: frozenset[str]  # "leg": an area to the chain though no topic is only the leg
    neighbours: tuple[frozenset[str], ...]  # areas that explain each other without the chain
    links: WordRuns  # "cause", "lead to"
    links_alone: WordRuns  # "root cause", "never lasts": the cause asked with no area
    descriptions: WordRuns  # "connects to the spine" describes a part, names no cause
    bonus: float
    phrase: float  # the points of a phrase found, the floor the chain is raised from

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        if self.topic is None:
            return
        words, hits = question.words, question.hits
        areas = [
            (min(hit.positions), self.symptom_topics.get(phrase.topic, phrase.topic))
            for hit in hits
            for phrase in hit.phrases
            if phrase.topic and self.groups[phrase.topic] in AREA_GROUPS
        ]
        if not areas:
            self._apply_alone(question, scores)
            return
        areas += [(i, w.text) for i, w in enumerate(words) if w.text in self.area_words]
        # The chain's own alias ("what is causing my back pain") already names one end; a faint
        # one ("the way i walk") is one end only with cause words to an area ("matter for").
        chain = [(h, p) for h in hits for p in h.phrases if p.topic == self.topic]
        areas += [(min(h.positions), p.topic) for h, p in chain if p.strength < 1.0]
        if any(p.strength >= 1.0 for _, p in chain) or self.links_alone.find(words):
            linked = True
        else:
            links = self.links.find(words) if self._far_apart({a for _, a in areas}) else []
            if links:
                described = self.descriptions.covered(words)
                links = [link for link in links if link not in described]
            linked = any(
                {a for p, a in areas if p < link} and {a for p, a in areas if p > link}
                for link in links
            )
        if linked:
            top = max(scores[t] for t in scores if self.groups[t] in AREA_GROUPS)
            scores[self.topic] = max(scores.get(self.topic, 0.0), top + self.bonus)

    def _apply_alone(self, question: Question, scores: dict[str, float]) -> None:
        """The cause with no area, in a question about the body ("the root of the word" is
        not one)."""
        assert self.topic is not None
        if not self.links_alone.find(question.words):
            return
        if question.context < 1.0 or question.elsewhere:
            return
        raised = max([self.phrase, *scores.values()]) + self.bonus
        scores[self.topic] = max(scores.get(self.topic, 0.0), raised)

    def _far_apart(self, areas: set[str]) -> bool:
        """Two areas or more, not all neighbours that explain each other without the chain."""
        return len(areas) >= 2 and not any(areas <= group for group in self.neighbours)


@dataclass(frozen=True)
class PathRule:
    """Pain that runs "from my lower back down one leg" names the path, not its start."""

    paths: PathWords
    bonus: float
    reach: int  # how many words after "down" or "into" the pain may end

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        paths, words = self.paths, question.words
        if paths.topic is None:
            return
        starts = [
            max(hit.positions)
            for hit in question.hits
            if any(p.topic in paths.sources for p in hit.phrases)
            and any(_follows_from(words, p) for p in hit.positions)
        ]
        texts = [w.text for w in words]
        for start in starts:
            via = next((i for i in range(start + 1, len(texts)) if texts[i] in paths.via), None)
            ahead = texts[via + 1 : via + 1 + self.reach] if via is not None else []
            if not paths.ends.isdisjoint(ahead):
                raised = max(scores.values()) + self.bonus
                scores[paths.topic] = max(scores.get(paths.topic, 0.0), raised)
                return


@dataclass(frozen=True)
class KitRule:
    """Which kit for shin splints, or the kit with the footballer: the kit for that."""

    kits: KitWords
    asks: WordRuns  # "which kit"
    holds: WordRuns  # "kit with"
    groups: Mapping[str, str]
    area_words: frozenset[str]
    bonus: float

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        words, hits, kits = question.words, question.hits, self.kits
        asks = self.asks.find(words)
        holds = self.holds.find(words)
        nouns = [i for i, w in enumerate(words) if w.text in kits.nouns]
        if not (asks or holds or nouns):
            return
        named = self._named_before(words, hits, nouns)
        votes: dict[str, int] = {}
        for hit in sorted(hits, key=lambda h: min(h.positions)):
            named_kit = not hit.positions.isdisjoint(named)
            for phrase in hit.phrases:
                kit = kits.kit_of.get(phrase.topic)
                if kit is None:
                    continue
                if self.groups[phrase.topic] in AREA_GROUPS:
                    asked = bool(asks) or named_kit
                else:
                    held = any(h < min(hit.positions) for h in holds)
                    asked = held or named_kit or (phrase.topic == kit and bool(asks or holds))
                if asked:
                    votes[kit] = votes.get(kit, 0) + 1
        if votes:
            kit = max(votes, key=lambda k: votes[k])  # on a tie, the first one named
            raised = max(scores.values()) + self.bonus
            scores[kit] = max(scores.get(kit, 0.0), raised)

    def _named_before(self, words: list[Word], hits: list[PhraseHit], nouns: list[int]) -> set[int]:
        """Positions of the areas and tools a kit word follows: "hip and lower back bundle"."""
        covered = set().union(*(h.positions for h in hits)) if hits else set()
        named: set[int] = set()
        for noun in nouns:
            i = noun - 1
            while i >= 0 and (
                i in covered or words[i].text in _JOINING_WORDS or words[i].text in self.area_words
            ):
                named.add(i)
                i -= 1
        return named


@dataclass(frozen=True)
class SafetyRule:
    """A condition named clearly ("on warfarin", "varicose veins") makes it a safety question,
    even with a body area or a kit in it: it asks whether it is safe, not what the kit is."""

    groups: Mapping[str, str]
    margin: float
    sure: float

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        safety = {
            p.topic
            for h in question.hits
            if h.confidence >= self.sure
            for p in h.phrases
            if self.groups.get(p.topic) == SAFETY_GROUP and p.topic in scores
        }
        if not safety:
            return
        top = max(scores.values())
        for topic in safety:
            scores[topic] = max(scores[topic], top + self.margin)


@dataclass(frozen=True)
class OffTopicRule:
    """A question plainly about something else (a farm's calf) has every score shrunk."""

    factor: float

    def apply(self, question: Question, scores: dict[str, float]) -> None:
        if question.elsewhere:
            for topic in scores:
                scores[topic] *= self.factor


def ordered_rules(
    vocab: Vocabulary,
    groups: Mapping[str, str],
    links: WordRuns,
    links_alone: WordRuns,
    descriptions: WordRuns,
    kit_asks: WordRuns,
    kit_holds: WordRuns,
) -> tuple[Rule, ...]:
    """The matcher's rules in the order they run; each sees the scores the ones before left.

    - Symptoms first: a pain word turns an area into its symptom topic, and the rules after
      weigh that symptom topic as the area named.
    - Outranks next, on the phrases' own scores, before any rule raises a topic above them.
    - Links, paths and kits raise one topic above the best so far, so each runs after the
      rules whose topics it must beat: the kit asked for beats the chain and the path.
    - Safety after every topic rule: a condition named clearly beats any topic they raised.
    - Off topic last, so no rule lifts a look-alike word back into scope.
    """
    scoring, tuning = vocab.scoring, vocab.rules
    return (
        SymptomRule(
            vocab.pain_words, vocab.symptom_topics, scoring.symptom_bonus, tuning.pain_reach
        ),
        OutrankRule(vocab.outranks, scoring.outrank_bonus, tuning.sure),
        LinkRule(
            topic=vocab.link_topic,
            groups=groups,
            symptom_topics=vocab.symptom_topics,
            area_words=vocab.link_area_words,
            neighbours=vocab.link_neighbours,
            links=links,
            links_alone=links_alone,
            descriptions=descriptions,
            bonus=scoring.link_bonus,
            phrase=scoring.phrase,
        ),
        PathRule(vocab.paths, scoring.link_bonus, tuning.path_reach),
        KitRule(vocab.kits, kit_asks, kit_holds, groups, vocab.link_area_words, scoring.kit_bonus),
        SafetyRule(groups, scoring.safety_margin, tuning.sure),
        OffTopicRule(scoring.off_topic_factor),
    )


def _follows_from(words: list[Word], position: int) -> bool:
    """'from my lower back': "from" and nothing but stop words before `position`."""
    i = position - 1
    while i >= 0 and words[i].stop and words[i].text != _FROM:
        i -= 1
    return i >= 0 and words[i].text == _FROM
