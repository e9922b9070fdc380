"""Matching a free-text question to the most specific anatomy topic, or to none.

A question is read word by word: typos are corrected to words the topics use (rapidfuzz with an
edit distance that grows with the word), words typed together are split ("lowerback") and words
typed apart are joined ("bio mechanical", "so as"). Runs of words are then looked up as alias
phrases, longest first, each word counting once. A topic scores from its best phrase plus its
group (a body part or a product beats a general technique) and its rules: pain words turn a body
area into its symptom topic, a topic listed as narrower outranks the broader one ("how often" over
"massage"), cause words between two body areas point to the biomechanical chain unless the areas
are neighbours that explain each other (piriformis and sciatica), pain running "from my lower
back down my leg" points to the sciatic nerve, and a question about which kit to get, with a body
area or a tool named, points to the kit for that area or tool. The rules live in rules.py, one
object each, their settings in content/vocabulary.yaml beside how words are read (`reading:`).

Words with an everyday meaning ("back", "block", "calf") name a topic only when the rest of the
question is about the body too, or when the question is nothing but that word: "block" is the
Baller Block, "block this number" is out of scope. A word from another world (a farm, a team, a
government, an engine) puts the whole question out of scope unless the asker's own body is in it
too: "a calf born on the farm" names no topic, "my calves ache after farm work" does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from backchain.bot.understanding.rules import AREA_GROUPS, Question, Rule, ordered_rules
from backchain.bot.understanding.safety import SafetyWords
from backchain.bot.understanding.textnorm import singular, tokenize, verb_bases
from backchain.bot.understanding.topics import Topic
from backchain.bot.understanding.vocabulary import Vocabulary, check_topic_ids, load_vocabulary
from rapidfuzz import process
from rapidfuzz.distance import OSA

# Longer aliases are indexed by their first words: nobody types a longer phrase word for word.
MAX_PHRASE_WORDS = 8
# Titles like "Soleus (deep calf)" or "Periodization: planning your routine" hold two names.
_TITLE_PARTS = re.compile(r"[():,;?]")
_WORD_CACHE = 50_000
# No word people type is longer; longer tokens are junk and skip splitting and typo search.
_LONGEST_WORD = 30
# A topic that no phrase names: a phrase with this topic only hides an everyday expression.
NO_TOPIC = ""
# How sure a typo is, which words typed together or apart are read as one, binding words ("back
# of my leg") and owners ("my calf"): `reading:` in content/vocabulary.yaml (ReadingSettings).


@dataclass(frozen=True)
class Candidate:
    topic: str
    score: float  # 0-100


@dataclass(frozen=True)
class MatchResult:
    topic: str | None  # None when out of scope
    score: float  # 0-100, score of the best candidate
    candidates: tuple[Candidate, ...]  # best first
    ambiguous: bool  # top two are close: the chat asks "did you mean ...?"
    out_of_scope: bool


# --- reading words ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One word of a question as the matcher reads it."""

    text: str  # the known word it was read as, or the word itself when unknown
    stop: bool
    known: bool
    confidence: float  # 1.0 when typed right, lower when a typo was corrected


def _max_typo_distance(word: str) -> int:
    if len(word) < 3:
        return 0
    return 2 if len(word) >= 10 else 1


def _plausible_typo(word: str, known: str) -> bool:
    # "football" is a word of its own, not a typo of "footballer": a shared beginning only
    # reads as a typo when one letter is missing or extra ("quadricep").
    if known.startswith(word) or word.startswith(known):
        return abs(len(known) - len(word)) <= 1
    if len(word) == 3:
        # Three letters are too few to guess from, unless one letter was dropped ("kne").
        return len(known) == 4 and known[0] == word[0] and _is_subsequence(word, known)
    return len(word) > 6 or word[0] == known[0] or known[1:] == word


def _is_subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(ch in letters for ch in short)


def _repeats_a_letter(typed: str, known: str) -> bool:
    return len(typed) == len(known) + 1 and any(
        typed[i] == typed[i - 1] and typed[:i] + typed[i + 1 :] == known
        for i in range(1, len(typed))
    )


