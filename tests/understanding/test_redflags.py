"""Red-flag screening: the shipped rules on real phrasings, negation, severity and validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from backchain.bot.errors import ContentError
from backchain.bot.understanding.redflags import (
    LEVELS,
    RedFlagScreen,
    cache,
    load_red_flags,
    normalize,
    terms,
)
from backchain.bot.understanding.redflags.screen import MASK, Concept, Message

ROOT = Path(__file__).resolve().parents[2]
CONTENT_FILE = ROOT / "content" / "red_flags.yaml"
DATA = Path(__file__).resolve().parents[1] / "data"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "questions.tsv"
MAX_FALSE_ALARM_RATE = 0.01


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


FLAGGED_FILES = ("red_flags.tsv", "red_flags_crisis.tsv", "red_flags_clot.tsv")


def _cases(name: str) -> list[tuple[str, str]]:
    return [tuple(line.split("\t", 1)) for line in _lines(DATA / name)]


def _flagged_cases() -> list[tuple[str, str]]:
    return [case for name in FLAGGED_FILES for case in _cases(name)]


def _ordinary_messages() -> list[str]:
    return _lines(DATA / "not_red_flags.txt")


def _dev_questions() -> list[tuple[str, str]]:
    if not DEV_QUESTIONS.is_file():
        return []
    return [tuple(line.split("\t", 1)) for line in _lines(DEV_QUESTIONS)]


@pytest.fixture(scope="module")
def screen() -> RedFlagScreen:
    return load_red_flags(CONTENT_FILE, use_cache=False)


# --- the shipped content ---------------------------------------------------------------------


def test_data_files_are_big_enough() -> None:
    assert len(_cases("red_flags.tsv")) >= 150
    assert len(_cases("red_flags_crisis.tsv")) >= 80
    assert len(_cases("red_flags_clot.tsv")) >= 60
    assert len(_ordinary_messages()) >= 300
    assert {level for level, _ in _flagged_cases()} == set(LEVELS)
    assert {level for level, _ in _cases("red_flags_crisis.tsv")} == {"crisis"}
    assert {level for level, _ in _cases("red_flags_clot.tsv")} == {"emergency", "urgent"}


@pytest.mark.parametrize(("level", "message"), _flagged_cases(), ids=lambda v: v[:50])
def test_red_flag_is_caught_at_its_level(screen: RedFlagScreen, level: str, message: str) -> None:
    flag = screen.screen(message)
    assert flag is not None, f"missed: {message!r}"
    assert flag.level == level, f"{message!r} -> {flag.rule}"


@pytest.mark.parametrize("message", _ordinary_messages(), ids=lambda v: v[:50])
def test_ordinary_message_is_not_flagged(screen: RedFlagScreen, message: str) -> None:
    flag = screen.screen(message)
    assert flag is None, f"{message!r} -> {flag and flag.rule}"


def test_false_alarm_rate_is_at_most_one_percent(screen: RedFlagScreen) -> None:
    messages = _ordinary_messages()
    flagged = [m for m in messages if screen.screen(m) is not None]
    assert len(flagged) / len(messages) <= MAX_FALSE_ALARM_RATE, flagged


@pytest.mark.skipif(not DEV_QUESTIONS.is_file(), reason="shared dev set not present")
def test_dev_set_red_lines_and_only_those_are_flagged(screen: RedFlagScreen) -> None:
    # RED: a medical flag; CRISIS: the crisis level; CLOT: urgent or emergency. SAFETY questions
    # may go either way (a safety topic or a flag); every other line must not be flagged.
    allowed = {
        "RED": {"emergency", "urgent"},
        "CRISIS": {"crisis"},
        "CLOT": {"emergency", "urgent"},
        "SAFETY": {"crisis", "emergency", "urgent", "none"},
    }
    wrong = []
    for expected, question in _dev_questions():
        flag = screen.screen(question)
        level = flag.level if flag is not None else "none"
        if level not in allowed.get(expected, {"none"}):
            wrong.append((expected, level, question))
    assert wrong == []


def test_flag_carries_rule_label_and_level_advice(screen: RedFlagScreen) -> None:
    flag = screen.screen("I wet myself and my back hurts")
    assert flag is not None
    assert flag.rule == "bladder-bowel-control"
    assert flag.label
    assert "emergency" in flag.advice
    urgent = screen.screen("fever and back pain")
    assert urgent is not None
    assert "doctor" in urgent.advice and "today" in urgent.advice
    assert urgent.advice != flag.advice


def test_every_shipped_rule_is_exercised_by_the_data(screen: RedFlagScreen) -> None:
    hit = {flag.rule for _, m in _flagged_cases() if (flag := screen.screen(m)) is not None}
    assert hit == set(screen.rule_ids)


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("fever and I can't control my bladder", "bladder-bowel-control"),
        ("on prednisone and my chest hurts", "chest-pain"),
        ("I had cancer, and now I'm numb down there", "saddle-numbness"),
        (
            "pain wakes me every night, rest doesn't help, and both legs are weak",
            "leg-weakness-or-numbness",
        ),
    ],
)
def test_most_severe_level_wins(screen: RedFlagScreen, message: str, rule: str) -> None:
    flag = screen.screen(message)
    assert flag is not None
    assert (flag.level, flag.rule) == ("emergency", rule)


@pytest.mark.parametrize(
    "message",
    [
        "no fever",
        "no numbness",
        "I don't have bladder problems",
        "no fever or chills, my back just aches",
        "no numbness or weakness in my legs",
        "I haven't noticed any numbness down there",
        "never had cancer, my back hurts",
        "bladder and bowels are fine",
        "no chest pain",
        "I'm not on any steroids",
        "not losing weight for no reason, my back hurts",
    ],
)
def test_negated_symptom_is_not_flagged(screen: RedFlagScreen, message: str) -> None:
    assert screen.screen(message) is None


@pytest.mark.parametrize(
    "message",
    [
        "no fever but I wet myself",
        "No. I can't control my bladder",
        "I have no control over my bladder",
        "I don't know why but I can't feel my feet",
        "not sure if it's a fever but my back is killing me",
        "my bladder is fine but I can't feel my feet",
        "I can't pee, is that normal?",
        "without trying I lost 8 kg",
    ],
)
def test_negation_never_hides_a_real_symptom(screen: RedFlagScreen, message: str) -> None:
    assert screen.screen(message) is not None


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("bladdr problems", "emergency"),
        ("numbnes in my groin", "emergency"),
        ("fevr and back pain", "urgent"),
        ("chets pain", "emergency"),
        ("I had cancre and now my back hurts", "urgent"),
    ],
)
def test_single_typing_slips_are_tolerated(screen: RedFlagScreen, message: str, level: str) -> None:
    flag = screen.screen(message)
    assert flag is not None and flag.level == level


def test_normalize_folds_case_apostrophes_emoji_and_punctuation() -> None:
    assert normalize("I CAN’T feel my FEET 😱!!") == "i can't feel my feet ||"
    assert normalize("Temp: 38.5°C, back ache") == "temp | 38.5 c | back ache"
    assert normalize("  Café\u0301   crème ") == "cafe creme"
    assert normalize("numb, both feet. Back ok!") == "numb | both feet || back ok ||"


# --- validation ------------------------------------------------------------------------------


def _minimal() -> dict:
    return {
        "levels": {
            "crisis": {"advice": "You matter. Call or text 988."},
            "emergency": {"advice": "Call your local emergency number now."},
            "urgent": {"advice": "See a doctor today."},
        },
        "concepts": {"fever": ["fever"], "pain": ["pain"], "chest": ["chest pain"]},
        "rules": [
            {"id": "chest-pain", "level": "emergency", "label": "Chest pain", "match": ["chest"]},
            {"id": "fever", "level": "urgent", "label": "Fever", "match": ["fever + pain"]},
        ],
    }


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "red_flags.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_minimal_file_loads_and_screens(tmp_path: Path) -> None:
    screen = load_red_flags(_write(tmp_path, _minimal()))
    assert screen.screen("fever and pain").rule == "fever"
    assert screen.screen("fever") is None


@pytest.mark.parametrize(
    ("line", "message", "flagged"),
    [
        ("fever + pain", "pain. Then a fever", True),
        ("fever & pain", "pain, and then a fever", True),
        ("fever & pain", "a fever came first, pain followed", True),
        ("fever & pain", "pain. Then a fever", False),
        ("fever & pain", "pain\nthen a fever", False),
        ("within 4 words: fever & pain", "fever and pain", True),
        ("within 4 words: fever & pain", "pain with a fever", True),
        ("within 4 words: fever & pain", "pain that came on slowly with a fever", False),
        ("within 4 words: fever & pain + chest", "chest. fever with pain", True),
        ("within 4 words: fever & pain + chest", "fever with pain", False),
    ],
)
def test_same_sentence_groups_and_word_windows(
    tmp_path: Path, line: str, message: str, flagged: bool
) -> None:
    data = _minimal()
    data["concepts"]["chest"] = ["chest"]
    data["rules"][1]["match"] = [line]
    screen = load_red_flags(_write(tmp_path, data))
    assert (screen.screen(message) is not None) == flagged


def _break_unknown_level(data: dict) -> None:
    data["rules"][1]["level"] = "soonish"


def _break_unknown_advice_level(data: dict) -> None:
    data["levels"]["later"] = {"advice": "Whenever."}


def _break_missing_advice(data: dict) -> None:
    del data["levels"]["urgent"]["advice"]


def _break_rule_without_patterns(data: dict) -> None:
    data["rules"][1]["match"] = []


def _break_bad_regex(data: dict) -> None:
    data["concepts"]["fever"] = ["fever(ish"]


def _break_duplicate_id(data: dict) -> None:
    data["rules"][1]["id"] = "chest-pain"


def _break_unknown_concept(data: dict) -> None:
    data["rules"][1]["match"] = ["fever + chills"]


def _break_unknown_reference(data: dict) -> None:
    data["concepts"]["pain"] = ["{aches} ... back"]


def _break_self_reference(data: dict) -> None:
    data["concepts"]["pain"] = ["{pain} back"]


def _break_window_without_group(data: dict) -> None:
    data["rules"][1]["match"] = ["within 5 words: fever + pain"]


def _break_unknown_concept_in_group(data: dict) -> None:
    data["rules"][1]["match"] = ["fever & chills"]


def _break_missing_label(data: dict) -> None:
    del data["rules"][0]["label"]


@pytest.mark.parametrize(
    ("breakage", "entry", "field"),
    [
        (_break_unknown_level, "fever", "level"),
        (_break_unknown_advice_level, "later", "levels"),
        (_break_missing_advice, "urgent", "advice"),
        (_break_rule_without_patterns, "fever", "match"),
        (_break_bad_regex, "fever", "concepts"),
        (_break_duplicate_id, "chest-pain", "id"),
        (_break_unknown_concept, "fever", "match"),
        (_break_unknown_reference, "pain", "concepts"),
        (_break_self_reference, "pain", "concepts"),
        (_break_missing_label, "chest-pain", "label"),
        (_break_window_without_group, "fever", "match"),
        (_break_unknown_concept_in_group, "fever", "match"),
    ],
)
def test_invalid_content_names_file_entry_and_field(
    tmp_path: Path, breakage, entry: str, field: str
) -> None:
    data = _minimal()
    breakage(data)
    path = _write(tmp_path, data)
    with pytest.raises(ContentError) as caught:
        load_red_flags(path)
    error = caught.value
    assert (error.file, error.entry, error.field) == (str(path), entry, field)
    assert str(path) in str(error) and f"'{entry}'" in str(error) and f"'{field}'" in str(error)


def test_missing_file_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="missing"):
        load_red_flags(tmp_path / "red_flags.yaml")


def test_bad_negation_pattern_is_reported(tmp_path: Path) -> None:
    data = _minimal()
    data["negation"] = {"before": ["no", "not ("]}
    path = _write(tmp_path, data)
    with pytest.raises(ContentError) as caught:
        load_red_flags(path)
    assert (caught.value.entry, caught.value.field) == ("negation", "before")


# --- the word-key prefilter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "keys"),
    [
        ("a/the/my fall", [{"fal"}, {"a", "the", "my"}]),
        ("numb*", [{"num"}]),
        ("l3/l4/l5", [{"l3", "l4", "l5"}]),
        ("_ pain", [{"pai"}]),
        ("can't breathe", [{"can"}, {"bre"}]),
        ("no", [{"no"}]),
        ("[the] bed", [{"bed"}]),
        ("(push ups / bench*) today", [{"pus", "ben"}, {"tod"}]),
        ("_", []),
        ("nu*", []),
    ],
)
def test_required_keys_name_words_every_match_contains(term: str, keys: list[set[str]]) -> None:
    found = terms.required_keys(terms.parse(term), lambda name: None)
    assert set(found) == {frozenset(k) for k in keys}


@pytest.mark.parametrize(
    ("term", "matches", "misses"),
    [
        ("chest ... pain", ["chest pain", "chest is in bad pain"], ["chest | pain"]),
        ("pee/peed [a bit] now", ["peed now", "pee a bit now"], ["pee a now"]),
        ("numb* feet", ["numbness feet", "numb feet"], ["numbfeet"]),
        ("# kg", ["6 kg", "12 kg"], ["six kg"]),
        ("(push ups / the gym) hurt", ["push ups hurt", "the gym hurt"], ["push hurt"]),
        ("can't walk", ["can't walk", "cant walk"], ["can walk"]),
        ("bed ..., he's 5", ["bed sometimes | he's 5"], ["bed sometimes he's 5"]),
        ("sore ...6 back", ["sore a b c d e f back"], ["sore a b c d e f g back"]),
    ],
)
def test_term_language_compiles_to_whole_word_patterns(
    term: str, matches: list[str], misses: list[str]
) -> None:
    pattern = re.compile(terms.whole_words([terms.phrase_regex(terms.parse(term), str)]))
    for text in matches:
        assert pattern.fullmatch(text), text
    for text in misses:
        assert not pattern.fullmatch(text), text


@pytest.mark.parametrize(
    "term",
    [
        "fever(s)?",
        "(?!x)fever",
        r"numb\w*",
        "fever|chills",
        "[the]",
        "a ( b",
        "x / / y",
        "... pain",
    ],
)
def test_regex_syntax_is_not_part_of_the_term_language(term: str) -> None:
    with pytest.raises(terms.TermError):
        terms.parse(term)


def test_not_preceded_and_followed_by_and_unless_later(tmp_path: Path) -> None:
    data = _minimal()
    data["concepts"]["fever"] = [
        {"words": "fever", "not_preceded_by": ["hay"], "not_followed_by": ["pitch", "dream*"]},
        {"words": "chills", "unless_later": ["went away"]},
    ]
    screen = load_red_flags(_write(tmp_path, data))
    assert screen.screen("fever and pain") is not None
    assert screen.screen("hay fever and pain") is None
    assert screen.screen("fever pitch pain") is None
    assert screen.screen("fever dreams, pain") is None
    assert screen.screen("chills and pain") is not None
    assert screen.screen("chills and pain, then it went away") is None


def _screened_messages(screen: RedFlagScreen) -> list[tuple[str, Message]]:
    texts = [m for _, m in _flagged_cases()] + _ordinary_messages()
    return [(text, screen.message(text)) for text in texts]


def test_prefilter_never_hides_a_regex_match(screen: RedFlagScreen) -> None:
    for text, message in _screened_messages(screen):
        for name, concept in screen._concepts.items():
            if concept.pattern.search(message.masked):
                assert concept.could_match(message.keys), (name, text)


def test_trying_word_starts_finds_every_match_a_search_finds(screen: RedFlagScreen) -> None:
    for text, message in _screened_messages(screen):
        for name, concept in screen._concepts.items():
            searched = {m.start() for m in concept.pattern.finditer(message.masked)}
            tried = {m.start() for m in concept.matches(message.masked, message.keys)}
            assert searched <= tried, (name, text)


def _matches_of_every_term(concept: Concept, text: str, keys: set[str]) -> list[tuple[int, int]]:
    """Spans found at word starts by all of a concept's terms at once, nothing left out."""
    assert concept.starters is not None
    spans = []
    for key in concept.starter_keys.intersection(keys):
        pattern = re.compile(terms.whole_words(concept.fragments[i] for i in concept.starters[key]))
        starts = [0] if text.startswith(key) else []
        starts += [i + 1 for i in range(len(text)) if text.startswith(" " + key, i)]
        spans += [m.span() for s in starts if (m := pattern.match(text, s))]
    return spans


