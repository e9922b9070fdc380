"""The question matcher against the real content: labelled questions, edge cases, vocabulary."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from backchain.bot.errors import ContentError
from backchain.bot.routine.program import load_program
from backchain.bot.understanding.matcher import Matcher, MatchResult, _consonants
from backchain.bot.understanding.textnorm import (
    MAX_INPUT_CHARS,
    normalize,
    singular,
    tokenize,
    truncate,
    verb_bases,
)
from backchain.bot.understanding.topics import Topic, load_topics
from backchain.bot.understanding.vocabulary import load_vocabulary

from tests.support.content_fixtures import CONTENT, PROGRAM_FILE, TOPICS_DIR

VOCABULARY = CONTENT / "vocabulary.yaml"
DATA = Path(__file__).resolve().parents[1] / "data"


def read_cases(path: Path) -> list[tuple[frozenset[str], str]]:
    """(acceptable topic ids or {'NONE'}, question), red-flag lines left to the red-flag screen."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, question = line.split("\t", 1)
            if expected != "RED":
                rows.append((frozenset(expected.split(",")), question))
    return rows


def is_correct(result: MatchResult, expected: frozenset[str]) -> bool:
    if expected == {"NONE"}:
        return result.topic is None and result.out_of_scope
    return result.topic in expected and not result.out_of_scope


@pytest.fixture(scope="module")
def topics() -> dict[str, Topic]:
    return load_topics(TOPICS_DIR)


@pytest.fixture(scope="module")
def matcher(topics: dict[str, Topic]) -> Matcher:
    return Matcher.build(topics, VOCABULARY)


# --- labelled questions -----------------------------------------------------------------------

CASES = read_cases(DATA / "matcher_cases.tsv")


@pytest.mark.parametrize(("expected", "question"), CASES, ids=[q[:60] for _, q in CASES])
def test_matcher_case(matcher: Matcher, expected: frozenset[str], question: str) -> None:
    result = matcher.match(question)
    assert is_correct(result, expected), (sorted(expected), result)


def test_case_labels_name_real_topics(topics: dict[str, Topic]) -> None:
    for expected, question in CASES:
        assert expected <= set(topics) | {"NONE"}, question


@pytest.mark.skipif(not (DATA / "questions.tsv").is_file(), reason="no held-out question file")
def test_accuracy_on_the_question_set(matcher: Matcher) -> None:
    rows = read_cases(DATA / "questions.tsv")
    in_scope = [is_correct(matcher.match(q), e) for e, q in rows if e != {"NONE"}]
    out_of_scope = [is_correct(matcher.match(q), e) for e, q in rows if e == {"NONE"}]
    assert len(in_scope) >= 100 and len(out_of_scope) >= 20
    assert sum(in_scope) / len(in_scope) >= 0.95
    assert sum(out_of_scope) / len(out_of_scope) >= 0.95


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why does my HIP hurt?!", "why does my hip hurt"),
        ("Don't  roll   it", "dont roll it"),
        ("it\u2019s my psoas", "its my psoas"),
        ("Hip & Lower Back Kit", "hip and lower back kit"),
        ("pirifórmis", "piriformis"),
        ("knee 🦵 pain 😩😩", "knee pain"),
        ("L4-L5/S1", "l4 l5 s1"),
        ("\x00\x07tab\there\n", "tab here"),
        ("боль в спине", ""),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_truncate_cuts_at_a_space() -> None:
    text = "word " * 2000
    cut = truncate(text)
    assert len(cut) <= MAX_INPUT_CHARS and cut.endswith("word")


def test_tokenize_caps_the_number_of_words() -> None:
    assert len(tokenize("a " * 5000)) <= 400


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hamstrings", "hamstring"),
        ("knees", "knee"),
        ("injuries", "injury"),
        ("psoas", "psoas"),
        ("soleus", "soleus"),
        ("piriformis", "piriformis"),
        ("hip", "hip"),
        ("glass", "glass"),
    ],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


@pytest.mark.parametrize(
    ("word", "base"),
    [("rolled", "roll"), ("aching", "ache"), ("sitting", "sit"), ("tilted", "tilt")],
)
def test_verb_bases(word: str, base: str) -> None:
    assert base in verb_bases(word)
    assert verb_bases("knee") == []