def _drops_a_silent_letter(typed: str, known: str, silent_starts: tuple[str, ...]) -> bool:
    return known[1:] == typed and known.startswith(silent_starts)


def _swaps_a_sound(typed: str, known: str, alikes: frozenset[tuple[str, str]]) -> bool:
    if len(typed) != len(known):
        return False
    swaps = [(a, b) for a, b in zip(typed, known, strict=True) if a != b]
    return len(swaps) == 1 and swaps[0] in alikes


def _consonants(word: str, spellings: Sequence[tuple[str, str]]) -> str:
    """The consonants of a word as heard, each once: "sciatica" and "syatica" give "stc"."""
    for spelled, heard in spellings:
        word = word.replace(spelled, heard)
    kept = [ch for ch in word if ch not in "aeiou"]
    return "".join(ch for i, ch in enumerate(kept) if i == 0 or ch != kept[i - 1])


class WordReader:
    """Reads question words as known words, correcting typos; results are cached per word."""

    def __init__(self, known: dict[str, str], vocab: Vocabulary):
        self._known = known  # a spelling seen in the content -> the word it stands for
        self._vocab = vocab
        self._reading = vocab.reading
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for surface in sorted(known):
            self._by_length[len(surface)].append(surface)
        self._by_sound_key: dict[str, list[str]] = defaultdict(list)
        for surface in sorted(known):
            self._by_sound_key[_consonants(surface, vocab.reading.sound_spellings)].append(surface)
        self._start_caches()

    def _start_caches(self) -> None:
        self.read = lru_cache(maxsize=_WORD_CACHE)(self._read)
        self.read_joined = lru_cache(maxsize=_WORD_CACHE)(self._joined)
        self._known_exactly = lru_cache(maxsize=_WORD_CACHE)(self._exact)

    # Stored in the build cache without its per-word caches, which start empty when read back.
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        for name in ("read", "read_joined", "_known_exactly"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._start_caches()

    def is_known(self, token: str) -> bool:
        return self._known_exactly(token) is not None

    def _joined(self, first: str, second: str) -> tuple[Word, ...] | None:
        """Two tokens as one word when they only make sense together: "bio mechanical", "so as"
        (psoas said aloud) or "so az"; None when they are two words."""
        together = first + second
        if self.is_known(together):
            parts = self.read(first) + self.read(second)
            # Two real words stay two ("back ache"); "bio" is no word and "so as" no content.
            if all(w.known for w in parts) and any(not w.stop for w in parts):
                return None
            return self.read(together)
        # Otherwise only a stop word and a short fragment nobody knows may be joined.
        stops = self._vocab.stop_words
        if first in stops and second in stops:
            return None
        for token in (first, second):
            if token not in stops and (len(token) > self._reading.fragment or self.is_known(token)):
                return None
        if any(w.known and not w.stop for w in self.read(first) + self.read(second)):
            return None
        # Joined, they may be a sure typo of a known word: "so az" -> "soaz" -> "soas".
        read = self.read(together)
        sure = len(read) == 1 and read[0].known and not read[0].stop
        return read if sure and read[0].confidence >= self._reading.sure_typo else None

    def is_plain(self, token: str) -> bool:
        """An ordinary word that is never read as a typo ("skin", "shark")."""
        vocab = self._vocab
        return any(
            form in vocab.plain_words or form in vocab.off_topic_words
            for form in (token, singular(token))
        )

    def _exact(self, token: str) -> str | None:
        token = self._vocab.spellings.get(token, token)
        for form in (token, singular(token), *verb_bases(token)):
            if form in self._known:
                return self._known[form]
        return None

    def _read(self, token: str) -> tuple[Word, ...]:
        word = self._read_exact(token)
        if word is not None:
            return (word,)
        if len(token) > _LONGEST_WORD:
            return (Word(token, stop=False, known=False, confidence=1.0),)
        if self.is_plain(token):
            return (Word(singular(token), stop=False, known=False, confidence=1.0),)
        return self._split(token, self._reading.most_parts) or self._guess(token)

    def _split(self, token: str, parts: int) -> tuple[Word, ...] | None:
        """'lowerback' -> 'lower' 'back', 'tpmassageball' -> 'tp' 'massage' 'ball': known words
        typed without a space."""
        shortest = self._reading.shortest_part
        for cut in range(shortest, len(token) - shortest + 1):
            left = self._read_exact(token[:cut])
            if left is None or left.stop:
                continue
            right = self._read_exact(token[cut:])
            if right is not None and not right.stop:
                return (left, right)
            rest = self._split(token[cut:], parts - 1) if parts > 2 else None
            if rest is not None:
                return (left, *rest)
        return None

    def _read_exact(self, token: str) -> Word | None:
        if token in self._vocab.stop_words:
            return Word(token, stop=True, known=True, confidence=1.0)
        exact = self._exact(token)
        return None if exact is None else Word(exact, stop=False, known=True, confidence=1.0)

    def _guess(self, token: str) -> tuple[Word, ...]:
        corrected = self._correct(token) or self._by_sound(token)
        if corrected is None:
            return (Word(singular(token), stop=False, known=False, confidence=1.0),)
        # A doubled key ("kneee"), a silent letter left out ("soas") or a letter that sounds
        # the same ("psoaz") is a sure typo.
        reading = self._reading
        sure = (
            _repeats_a_letter(token, corrected)
            or _drops_a_silent_letter(token, corrected, reading.silent_starts)
            or _swaps_a_sound(token, corrected, reading.sound_alikes)
        )
        word = Word(
            self._known[corrected],
            stop=False,
            known=True,
            confidence=reading.sure_typo if sure else reading.typo_confidence_of(token),
        )
        return (word,)

    def _by_sound(self, token: str) -> str | None:
        """The one known word spelled with the same consonants: "syatica" -> "sciatica"."""
        reading = self._reading
        if len(token) < reading.sound_length or not token.isalpha():
            return None
        key = _consonants(token, reading.sound_spellings)
        if len(key) < reading.sound_consonants:
            return None
        most = reading.sound_distance
        found = sorted(
            (distance, known)
            for known in self._by_sound_key.get(key, ())
            if known[0] == token[0] and (distance := OSA.distance(token, known)) <= most
        )
        # Two words as near ("sciatica" and "sciatic" for "syatica" are not) is a guess.
        if not found or (len(found) > 1 and found[1][0] == found[0][0]):
            return None
        return found[0][1]

    def _correct(self, token: str) -> str | None:
        limit = _max_typo_distance(token)
        if not limit or not token.isalpha():
            return None
        choices = [
            s
            for n in range(len(token) - limit, len(token) + limit + 1)
            for s in self._by_length.get(n, ())
        ]
        found = process.extract(token, choices, scorer=OSA.distance, score_cutoff=limit, limit=8)
        ranked = sorted(
            (
                distance,
                not _repeats_a_letter(token, known),
                known[0] != token[0],
                abs(len(known) - len(token)),
                known,
            )
            for known, distance, _ in found
            if _plausible_typo(token, known)
        )
        return ranked[0][-1] if ranked else None


def read_question(text: str, reader: WordReader) -> list[Word]:
    """The words of `text`, with words typed apart joined when only together they are known."""
    tokens = tokenize(text)
    words: list[Word] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens):
            joined = reader.read_joined(tokens[i], tokens[i + 1])
            if joined is not None:
                words.extend(joined)
                i += 2
                continue
        words.extend(reader.read(tokens[i]))
        i += 1
    return words