def test_terms_left_out_for_missing_words_change_no_match(screen: RedFlagScreen) -> None:
    # A message compiles and tries only the terms whose words it holds: the spans found must be
    # exactly those of every term tried together.
    concepts = screen.parts().concepts
    messages = [screen.message(text) for text in _data_file_messages()[::3]]
    for name, concept in concepts.items():
        if concept.starters is None:
            continue
        for message in messages:
            text = message.masked
            found = [m.span() for m in concept.matches(text, message.keys, message.words)]
            assert found == _matches_of_every_term(concept, text, message.keys), (name, text)


def test_a_plain_question_compiles_no_term(screen: RedFlagScreen) -> None:
    fresh = load_red_flags(CONTENT_FILE, use_cache=False)
    for question in ("why does my hip hurt", "what is the soleus", "how long should I roll"):
        assert fresh.screen(question) is None
    concepts = fresh.parts().concepts.values()
    assert sum(len(concept._compiled) for concept in concepts) <= 2


def test_every_concept_a_rule_names_is_tried_only_at_word_starts(screen: RedFlagScreen) -> None:
    # Concepts used only inside other terms ("{dose}" = "250mg") may start with a number.
    named = {
        name
        for rule in screen.parts().rules
        for alternative in rule.alternatives
        for name in alternative.names
    }
    assert [name for name in named if screen._concepts[name].starters is None] == []