# --- typos and short words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("piriformus", "piriformis"),
        ("siatic", "sciatic-nerve"),
        ("pelvic tild", "pelvic-tilt"),
        ("HAMSTRNG", "hamstrings"),
        ("lowerback pain", "lower-back"),
        ("bio mechanical chain", "biomechanical-chain"),
        ("kneee", "knee"),
        ("soas", "psoas"),
        ("nees", "knee"),
        ("psoaz", "psoas"),
        ("my so as is tight", "psoas"),
        ("the so az", "psoas"),
        ("tpmassage ball", "tp-massage-ball"),
        ("tpmassageball", "tp-massage-ball"),
        ("syatica", "sciatic-nerve"),
        ("posteur when sitting", "everyday-posture"),
    ],
)
def test_typos_are_read_as_the_word_meant(matcher: Matcher, question: str, topic: str) -> None:
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize(
    "question",
    [
        "football",
        "tell me about football",
        "who is the best footballer ever",
        "block this number",
        "the back of the queue",
    ],
)
def test_everyday_words_alone_do_not_anchor_a_topic(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.topic is None and result.out_of_scope and not result.ambiguous


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("block", "baller-block"),
        ("the footballer", "footballer"),
        ("my back is wrecked", "lower-back"),
    ],
)
def test_a_faint_word_names_its_topic_when_nothing_else_is_said(
    matcher: Matcher, question: str, topic: str
) -> None:
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize("question", ["skin care", "call me", "half an hour", "lego blocks"])
def test_ordinary_words_are_not_corrected_into_body_words(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).topic is None


# --- ranking and ambiguity --------------------------------------------------------------------


def test_two_named_muscles_are_ambiguous_and_the_first_named_wins(matcher: Matcher) -> None:
    result = matcher.match("psoas or piriformis?")
    assert result.ambiguous
    assert result.topic == "psoas"
    assert {c.topic for c in result.candidates[:2]} == {"psoas", "piriformis"}


def test_one_clear_topic_is_not_ambiguous(matcher: Matcher) -> None:
    result = matcher.match("my piriformis is tight")
    assert result.topic == "piriformis" and not result.ambiguous


def test_a_pain_word_turns_the_knee_into_knee_pain(matcher: Matcher) -> None:
    assert matcher.match("my knee").topic == "knee"
    result = matcher.match("my knee really hurts")
    assert result.topic == "knee-pain" and not result.ambiguous


def test_cause_words_between_two_areas_point_to_the_chain(matcher: Matcher) -> None:
    assert matcher.match("can tight calves cause back pain").topic == "biomechanical-chain"


@pytest.mark.parametrize(
    ("question", "accepted"),
    [
        ("could my piriformis be behind the sciatica", {"piriformis", "sciatic-nerve"}),
        ("my ankle will not bend because my calf is tight", {"foot", "soleus"}),
        ("can tight calves cause hip pain", {"biomechanical-chain"}),
    ],
)
def test_cause_words_between_neighbours_keep_the_named_part(
    matcher: Matcher, question: str, accepted: set[str]
) -> None:
    assert matcher.match(question).topic in accepted


def test_a_part_described_as_connected_is_no_cause(matcher: Matcher) -> None:
    described = matcher.match("the muscle behind my belly that connects to my spine")
    assert described.topic == "psoas"
    assert matcher.match("is my foot connected to my back pain").topic == "biomechanical-chain"


def test_a_faint_chain_phrase_needs_cause_words_to_an_area(matcher: Matcher) -> None:
    assert matcher.match("does the way i walk matter for my hip pain").topic == (
        "biomechanical-chain"
    )
    assert matcher.match("the way i walk to school").topic is None


def test_the_cause_asked_with_one_area_or_none_is_the_chain(matcher: Matcher) -> None:
    chain = "biomechanical-chain"
    assert matcher.match("why does working only on my back never fix it for good").topic == chain
    assert matcher.match("i want to fix the cause not just the symptoms").topic == chain
    assert matcher.match("whats the root of all evil").topic is None


def test_a_word_spelled_by_ear_needs_one_nearest_known_word() -> None:
    spellings = load_vocabulary(VOCABULARY).reading.sound_spellings
    assert _consonants("syatica", spellings) == _consonants("sciatica", spellings) == "stc"
    assert _consonants("posteur", spellings) == _consonants("posture", spellings)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("im a software developer and sit all day", "everyday-posture"),
        ("i stand all day cooking in a restaurant kitchen", "everyday-posture"),
        ("im standing for election", None),
        ("i sit on the board", None),
        ("i drive past the farm every day", None),
    ],
)
def test_hours_sitting_or_standing_are_the_askers_day_whatever_the_job(
    matcher: Matcher, question: str, topic: str | None
) -> None:
    assert matcher.match(question).topic == topic