# --- the phrase index -------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    topic: str  # NO_TOPIC for an everyday expression that only hides its words
    words: tuple[str, ...]  # known words, stop words included
    content: tuple[str, ...]  # the same without stop words
    strength: float  # 0-1: how clearly the phrase alone names its topic
    binding: frozenset[str] = frozenset()  # stop words it cannot do without ("of")
    generic: bool = False  # only words for a kind of tool ("a ball"), no product's name


@dataclass(frozen=True)
class PhraseHit:
    phrases: tuple[Phrase, ...]
    positions: frozenset[int]
    length: float  # content words; a quarter more per stop word of a one-word phrase
    confidence: float
    loose: bool = False  # found as a set of words anywhere, not as a run


def _title_names(title: str) -> list[str]:
    return [part for part in _TITLE_PARTS.split(title) if part.strip()]


def _topic_phrases(topic: Topic, vocab: Vocabulary) -> Iterable[str]:
    yield topic.id.replace("-", " ")
    yield topic.title
    yield from _title_names(topic.title)
    yield from topic.aliases
    yield from vocab.synonyms.get(topic.id, ())


def _canonical(token: str, vocab: Vocabulary, plain_forms: dict[str, str]) -> str:
    word = singular(vocab.spellings.get(token, token))
    return plain_forms.get(word, word)