@pytest.mark.parametrize(
    ("message", "flagged"),
    [
        # Numbness that comes and goes with sitting or riding is pressure on a nerve.
        ("my bum goes numb on long drives", False),
        ("numb bum after a long bike ride", False),
        ("my left butt cheek is numb sometimes and it goes down my leg", False),
        # Numbness that stays, or both sides, or no such cause, is the saddle red flag.
        ("my bum goes numb when I sit and it has stayed numb since Monday", True),
        ("my bum feels numb like it's asleep, both cheeks", True),
        ("my butt is numb and it won't go away", True),
    ],
)
def test_sitting_numbness_is_told_from_saddle_numbness(
    screen: RedFlagScreen, message: str, flagged: bool
) -> None:
    assert (screen.screen(message) is not None) == flagged


def test_masking_at_word_starts_blanks_what_a_substitution_blanks(screen: RedFlagScreen) -> None:
    phrases = screen._not_symptoms
    assert phrases is not None and phrases.starters is not None
    for text, message in _screened_messages(screen):
        assert message.masked == phrases.pattern.sub(MASK, message.text), text


@pytest.mark.parametrize(
    ("message", "flagged"),
    [
        # A relative's cancer is family history...
        ("my grandma had cancer years ago", False),
        ("my dad had prostate cancer, is back pain genetic", False),
        ("my grandad had a tumour removed years ago, he's fine, my back is stiff", False),
        ("my dad is a cancer survivor and wants to stay active, which ball for his calves?", False),
        # ...until the message turns to that person's own pain.
        ("my mum had bowel cancer and now she's got back pain that won't go", True),
        ("my husband had prostate cancer and now his back aches", True),
        ("my gran had cancer and now she has a sore hip", True),
    ],
)
def test_relative_cancer_counts_only_with_their_own_pain(
    screen: RedFlagScreen, message: str, flagged: bool
) -> None:
    assert (screen.screen(message) is not None) == flagged


