"""How the matcher reads words (`reading:` in content/vocabulary.yaml): each setting, changed in
a copy of the file, changes the answers the way its comment in the file says."""

from __future__ import annotations

from pathlib import Path

import pytest
from backchain.bot.errors import ContentError
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.topics import Topic, load_topics
from backchain.bot.understanding.vocabulary import load_vocabulary

from tests.support.content_fixtures import CONTENT, TOPICS_DIR

VOCABULARY = CONTENT / "vocabulary.yaml"


@pytest.fixture(scope="module")
def topics() -> dict[str, Topic]:
    return load_topics(TOPICS_DIR)


@pytest.fixture(scope="module")
def shipped(topics: dict[str, Topic]) -> Matcher:
    return Matcher.build(topics, VOCABULARY)


def edited_vocabulary(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped vocabulary file with one setting changed."""
    text = VOCABULARY.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the shipped file no longer holds {old!r}"
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# (setting as shipped, changed, question, topic as shipped, topic once changed)
CHANGES = [
    # typo_confidence: lowered below `rules: sure`, a long typo is only a hint and names nothing.
    ("    6: 0.9  ", "    6: 0.5  ", "piriformos", "piriformis", None),
    ("    6: 0.9  ", "    6: 0.5  ", "hamstrng", "hamstrings", None),
    # sure_typo: lowered, a doubled key or a sound swapped is no longer sure enough.
    ("  sure_typo: 0.9 ", "  sure_typo: 0.5 ", "kneee", "knee", None),
    ("  sure_typo: 0.9 ", "  sure_typo: 0.5 ", "so az", "psoas", None),
    # fragment: lowered, "az" is too long to be half of a word typed apart.
    ("  fragment: 3 ", "  fragment: 1 ", "so az", "psoas", None),
    # shortest_part: raised, "lower" is too short a part to split "lowerback" at.
    ("  shortest_part: 2 ", "  shortest_part: 6 ", "lowerback", "lower-back", None),
    # most_parts: two parts still split "lowerback", not the three of "tpmassageball".
    ("  most_parts: 3 ", "  most_parts: 2 ", "tpmassageball", "tp-massage-ball", None),
    ("  most_parts: 3 ", "  most_parts: 2 ", "lowerback", "lower-back", "lower-back"),
    # silent_starts: without "kn", leaving out the k of "knees" is a mere guess.
    ("[ps, kn, pn, wr, gn]", "[ps, pn, wr, gn]", "nees", "knee", None),
    # sound: a shorter word, fewer consonants or wilder spellings are not read by ear.
    ("    length: 6 ", "    length: 9 ", "posteur", "everyday-posture", None),
    ("    consonants: 3 ", "    consonants: 4 ", "syatica", "sciatic-nerve", None),
    ("    distance: 2 ", "    distance: 1 ", "syatica", "sciatic-nerve", None),
    ("      y: i\n", "", "syatica", "sciatic-nerve", None),
    # sound alikes: without z and s, "psoaz" is a guess, not a sure typo.
    ("[[z, s], [k, c]]", "[[k, c]]", "psoaz", "psoas", None),
    # binding_words: without "of", "back of leg" matches two places named apart.
    ("[of, from]", "[from]", "my back with my legs", "lower-back", "hamstrings"),
    # owners: "my" before a body word makes it the asker's own, even beside a farm.
    ("owners: [my]", "owners: [your]", "my calf on the farm", "soleus", None),
    ("owners: [my]", "owners: [my, your]", "your calf on the farm", None, "soleus"),
]


@pytest.mark.parametrize(("old", "new", "question", "before", "after"), CHANGES)
def test_a_reading_setting_changes_answers_as_its_comment_says(
    tmp_path: Path,
    topics: dict[str, Topic],
    shipped: Matcher,
    old: str,
    new: str,
    question: str,
    before: str | None,
    after: str | None,
) -> None:
    assert shipped.match(question).topic == before
    changed = Matcher.build(topics, edited_vocabulary(tmp_path, old, new))
    assert changed.match(question).topic == after


def test_typo_confidences_may_be_listed_in_any_order(tmp_path: Path) -> None:
    text = VOCABULARY.read_text(encoding="utf-8")
    first, last = "    6: 0.9  ", "    3: 0.65 "
    assert text.index(first) < text.index(last)
    path = tmp_path / "vocabulary.yaml"
    swap = text.replace(first, "\0").replace(last, first).replace("\0", last)
    path.write_text(swap, encoding="utf-8")
    assert swap.index(last) < swap.index(first)
    shipped, swapped = load_vocabulary(VOCABULARY).reading, load_vocabulary(path).reading
    assert swapped.typo_confidence == shipped.typo_confidence
    assert swapped.typo_confidence_of("piriformos") == 0.9
    assert swapped.typo_confidence_of("kne") == 0.65


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("  sure_typo: 0.9 ", "  sure_typo: 1.5 ", "sure_typo"),
        ("    6: 0.9  ", "    6: -1  ", "typo_confidence"),
        ("    3: 0.65 ", "    # 3: 0.65 ", "typo_confidence"),
        ("  fragment: 3 ", "  fragment: three ", "fragment"),
        ("  shortest_part: 2 ", "  shortest_part: 0 ", "shortest_part"),
        ("  most_parts: 3 ", "  most_parts: 1 ", "most_parts"),
        ("[ps, kn, pn, wr, gn]", "[ps, k n]", "silent_starts"),
        ("    length: 6 ", "    length: 0 ", "sound.length"),
        ("      ph: f", "      ph: 1", "sound.spellings"),
        ("[[z, s], [k, c]]", "[[z, ss]]", "sound.alikes"),
        ("[of, from]", "[of, out of]", "binding_words"),
        ("owners: [my]", "owners: [my own]", "owners"),
    ],
)
def test_a_bad_reading_setting_names_its_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    path = edited_vocabulary(tmp_path, old, new)
    with pytest.raises(ContentError) as error:
        load_vocabulary(path)
    assert (error.value.file, error.value.entry, error.value.field) == (str(path), "reading", field)