def _plain_forms(topics: dict[str, Topic], vocab: Vocabulary) -> dict[str, str]:
    """'rolled' -> 'roll' wherever the content also uses the plain form, so either matches."""
    seen = {
        singular(vocab.spellings.get(t, t))
        for text in _all_texts(topics, vocab)
        for t in tokenize(text)
    }
    seen |= _cue_words(vocab)
    forms = {}
    for word in seen:
        base = next((b for b in verb_bases(word) if b in seen), None)
        if base is not None:
            forms[word] = base
    return forms


def _all_texts(topics: dict[str, Topic], vocab: Vocabulary) -> list[str]:
    texts = [text for topic in topics.values() for text in _topic_phrases(topic, vocab)]
    texts += [text for sets in vocab.word_sets.values() for text in sets]
    return texts


def _cue_words(vocab: Vocabulary) -> set[str]:
    cues = set(vocab.context_words | vocab.pain_words) | set(vocab.weak_words)
    cues |= vocab.link_area_words | vocab.kits.nouns | vocab.paths.via | vocab.paths.ends
    for run in vocab.link_phrases + vocab.link_alone_phrases:
        cues |= {w for w in run if w not in vocab.stop_words}
    return cues


@dataclass
class PhraseIndex:
    """Alias phrases by their content words, and phrases that need their stop words too."""

    by_content: dict[tuple[str, ...], list[Phrase]] = field(default_factory=dict)
    by_words: dict[tuple[str, ...], list[Phrase]] = field(default_factory=dict)
    word_sets: dict[str, list[Phrase]] = field(default_factory=dict)  # by their first word
    longest: dict[str, int] = field(default_factory=dict)  # first word -> most words after it
    topic_words: set[str] = field(default_factory=set)  # the content words naming a topic

    def add(self, phrase: Phrase) -> None:
        # "it band" and "how often" mean nothing without their stop word, so they are only found
        # word for word; other phrases are found with any stop words in between.
        # An everyday expression is only ever said word for word ("back to back").
        fixed = phrase.topic == NO_TOPIC and len(phrase.words) > len(phrase.content)
        if phrase.topic != NO_TOPIC:
            self.topic_words.update(phrase.content)
        if not fixed and (len(phrase.content) >= 2 or (phrase.content and len(phrase.words) == 1)):
            self._put(self.by_content, phrase.content, phrase)
        if len(phrase.words) > len(phrase.content):
            self._put(self.by_words, phrase.words, phrase)

    def _put(
        self, index: dict[tuple[str, ...], list[Phrase]], key: tuple[str, ...], phrase: Phrase
    ) -> None:
        key = key[:MAX_PHRASE_WORDS]
        entries = index.setdefault(key, [])
        same = next((i for i, p in enumerate(entries) if p.topic == phrase.topic), None)
        if same is None:
            entries.append(phrase)
            self.longest[key[0]] = max(self.longest.get(key[0], 0), len(key))
        elif len(phrase.binding) < len(entries[same].binding):
            # "back of leg" and "back leg" share a key; the one that asks less is kept.
            entries[same] = phrase


def _make_phrase(
    topic: str, text: str, vocab: Vocabulary, plain_forms: dict[str, str]
) -> Phrase | None:
    tokens = tokenize(text)
    if not tokens:
        return None
    words = tuple(_canonical(t, vocab, plain_forms) for t in tokens)
    content = tuple(w for t, w in zip(tokens, words, strict=True) if t not in vocab.stop_words)
    strength = min(1.0, sum(vocab.weak_words.get(w, 1.0) for w in content)) if content else 0.5
    binding = frozenset(w for w in words if w in vocab.reading.binding_words)
    generic = bool(content) and all(w in vocab.generic_tool_words for w in content)
    return Phrase(topic, words, content, strength, binding, generic)