@pytest.mark.parametrize(
    ("message", "flagged"),
    [
        ("pain shooting up my leg when I bend over", False),
        ("i shoot up and my back is killing me", True),
        ("needle-like pain in my calf when I run", False),
        ("been using needles and now my back hurts bad", True),
        ("I'm on my cycle and my lower back hurts", False),
        ("I'm on a cutting cycle for summer", False),
        ("i'm a bodybuilder, on a cycle rn, lower back is killing me after deadlifts", True),
        ("how can I test my hamstring flexibility", False),
        ("pinning test twice a week, lower back sore", True),
        ("my running gear rubs my hips", False),
        ("on gear for 3 months and my back is killing me", True),
    ],
)
def test_slang_is_told_from_everyday_words(
    screen: RedFlagScreen, message: str, flagged: bool
) -> None:
    flag = screen.screen(message)
    assert (flag is not None) == flagged, flag
    if flagged:
        assert flag.rule == "steroid-or-injected-drug-use"


@pytest.mark.parametrize(
    ("message", "flagged"),
    [
        ("also kind of weird but i peed a bit without realising yesterday", True),
        ("my trousers were wet and I had no idea", True),
        ("I got caught in the rain and my trousers got wet", False),
        ("my wife wet herself and her back hurts", True),
        ("my toddler wet himself at nursery and I hurt my back lifting him", False),
        ("my son wets the bed sometimes, he's 5", False),
    ],
)
def test_leaks_nobody_felt_are_told_from_wet_clothes_and_small_children(
    screen: RedFlagScreen, message: str, flagged: bool
) -> None:
    flag = screen.screen(message)
    assert (flag is not None) == flagged, flag
    if flagged:
        assert flag.rule == "bladder-bowel-control"


