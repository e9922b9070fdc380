"""The matcher's rules, one by one: the kind of question each changes and one it leaves alone.

Each rule runs alone on the scores of the phrases found, with the shipped vocabulary, so a test
shows what that rule does, not what the rules before it did.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest
from backchain.bot.content import build_matcher, load_content
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.rules import (
    KitRule,
    LinkRule,
    OffTopicRule,
    OutrankRule,
    PathRule,
    Rule,
    SafetyRule,
    SymptomRule,
)

DATA = Path(__file__).resolve().parents[1] / "data"
R = TypeVar("R")


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """The matcher built the way the bot builds it."""
    return build_matcher(load_content())


def run(matcher: Matcher, rule: Rule, text: str) -> tuple[dict[str, float], dict[str, float]]:
    """The phrases' scores for `text`, before and after `rule` alone."""
    question = matcher.read(text)
    before = matcher.phrase_scores(question)
    after = dict(before)
    rule.apply(question, after)
    return before, after


def rule_of(matcher: Matcher, kind: type[R]) -> R:
    (rule,) = [r for r in matcher.rules if isinstance(r, kind)]
    return rule


def best(scores: dict[str, float]) -> str:
    return max(scores, key=lambda t: scores[t])


def test_the_rules_run_in_the_documented_order(matcher: Matcher) -> None:
    kinds = [type(r) for r in matcher.rules]
    order = [SymptomRule, OutrankRule, LinkRule, PathRule, KitRule, SafetyRule, OffTopicRule]
    assert kinds == order


@pytest.mark.parametrize(
    "question", ["MY KNEE IS KILLING ME", "both knees creaky and sore", "achy knees every morning"]
)
def test_symptom_rule_turns_a_painful_area_into_its_symptom(
    matcher: Matcher, question: str
) -> None:
    rule = rule_of(matcher, SymptomRule)
    before, after = run(matcher, rule, question)
    assert before["knee"] > before.get("knee-pain", 0.0)
    assert after["knee-pain"] == before["knee"] + rule.bonus
    assert after["knee"] == before["knee"] - rule.bonus


def test_symptom_rule_leaves_an_area_without_pain_alone(matcher: Matcher) -> None:
    before, after = run(matcher, rule_of(matcher, SymptomRule), "how do i massage my knee")
    assert after == before


def test_symptom_rule_reach_is_tuning(matcher: Matcher) -> None:
    near = replace(rule_of(matcher, SymptomRule), reach=2)
    before, after = run(matcher, near, "my knee is sore")
    assert after != before
    before, after = run(matcher, near, "my knee is really very sore")
    assert after == before


def test_outrank_rule_answers_the_narrower_question(matcher: Matcher) -> None:
    rule = rule_of(matcher, OutrankRule)
    before, after = run(matcher, rule, "can i massage every day")
    assert after["periodization"] == before["myofascial-compression"] + rule.bonus
    assert after["periodization"] > before["periodization"]


def test_outrank_rule_leaves_the_broad_question_alone(matcher: Matcher) -> None:
    before, after = run(matcher, rule_of(matcher, OutrankRule), "what is massage")
    assert after == before


@pytest.mark.parametrize(
    "question", ["can my feet cause hip pain", "why does the relief never last"]
)
def test_link_rule_points_cause_questions_to_the_chain(matcher: Matcher, question: str) -> None:
    rule = rule_of(matcher, LinkRule)
    _, after = run(matcher, rule, question)
    assert best(after) == rule.topic == "biomechanical-chain"


@pytest.mark.parametrize("question", ["sciatica from my piriformis", "the root of the word"])
def test_link_rule_leaves_neighbours_and_other_roots_alone(matcher: Matcher, question: str) -> None:
    before, after = run(matcher, rule_of(matcher, LinkRule), question)
    assert after == before


def test_path_rule_names_the_path_pain_runs_along(matcher: Matcher) -> None:
    rule = rule_of(matcher, PathRule)
    before, after = run(matcher, rule, "pain that shoots from my back into my leg")
    assert after["sciatic-nerve"] == max(before.values()) + rule.bonus
    assert best(after) == "sciatic-nerve"


def test_path_rule_leaves_two_painful_places_alone(matcher: Matcher) -> None:
    before, after = run(matcher, rule_of(matcher, PathRule), "pain in my back and my leg")
    assert after == before


def test_kit_rule_answers_which_kit_with_the_kit(matcher: Matcher) -> None:
    rule = rule_of(matcher, KitRule)
    before, after = run(matcher, rule, "hip kit")
    assert after["hip-lower-back-kit"] == max(before.values()) + rule.bonus


def test_kit_rule_leaves_a_question_without_a_kit_alone(matcher: Matcher) -> None:
    before, after = run(matcher, rule_of(matcher, KitRule), "hip pain")
    assert after == before


def test_safety_rule_puts_a_named_condition_first(matcher: Matcher) -> None:
    rule = rule_of(matcher, SafetyRule)
    question = "take 75mg aspirin every day, is the massage ball ok on my lower back"
    before, after = run(matcher, rule, question)
    assert best(before) == "tp-massage-ball"
    assert best(after) == "safety-blood-thinners"
    assert after["safety-blood-thinners"] == max(before.values()) + rule.margin


def test_safety_rule_leaves_a_question_without_a_condition_alone(matcher: Matcher) -> None:
    question = "is the massage ball ok on my lower back"
    before, after = run(matcher, rule_of(matcher, SafetyRule), question)
    assert after == before


def test_off_topic_rule_shrinks_a_question_about_something_else(matcher: Matcher) -> None:
    rule = rule_of(matcher, OffTopicRule)
    before, after = run(matcher, rule, "calf born on the farm")
    assert before and after == {t: score * rule.factor for t, score in before.items()}


def test_off_topic_rule_leaves_the_askers_own_body_alone(matcher: Matcher) -> None:
    before, after = run(matcher, rule_of(matcher, OffTopicRule), "my calves ache after farm work")
    assert before and after == before


# --- the answers the matcher gave before its passes became rules ------------------------------


def recorded_answers() -> list[tuple[str, str, bool, float]]:
    """(question, topic or NONE, ambiguous, score) for every line of the recorded answers."""
    rows = []
    for line in (DATA / "matcher_answers.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            topic, ambiguous, score, question = line.split("\t", 3)
            rows.append((question, topic, ambiguous == "1", float(score)))
    return rows


def data_file_questions(path: Path) -> list[str]:
    """The questions of a data file: the last field, or the second of the old red-flag answers,
    which ends with the reason for a change."""
    field = 1 if path.name == "red_flags_old_answers.tsv" else -1
    lines = path.read_text(encoding="utf-8").splitlines()
    questions = [line.split("\t")[field] for line in lines if line and not line.startswith("#")]
    return [question for question in questions if question.strip()]


def test_answers_cover_every_data_file_question() -> None:
    recorded = {question for question, *_ in recorded_answers()}
    paths = [p for p in sorted(DATA.glob("*.tsv")) if p.name != "matcher_answers.tsv"]
    missing = [q for path in paths for q in data_file_questions(path) if q not in recorded]
    assert missing == []


def test_the_rules_give_the_answers_recorded_before_them(matcher: Matcher) -> None:
    changed = []
    for question, topic, ambiguous, score in recorded_answers():
        result = matcher.match(question)
        now = (result.topic or "NONE", result.ambiguous, round(result.score, 1))
        if now != (topic, ambiguous, score):
            changed.append((question, (topic, ambiguous, score), now))
    assert changed == []