def _build_index(
    topics: dict[str, Topic], vocab: Vocabulary, plain_forms: dict[str, str]
) -> PhraseIndex:
    index = PhraseIndex()
    for topic in topics.values():
        for text in _topic_phrases(topic, vocab):
            phrase = _make_phrase(topic.id, text, vocab, plain_forms)
            if phrase is not None:
                index.add(phrase)
        for text in vocab.word_sets.get(topic.id, ()):
            phrase = _make_phrase(topic.id, text, vocab, plain_forms)
            if phrase is not None and phrase.content:
                # Faint words together say clearly what neither says alone ("sit" + "day").
                phrase = replace(phrase, strength=1.0)
                index.word_sets.setdefault(phrase.content[0], []).append(phrase)
    for text in vocab.not_topics:
        phrase = _make_phrase(NO_TOPIC, text, vocab, plain_forms)
        if phrase is not None:
            index.add(phrase)
    return index


def _known_words(
    topics: dict[str, Topic], vocab: Vocabulary, plain_forms: dict[str, str]
) -> dict[str, str]:
    """Every spelling the content uses (and its plain form) -> the word the index uses."""
    known: dict[str, str] = {}
    for text in _all_texts(topics, vocab):
        for token in tokenize(text):
            if token not in vocab.stop_words:
                word = _canonical(token, vocab, plain_forms)
                known.setdefault(token, word)
                known.setdefault(singular(vocab.spellings.get(token, token)), word)
                known.setdefault(word, word)
    for word in _cue_words(vocab):
        known.setdefault(word, plain_forms.get(word, word))
    return known


# --- matching ---------------------------------------------------------------------------------