# --- the rewrite keeps every old answer unless a change is listed with its reason -----------


def _old_answers() -> dict[str, tuple[str, str | None]]:
    """Message -> (answer before the rewrite, answer now when it changed on purpose)."""
    answers: dict[str, tuple[str, str | None]] = {}
    for line in _lines(DATA / "red_flags_old_answers.tsv"):
        old, message, *change = line.split("\t")
        if change:
            assert len(change) == 2 and change[1].strip(), f"a change needs a reason: {line!r}"
        answers[message] = (old, change[0] if change else None)
    return answers


def _data_file_messages() -> list[str]:
    messages = []
    paths = sorted(DATA.glob("*.tsv")) + sorted(DATA.glob("*.txt")) + [DEV_QUESTIONS]
    for path in paths:
        if path.name == "red_flags_old_answers.tsv" or not path.is_file():
            continue
        for line in _lines(path):
            messages.append(line.split("\t")[-1] if path.suffix == ".tsv" else line)
    return messages


def test_old_answers_cover_every_data_file_line() -> None:
    recorded = _old_answers()
    assert [m for m in _data_file_messages() if m not in recorded] == []


def test_every_old_answer_is_kept_or_changed_on_purpose(screen: RedFlagScreen) -> None:
    wrong = []
    for message, (old, changed) in _old_answers().items():
        flag = screen.screen(message)
        now = flag.level if flag is not None else "none"
        expected = changed or old
        if now != expected:
            wrong.append((expected, now, message))
    assert wrong == []