def test_a_cause_word_outside_its_run_explains_nothing(matcher: Matcher) -> None:
    assert matcher.match("play ball").topic is None
    assert matcher.match("how do my feet play into my hip pain").topic == "biomechanical-chain"


def test_how_often_outranks_the_technique(matcher: Matcher) -> None:
    assert matcher.match("self massage").topic == "myofascial-compression"
    assert matcher.match("how often is too often for self massage").topic == "periodization"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("a calf was born on our farm last night", None),
        ("my calves ache after a day on the farm", "soleus"),
        ("new football kit for my daughters team", None),
        ("how do sharks use their pectoral fins", None),
        ("the governments posture on tax cuts", None),
        ("a chain reaction in chemistry class", None),
        ("the ball joint on my car suspension is worn", None),
        ("muscles hold the body up like the frame of a house", "structural-integrity"),
        ("my hip hurts after lifting hay on the farm", "hip-pain"),
    ],
)
def test_a_look_alike_word_in_another_world_names_no_topic_unless_the_body_is_there(
    matcher: Matcher, question: str, topic: str | None
) -> None:
    assert matcher.match(question).topic == topic


def test_my_before_a_clear_body_word_is_the_askers_body(matcher: Matcher) -> None:
    assert matcher.match("what are the strings that move my foot").topic == "foot"
    assert matcher.match("my back garden is flooded").topic is None


def test_an_of_phrase_needs_its_of(matcher: Matcher) -> None:
    assert matcher.match("the back of my legs is tight").topic == "hamstrings"
    assert matcher.match("lying on my back with my legs straight").topic != "hamstrings"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("pain that runs from my lower back down into my foot", "sciatic-nerve"),
        ("ache from my butt down to my knee", "sciatic-nerve"),
        ("my lower back hurts and so does my knee", "lower-back"),
    ],
)
def test_pain_running_from_the_back_down_the_leg_is_the_nerve(
    matcher: Matcher, question: str, topic: str
) -> None:
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("which kit should i get for my sciatica", "hip-lower-back-kit"),
        ("my shins hurt, which kit is for that", "foot-lower-leg-kit"),
        ("the kit with the quadballer", "foot-lower-leg-kit"),
        ("which kit has the baller block", "hip-lower-back-kit"),
        ("knee and shin bundle", "foot-lower-leg-kit"),
        ("the block that came in my kit", "baller-block"),
        ("my calves hurt", "soleus"),
    ],
)
def test_asking_which_kit_points_to_the_kit_for_the_area_or_tool(
    matcher: Matcher, question: str, topic: str
) -> None:
    assert matcher.match(question).topic == topic


def test_the_vocabulary_kits_hold_the_tools_the_program_says(topics: dict[str, Topic]) -> None:
    kit_of = load_vocabulary(VOCABULARY).kits.kit_of
    for kit, tools in load_program(PROGRAM_FILE, topics).kit_contents.items():
        listed = {t for t, k in kit_of.items() if k == kit and topics[t].group == "kits"}
        assert listed == {*tools, kit}


def test_a_body_part_beats_a_ball_that_is_no_product(matcher: Matcher) -> None:
    assert matcher.match("rolling my upper back on a ball").topic == "mid-back"
    assert matcher.match("the tp ball on my upper back").topic == "tp-massage-ball"
    assert matcher.match("balls").topic == "tp-massage-ball"


def test_an_everyday_expression_hides_its_body_word_only_word_for_word(matcher: Matcher) -> None:
    assert matcher.match("be right back").topic is None
    assert matcher.match("back to back meetings").topic is None
    assert matcher.match("my back hurts, back to the same old pain").topic == "lower-back"


def test_candidates_are_best_first_and_bounded(matcher: Matcher) -> None:
    result = matcher.match("hip knee calf psoas quads hamstrings shins feet")
    scores = [c.score for c in result.candidates]
    assert 1 <= len(scores) <= 5 and scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)
    assert result.score == scores[0] and result.topic == result.candidates[0].topic


# --- hostile input ----------------------------------------------------------------------------


def test_long_rambling_message_finds_the_specific_topic(matcher: Matcher) -> None:
    story = (
        "Hi, long time listener. I've been running for years, mostly trails. Last month I "
        "upped my mileage and since then I get this burning that starts in my lower back and "
        "shoots all the way down my leg to the ankle. My physio mentioned sciatica. Thoughts?"
    )
    assert matcher.match(story).topic == "sciatic-nerve"