class Matcher:
    """Scores every topic for a question; build once at start-up, then call `match` freely."""

    def __init__(
        self,
        topics: dict[str, Topic],
        vocab: Vocabulary,
        index: PhraseIndex,
        reader: WordReader,
        safety: SafetyWords | None = None,
    ):
        self._groups = {t.id: t.group for t in topics.values()}
        self._vocab = vocab
        self._index = index
        self._reader = reader
        self._cues = vocab.context_words | vocab.pain_words
        self._links = WordRuns(vocab.link_phrases, reader)
        self._links_alone = WordRuns(vocab.link_alone_phrases, reader)
        self._link_words = (self._links.words | self._links_alone.words) - index.topic_words
        self._own_day = WordRuns(vocab.own_day_phrases, reader)
        self._sure = vocab.rules.sure
        self._rules: tuple[Rule, ...] = ordered_rules(
            vocab,
            self._groups,
            links=self._links,
            links_alone=self._links_alone,
            descriptions=WordRuns(vocab.link_descriptions, reader),
            kit_asks=WordRuns(vocab.kits.asks, reader),
            kit_holds=WordRuns(vocab.kits.holds, reader),
        )
        self._safety = safety
        self._content_sizes = _sizes_by_first_word(index.by_content)
        self._word_sizes = _sizes_by_first_word(index.by_words)

    @classmethod
    def build(
        cls, topics: dict[str, Topic], vocabulary_path: Path, safety: SafetyWords | None = None
    ) -> Matcher:
        """Load the vocabulary and precompute the phrase index and the known words."""
        vocab = load_vocabulary(vocabulary_path)
        check_topic_ids(vocab, topics, str(vocabulary_path))
        plain_forms = _plain_forms(topics, vocab)
        index = _build_index(topics, vocab, plain_forms)
        reader = WordReader(_known_words(topics, vocab, plain_forms), vocab)
        return cls(topics, vocab, index, reader, safety)

    @property
    def stop_words(self) -> frozenset[str]:
        """Words that never name a topic on their own."""
        return self._vocab.stop_words

    def match(self, text: str) -> MatchResult:
        """The best topic for `text`, its runner-ups, and whether to ask or to give up."""
        # A named health condition makes it a safety question first (content/safety.yaml).
        safety = self._safety.find(text) if self._safety is not None else None
        if safety is not None:
            sure = Candidate(safety, 100.0)
            return MatchResult(safety, 100.0, (sure,), ambiguous=False, out_of_scope=False)
        question = self.read(text)
        scores = self.phrase_scores(question)
        for rule in self.rules:
            rule.apply(question, scores)
        return self._result(scores)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules that move the phrases' scores, in the order they run."""
        return self._rules

    def read(self, text: str) -> Question:
        """`text` as the rules see it: its words, the phrases found in them, its context."""
        words = read_question(text, self._reader)
        hits = _select_hits(self._find_hits(words))
        context, elsewhere = self._context(words, hits)
        return Question(words, hits, context, elsewhere)

    def _find_hits(self, words: list[Word]) -> list[PhraseHit]:
        content = [i for i, w in enumerate(words) if not w.stop]
        index = self._index
        hits = self._scan(words, content, index.by_content, self._content_sizes)
        hits += self._scan(words, list(range(len(words))), index.by_words, self._word_sizes)
        hits += self._find_word_sets(words)
        return hits

    def _scan(
        self,
        words: list[Word],
        positions: list[int],
        index: dict[tuple[str, ...], list[Phrase]],
        sizes: KeySizes,
    ) -> list[PhraseHit]:
        """Every phrase of `index` found as a run of the words at `positions`; `sizes`: the
        lengths of the index's keys by their first word, and the first two words of the longer
        keys."""
        hits = []
        by_first, pairs = sizes
        texts = [words[p].text for p in positions]
        last = len(texts) - 1
        for i, text in enumerate(texts):
            lengths = by_first.get(text)
            if lengths is None:
                continue
            room = len(texts) - i
            # No key of two words or more starts here unless its first two words do.
            longer = i < last and (text, texts[i + 1]) in pairs
            for n in lengths:
                if n > room or (n > 1 and not longer):
                    continue
                phrases = index.get(tuple(texts[i : i + n]))
                if not phrases:
                    continue
                span = positions[i : i + n]
                if any(p.binding for p in phrases):
                    between = {w.text for w in words[span[0] : span[-1] + 1]}
                    phrases = [p for p in phrases if p.binding <= between]
                if phrases:
                    hits.append(_hit(phrases, [(p, words[p]) for p in span]))
        return hits

    def _find_word_sets(self, words: list[Word]) -> list[PhraseHit]:
        first: dict[str, int] = {}
        for i, word in enumerate(words):
            if not word.stop:
                first.setdefault(word.text, i)
        return [
            _hit([phrase], [(first[w], words[first[w]]) for w in phrase.content], loose=True)
            for word in first
            for phrase in self._index.word_sets.get(word, ())
            if all(w in first for w in phrase.content)
        ]

    def _context(self, words: list[Word], hits: list[PhraseHit]) -> tuple[float, bool]:
        """1.0 when the question is plainly about the body, so everyday words may name a topic,
        0.0 when it is not; and whether it is plainly about something else (a farm's calf, a
        team's kit, a government's posture), unless the asker's own body or pain is in it."""
        covered = set().union(*(h.positions for h in hits)) if hits else set()
        uncovered = {i: w for i, w in enumerate(words) if not w.stop and i not in covered}
        if any(w.text in self._vocab.off_topic_words for w in uncovered.values()):
            own_body = self._about_own_body(words, hits)
            return (1.0, False) if own_body else (0.0, True)
        return self._body_context(words, uncovered, hits), False

    def _body_context(
        self, words: list[Word], uncovered: dict[int, Word], hits: list[PhraseHit]
    ) -> float:
        cues = self._cues
        typed = [w.text for w in uncovered.values() if w.confidence == 1.0]
        # A cue word of a longer run keeps its plural ("not just the symptoms").
        if any(text in cues or singular(text) in cues for text in typed):
            return 1.0
        if self._about_own_body(words, hits) or self._asks_cause_of_area(words, hits):
            return 1.0
        sure = [h for h in hits if h.confidence >= self._sure and h.phrases[0].topic != NO_TOPIC]
        # One clear body word, or several faint ones together ("the footballer ... my calves").
        if sum(max(p.strength for p in h.phrases) for h in sure) >= 1.0:
            return 1.0
        # Nothing but the faint word itself: "block", "the footballer"; a cause word explains
        # only as part of its run ("play into" does, "play ball" does not).
        explained = all(w.known and w.confidence == 1.0 for w in uncovered.values())
        linking = [i for i, w in uncovered.items() if w.text in self._link_words]
        if explained and linking:
            runs = self._links.covered(words) | self._links_alone.covered(words)
            explained = runs.issuperset(linking)
        return 1.0 if sure and len(sure) == len(hits) and explained else 0.0

    def _asks_cause_of_area(self, words: list[Word], hits: list[PhraseHit]) -> bool:
        """A body area with a question for the cause: "my back never fixes for good"."""
        area_named = any(
            h.confidence >= self._sure and self._groups.get(p.topic) in AREA_GROUPS
            for h in hits
            for p in h.phrases
        )
        return area_named and bool(self._links_alone.find(words))

    def _about_own_body(self, words: list[Word], hits: list[PhraseHit]) -> bool:
        """A word only a body has, a body area with a pain word near it, or "my" before a
        clear body word: "muscles", "calf hurts", "my calf"; not "my back garden"."""
        vocab = self._vocab
        if any(w.text in vocab.own_body_words for w in words if not w.stop):
            return True
        if self._own_day.find(words):
            return True
        pains = [i for i, w in enumerate(words) if not w.stop and w.text in vocab.pain_words]
        reach, own = vocab.rules.pain_reach, vocab.rules.own_strength
        for hit in hits:
            areas = [p for p in hit.phrases if self._groups.get(p.topic) in AREA_GROUPS]
            if not areas or hit.confidence < self._sure:
                continue
            if any(abs(i - p) <= reach for i in pains for p in hit.positions):
                return True
            if max(p.strength for p in areas) >= own and _after(words, hit, vocab.reading.owners):
                return True
        return False

    def phrase_scores(self, question: Question) -> dict[str, float]:
        """Every topic a phrase of the question names, scored before the rules run."""
        scoring = self._vocab.scoring
        hits, context = question.hits, question.context
        best: dict[str, float] = {}
        strength: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        # Topics enter in the order they are mentioned: on a tie the first one named wins.
        for hit in sorted(hits, key=lambda h: min(h.positions)):
            for phrase in hit.phrases:
                if phrase.topic == NO_TOPIC:
                    continue
                sure = hit.confidence >= self._sure
                strength[phrase.topic] += phrase.strength if sure else phrase.strength / 2
                extra = 0.0 if hit.loose else scoring.per_extra_word * (hit.length - 1)
                points = (scoring.phrase + extra + self._bonus(phrase, context)) * hit.confidence
                best[phrase.topic] = max(best.get(phrase.topic, 0.0), points)
                count[phrase.topic] += 1
        scores = {
            topic: _weigh(points, context, strength[topic])
            + scoring.per_extra_phrase * min(count[topic] - 1, 2)
            for topic, points in best.items()
        }
        return scores

    def _bonus(self, phrase: Phrase, context: float) -> float:
        """A body part or a product outranks a technique, in a question about the body; a word
        for any ball ranks no higher than a technique."""
        if phrase.generic or context == 0.0:
            return 0.0
        group = self._groups[phrase.topic]
        return next((b for g, b in self._vocab.scoring.group_bonus.items() if g == group), 0.0)

    def _result(self, scores: dict[str, float]) -> MatchResult:
        scoring = self._vocab.scoring
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        candidates = tuple(
            Candidate(topic, round(min(score, 100.0), 1))
            for topic, score in ranked[:5]
            if score >= scoring.candidate_floor
        )
        if not candidates or candidates[0].score < scoring.accept:
            top = candidates[0].score if candidates else 0.0
            return MatchResult(None, top, candidates, ambiguous=False, out_of_scope=True)
        first = candidates[0]
        ambiguous = (
            len(candidates) > 1
            and candidates[1].score >= scoring.accept
            and first.score - candidates[1].score <= scoring.ambiguous_margin
        )
        return MatchResult(first.topic, first.score, candidates, ambiguous, out_of_scope=False)