# --- crisis, blood clots and foot drop -------------------------------------------------------


def test_crisis_advice_is_warm_short_and_names_real_helplines(screen: RedFlagScreen) -> None:
    flag = screen.screen("I want to kill myself")
    assert flag is not None and flag.level == "crisis"
    assert "you matter" in flag.advice.lower() and "this pain is real" in flag.advice.lower()
    for number in ("988", "116 123", "https://findahelpline.com", "911", "999", "112"):
        assert number in flag.advice
    assert len(flag.advice) < 600


@pytest.mark.parametrize(
    "message",
    [
        "I have chest pain and I want to kill myself",
        "I can't control my bladder and I want to end it all",
        "fever and back pain, I feel suicidal",
    ],
)
def test_crisis_wording_wins_over_a_medical_flag(screen: RedFlagScreen, message: str) -> None:
    flag = screen.screen(message)
    assert flag is not None and flag.level == "crisis"


@pytest.mark.parametrize(
    "message",
    [
        "I'm not suicidal, just fed up with my hip",
        "this pain is killing me",
        "I could kill for a coffee",
        "the stretch killed my legs",
        "ending it all with the old physio, trying this instead",
        "hanging myself upside down on an inversion table",
        "suicide squats wrecked my legs",
    ],
)
def test_figures_of_speech_are_not_a_crisis(screen: RedFlagScreen, message: str) -> None:
    assert screen.screen(message) is None


def test_clot_rules_send_their_own_advice(screen: RedFlagScreen) -> None:
    urgent = screen.screen("my left calf is swollen and hot since the flight")
    emergency = screen.screen("my calf is swollen and sore and now I'm short of breath")
    generic = screen.screen("fever and back pain")
    assert urgent is not None and emergency is not None and generic is not None
    assert (urgent.level, emergency.level) == ("urgent", "emergency")
    assert "today" in urgent.advice and "do not massage or rub the leg" in urgent.advice.lower()
    assert "do not massage or rub the leg" in emergency.advice.lower()
    assert "emergency number now" in emergency.advice
    assert urgent.advice != generic.advice and emergency.advice != urgent.advice