def test_hundred_kilobyte_input_is_truncated_and_fast(matcher: Matcher) -> None:
    text = "my piriformis is sore " + "lorem ipsum dolor sit amet " * 4000
    assert len(text) > 100_000
    start = time.perf_counter()
    result = matcher.match(text)
    assert time.perf_counter() - start < 0.25
    assert result.topic == "piriformis"


@pytest.mark.parametrize(
    "junk",
    [
        bytes(range(256)).decode("latin-1"),
        "\x00" * 1000,
        "\ud800\udfff broken surrogates",
        "🙂" * 5000,
        "%%%%$$$$####",
        "\u200b\u200d\ufeff",
        "a" * 100_000,
    ],
)
def test_junk_is_out_of_scope(matcher: Matcher, junk: str) -> None:
    result = matcher.match(junk)
    assert result.topic is None and result.out_of_scope and not result.ambiguous


def test_emoji_around_a_question_do_not_matter(matcher: Matcher) -> None:
    assert matcher.match("🔥🔥 my quads 🦵 are tight 😭").topic == "quadriceps"


def test_case_and_punctuation_do_not_matter(matcher: Matcher) -> None:
    assert matcher.match("PSOAS???").topic == matcher.match("psoas").topic == "psoas"


# --- the vocabulary file ----------------------------------------------------------------------


def write_vocabulary(tmp_path: Path, edit: str) -> Path:
    path = tmp_path / "vocabulary.yaml"
    path.write_text(VOCABULARY.read_text(encoding="utf-8") + "\n" + edit, encoding="utf-8")
    return path


def test_the_shipped_vocabulary_loads() -> None:
    vocab = load_vocabulary(VOCABULARY)
    assert "the" in vocab.stop_words and vocab.scoring.accept > 0


@pytest.mark.parametrize(
    ("edit", "entry", "field"),
    [
        ("synonyms:\n  no-such-topic: [thing]\n", "no-such-topic", "synonyms"),
        ("weak_words:\n  back: 3\n", "back", "weak_words"),
        ("weak_words:\n  two words: 0.5\n", "two words", "weak_words"),
        ("spellings:\n  hp: [hip]\n", "hp", "spellings"),
        ("stop_words: [the, no]\n", None, "stop_words"),
        ("word_sets:\n  psoas: groin spine\n", "psoas", "word_sets"),
        ("kits:\n  topics:\n    hip-kit: [psoas]\n", "hip-kit", "kits"),
        (
            "kits:\n  topics:\n    hip-lower-back-kit: [knee]\n    foot-lower-leg-kit: [knee]\n",
            "foot-lower-leg-kit",
            "kits",
        ),
        ("paths:\n  topic: [sciatic-nerve]\n", "paths", "topic"),
        ("paths:\n  topic: sciatic-nerve\n  from: [no-such-topic]\n", "no-such-topic", "paths"),
        ("links:\n  neighbours: [[piriformis, no-such-topic]]\n", "no-such-topic", "links"),
        ("links:\n  neighbours: piriformis\n", "links", "neighbours"),
        ("outranks:\n  periodization: [no-such-topic]\n", "no-such-topic", "outranks"),
        ("outranks:\n  no-such-topic: [periodization]\n", "no-such-topic", "outranks"),
    ],
)
def test_vocabulary_errors_name_the_entry_and_field(
    tmp_path: Path, topics: dict[str, Topic], edit: str, entry: str | None, field: str
) -> None:
    path = write_vocabulary(tmp_path, edit)
    with pytest.raises(ContentError) as error:
        Matcher.build(topics, path)
    assert error.value.file == str(path)
    assert error.value.entry == entry
    assert error.value.field == field


def test_a_missing_scoring_value_is_reported(tmp_path: Path, topics: dict[str, Topic]) -> None:
    text = VOCABULARY.read_text(encoding="utf-8").replace("  accept:", "  accepted:")
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match="accept"):
        Matcher.build(topics, path)


def test_a_therapist_synonym_reaches_its_topic(tmp_path: Path, topics: dict[str, Topic]) -> None:
    assert Matcher.build(topics, VOCABULARY).match("lopsided").topic is None
    text = VOCABULARY.read_text(encoding="utf-8").replace(
        "  pelvic-tilt: [\n", "  pelvic-tilt: [\n    lopsided,\n", 1
    )
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text, encoding="utf-8")
    assert Matcher.build(topics, path).match("I feel lopsided").topic == "pelvic-tilt"