# The lengths of an index's keys by their first word (longest first), and the first two words
# of every key longer than one word.
KeySizes = tuple[dict[str, tuple[int, ...]], frozenset[tuple[str, str]]]


def _sizes_by_first_word(index: dict[tuple[str, ...], list[Phrase]]) -> KeySizes:
    sizes: dict[str, set[int]] = defaultdict(set)
    for key in index:
        sizes[key[0]].add(len(key))
    pairs = frozenset((key[0], key[1]) for key in index if len(key) > 1)
    return {word: tuple(sorted(lengths, reverse=True)) for word, lengths in sizes.items()}, pairs


def _weigh(points: float, context: float, strength: float) -> float:
    """Full points in a question about the body; otherwise only as much as the words say."""
    if context == 1.0:
        return points
    return points * min(1.0, strength) * (context or 1.0)


def _after(words: list[Word], hit: PhraseHit, owners: frozenset[str]) -> bool:
    """Whether one of `owners` comes right before `hit`, stop words aside: "my left calf"."""
    i = min(hit.positions) - 1
    while i >= 0 and words[i].stop and words[i].text not in owners:
        i -= 1
    return i >= 0 and words[i].text in owners


def _hit(phrases: Sequence[Phrase], span: list[tuple[int, Word]], loose: bool = False) -> PhraseHit:
    words = [w for _, w in span]
    content = len([w for w in words if not w.stop])
    # "every day" says more than "day"; a phrase of two real words needs no such help.
    stops = len(span) - content if content <= 1 else 0
    return PhraseHit(
        phrases=tuple(phrases),
        positions=frozenset([p for p, _ in span]),
        length=content + stops / 4,
        confidence=sum([w.confidence for w in words]) / len(span),
        loose=loose,
    )