@pytest.mark.parametrize(
    "message",
    [
        "I'm diabetic with numb feet, can I use the Footballer?",
        "I've had neuropathy in my feet for years, is rolling ok",
        "I had a DVT two years ago, is calf massage dangerous",
        "I'm on warfarin, can I use the ball",
        "I've had foot drop since a stroke ten years ago, can I use the ball on my hip",
    ],
)
def test_known_long_standing_conditions_are_safety_questions_not_flags(
    screen: RedFlagScreen, message: str
) -> None:
    assert screen.screen(message) is None


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("I'm diabetic and suddenly my feet went numb and both legs are weak", "emergency"),
        ("I had a DVT years ago and now my calf is swollen and hurts again", "urgent"),
        ("I had foot drop years ago and now it's back since last week", "urgent"),
    ],
)
def test_a_known_condition_that_changes_is_still_flagged(
    screen: RedFlagScreen, message: str, level: str
) -> None:
    flag = screen.screen(message)
    assert flag is not None and flag.level == level


def test_yaml_booleans_in_word_lists_get_a_clear_error(tmp_path: Path) -> None:
    data = _minimal()
    data["concepts"]["fever"] = [{"words": "fever", "not_followed_by": [False]}]
    with pytest.raises(ContentError, match="quotes"):
        load_red_flags(_write(tmp_path, data))


def test_rule_advice_names_a_known_text(tmp_path: Path) -> None:
    data = _minimal()
    data["advice_texts"] = {"fever-advice": "Fever advice."}
    data["rules"][1]["advice"] = "fever-advice"
    screen = load_red_flags(_write(tmp_path, data))
    assert screen.screen("fever and pain").advice == "Fever advice."
    data["rules"][1]["advice"] = "nope"
    with pytest.raises(ContentError) as caught:
        load_red_flags(_write(tmp_path, data))
    assert (caught.value.entry, caught.value.field) == ("fever", "advice")


# --- the compiled tables cached on disk ------------------------------------------------------


def _answers(screen: RedFlagScreen) -> list[tuple[str, str] | None]:
    return [
        (flag.level, flag.rule) if (flag := screen.screen(m)) is not None else None
        for m in _data_file_messages()
    ]


def test_cached_tables_answer_like_freshly_compiled_ones(
    screen: RedFlagScreen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    load_red_flags(CONTENT_FILE)
    files = list((tmp_path / "cache").glob("red_flags-*.json"))
    assert len(files) == 1
    cached = cache.read(files[0].stem.removeprefix("red_flags-"))
    assert cached is not None
    assert _answers(cached) == _answers(screen)
    assert load_red_flags(CONTENT_FILE).rule_ids == screen.rule_ids


def test_a_changed_file_is_compiled_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    data = _minimal()
    path = _write(tmp_path, data)
    assert load_red_flags(path).screen("fever and pain") is not None
    data["concepts"]["fever"] = ["temperature"]
    _write(tmp_path, data)
    assert load_red_flags(path).screen("fever and pain") is None
    assert len(list((tmp_path / "cache").glob("red_flags-*.json"))) == 2


def test_a_broken_or_unwritable_cache_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    path = _write(tmp_path, _minimal())
    load_red_flags(path)
    for file in folder.glob("red_flags-*.json"):
        file.write_text("{not json", encoding="utf-8")
    assert load_red_flags(path).screen("fever and pain") is not None
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    assert load_red_flags(path).screen("fever and pain") is not None
    monkeypatch.setenv(cache.CACHE_ENV, "")
    assert cache.cache_dir() is None
    assert load_red_flags(path).screen("fever and pain") is not None


def test_invalid_content_is_reported_even_with_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    data = _minimal()
    data["rules"][1]["level"] = "soonish"
    with pytest.raises(ContentError):
        load_red_flags(_write(tmp_path, data))


def test_a_warmed_screen_answers_as_a_fresh_one_and_compiles_nothing_more() -> None:
    fresh = load_red_flags(CONTENT_FILE, use_cache=False)
    warmed = load_red_flags(CONTENT_FILE, use_cache=False)
    compiled = warmed.warm()
    concepts = warmed.parts().concepts.values()

    def patterns() -> int:
        return sum(len(c._compiled) + len(c._at_key) for c in concepts)

    before = patterns()
    assert compiled > 1000 and before > 1000
    for text in _data_file_messages()[::2]:
        assert warmed.screen(text) == fresh.screen(text), text
    assert patterns() == before