def _select_hits(hits: list[PhraseHit]) -> list[PhraseHit]:
    """Longest phrases first, exact runs before loose word sets; a word counts once."""
    used: set[int] = set()
    chosen = []
    # On a tie the set of words spread wider wins: "muscle ... stomach ... spine" over
    # "muscle behind stomach", so "spine" is not read as a second topic.
    for hit in sorted(
        hits,
        key=lambda h: (
            -len(h.positions),
            h.loose,
            -h.length,
            min(h.positions) - max(h.positions) if h.loose else 0,
            min(h.positions),
        ),
    ):
        if used.isdisjoint(hit.positions):
            chosen.append(hit)
            used |= hit.positions
    return chosen


class WordRuns:
    """Short runs of words found where they start in a question ("root of", "which kit").

    A run with stop words is found word for word; a run without them is found with any stop
    words in between ("start way further down" holds "start further down").
    """

    def __init__(self, runs: Iterable[tuple[str, ...]], reader: WordReader):
        self._exact: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self._content: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self.words: set[str] = set()  # the content words of every run
        for run in runs:
            # Read as a question is read, so "causing" in a run meets "causing" in a question.
            words = [w for token in run for w in reader.read(token)]
            texts = tuple(w.text for w in words)
            self.words |= {w.text for w in words if not w.stop}
            has_stops = any(w.stop for w in words)
            (self._exact if has_stops else self._content)[texts[0]].append(texts)
        # The words a run can start with: a question holding none of them holds no run.
        self._firsts = frozenset(self._exact) | frozenset(self._content)

    def find(self, words: list[Word]) -> list[int]:
        """Where any run starts in `words`."""
        return [start for start, _ in self._spans(words)]

    def covered(self, words: list[Word]) -> set[int]:
        """Every position inside a run."""
        return {i for start, end in self._spans(words) for i in range(start, end + 1)}

    def _spans(self, words: list[Word]) -> list[tuple[int, int]]:
        texts = [w.text for w in words]
        if self._firsts.isdisjoint(texts):
            return []
        found = _spans(texts, list(range(len(words))), self._exact)
        content = [i for i, w in enumerate(words) if not w.stop]
        return found + _spans([texts[i] for i in content], content, self._content)


def _spans(
    texts: list[str], positions: list[int], runs: dict[str, list[tuple[str, ...]]]
) -> list[tuple[int, int]]:
    """(first, last) position of every run found; `texts`: the words at `positions`."""
    return [
        (positions[i], positions[i + len(run) - 1])
        for i, text in enumerate(texts)
        if text in runs
        for run in runs[text]
        if tuple(texts[i : i + len(run)]) == run
    ]
