"""The routine over days and weeks: reminders against the plan, the weekly summary, outcome
scores, gentler steps, pain guards and typed pain scores."""

from __future__ import annotations

import pytest
from backchain.bot.chat.reminders import reminder_replies
from backchain.bot.chat.services import Services
from backchain.bot.chat.session import parse_pain

from tests.chat.test_conversation import ALICE, Chat, finish_session, only, run_steps
from tests.conftest import Clock

KIT = ("Hip & Lower Back Kit", "Foot & Lower Leg Kit")


@pytest.fixture
def alice(services: Services) -> Chat:
    return Chat(services, ALICE)


def set_reminder(chat: Chat, rest_note: bool, summary_day: str | None) -> None:
    chat.say("/remind")
    chat.say("19:00")
    chat.press("A short note" if rest_note else "Stay quiet")
    chat.press(summary_day or "No, thanks")


def reminder_texts(services: Services) -> list[str]:
    return [r.text for r in reminder_replies(services, services.users.get(ALICE))]


@pytest.mark.parametrize("rest_note", [False, True])
def test_two_weeks_of_reminders_follow_the_plan(
    alice: Chat, services: Services, clock: Clock, rest_note: bool
) -> None:
    alice.onboard(*KIT)
    set_reminder(alice, rest_note, None)
    nudged, rested, sessions = [], [], []
    for day in range(14):
        texts = reminder_texts(services)
        if any("Time for today's session" in t for t in texts):
            nudged.append(day)
            finish_session(alice, "4", "3")
            sessions.append(day)
        else:
            rested.append(day)
            if rest_note:
                assert texts and "Rest day" in texts[0]
            else:
                assert texts == []  # a planned rest day is quiet
            # /session agrees that today is a rest day.
            assert "next session was planned" in alice.say("/session").replies[0].text.lower()
            unanswered = services.sessions.unfinished(ALICE)
            assert unanswered is not None  # left at its pain question, then let go
            services.sessions.abandon(unanswered.id, ALICE, clock())
        clock.advance(days=1)
    # Release: three a week, at least two days apart.
    # Release: Monday, Wednesday, Friday, two days apart, for two weeks; after its sixth session
    # the program moves on to Restore, four a week one day apart, so Saturday is a session day.
    assert sessions == [0, 2, 4, 7, 9, 11, 12]
    assert rested == [1, 3, 5, 6, 8, 10, 13]


def test_weekly_summary_comes_on_the_chosen_day(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    set_reminder(alice, False, "Sun")  # clock starts on Monday 2 March 2026
    finish_session(alice, "5", "4")
    for _ in range(6):
        clock.advance(days=1)
        texts = reminder_texts(services)
        assert not any("Your week" in t for t in texts) or clock().weekday() == 6
    assert clock().weekday() == 6
    texts = reminder_texts(services)
    assert "Your week" in texts[0]
    assert "1 session in the last seven days (plan: 3 a week)" in texts[0]
    assert "What changed" in texts[0] and "Next week" in texts[0]


def test_psfs_at_onboarding_weekly_checkin_and_progress(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.say("/start")
    alice.press("Hip & Lower Back Kit")
    alice.press("Done")
    alice.press("None of these")
    alice.press("Hip")
    assert "three everyday things" in alice.texts()
    alice.press("Name an activity")
    alice.say("tie my shoes")
    alice.press("4")
    alice.press("Name an activity")
    alice.say("sit through a meeting")
    alice.press("6")
    alice.press("Done")
    activities = services.outcomes.activities(ALICE)
    assert [a.text for a in activities] == ["tie my shoes", "sit through a meeting"]
    finish_session(alice, "6", "5")
    clock.advance(days=7)
    services.routine_settings.save(ALICE, services.routine_settings.get(ALICE))
    alice.press_data("oc:start")
    assert "tie my shoes" in alice.texts()
    for score in ("6", "7", "5", "4", "4"):  # two activities, then the three PEG items
        alice.press(score)
    assert "Thanks, saved" in alice.texts()
    scores = services.outcomes.scores(ALICE)
    assert [(s.scale, s.item, s.score) for s in scores][-5:] == [
        ("psfs", "1", 6),
        ("psfs", "2", 7),
        ("peg", "pain", 5),
        ("peg", "enjoyment", 4),
        ("peg", "activity", 4),
    ]
    reply = only(alice.say("/progress"))
    assert "5.0 at first, 6.5 now" in reply.text  # PSFS average
    assert "PEG" in reply.text and reply.image is not None


def test_psfs_can_be_skipped_and_a_question_is_answered(alice: Chat, services: Services) -> None:
    alice.say("/start")
    alice.press("Hip & Lower Back Kit")
    alice.press("Done")
    alice.press("None of these")
    alice.press("Hip")
    reply = only(alice.say("what is the psoas"))
    assert "psoas" in reply.text.lower()
    assert services.outcomes.activities(ALICE) == []


def test_too_painful_offers_a_gentler_way_then_leaves_the_area(
    alice: Chat, services: Services
) -> None:
    alice.onboard(*KIT, focus="General")  # the calf sides come right after the soleus
    alice.say("/session")
    alice.press("3")
    assert "Soleus" in alice.texts()
    alice.press("Too painful")
    assert "gentler" in alice.texts().lower() and "weight of one leg" in alice.texts()
    alice.press("Done the gentler way")
    # The next step works another area: not the inner and outer calf.
    assert "Inner and outer calf" not in alice.texts()
    assert "Step 3 of" in alice.texts()
    run_steps(alice)
    alice.press("3")
    events = services.sessions.events(ALICE)
    assert [e.step_index for e in events] == list(range(len(events)))
    assert [e.outcome for e in events[:2]] == ["too-painful", "skipped"]


def test_pain_of_eight_or_more_means_no_full_session(alice: Chat, services: Services) -> None:
    alice.onboard(*KIT)
    alice.say("/session")
    alice.press("9")
    text = alice.texts()
    assert "too much for a full session today" in text and "GP or physiotherapist" in text
    assert services.sessions.unfinished(ALICE) is None
    assert services.sessions.events(ALICE) == []


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("6", 6),
        ("6/10", 6),
        ("6 / 10", 6),
        ("about a 6", 6),
        ("10", 10),
        ("0", 0),
        ("7 out of 10", 7),
    ],
)
def test_typed_pain_scores(text: str, score: int) -> None:
    assert parse_pain(text) == score


@pytest.mark.parametrize("text", ["11", "6 hours", "my hip", "-3", "66"])
def test_other_text_is_not_a_pain_score(text: str) -> None:
    assert parse_pain(text) is None


def test_pain_typed_during_a_session(alice: Chat, services: Services) -> None:
    alice.onboard(*KIT)
    alice.say("/session")
    alice.say("about a 5")
    assert "Step 1 of" in alice.texts()
    run_steps(alice)
    alice.say("3/10")
    assert "Session complete" in alice.texts()
    (record,) = services.sessions.history(ALICE)
    assert (record.pain_before, record.pain_after) == (5, 3)


def test_first_session_introduces_the_phase(alice: Chat, clock: Clock) -> None:
    alice.onboard(*KIT)
    intro = alice.say("/session").replies[0].text
    assert "Release, weeks 1-2" in intro and "Next comes Restore" in intro
    alice.press("4")
    run_steps(alice)
    alice.press("3")
    clock.advance(days=2)
    assert "Release, weeks 1-2" not in alice.say("/session").replies[0].text


def test_summary_tells_real_from_planned_time(alice: Chat, clock: Clock) -> None:
    alice.onboard(*KIT)
    alice.say("/session")
    alice.press("4")
    while any("Done" in b.label for r in alice.last.replies for b in r.button_list()):
        clock.advance(seconds=2)
        alice.press("Done")
    clock.advance(seconds=2)
    alice.press("3")
    summary = alice.texts()
    assert "Real time on the steps: 12 seconds" in summary  # six quick taps
    assert "the plan asked for" in summary and "minutes" in summary


def test_forget_removes_every_file_of_the_user(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    finish_session(alice, "5", "4")
    alice.say("/progress")
    alice.say("/export")
    folder = services.files_dir / str(ALICE)
    assert any(folder.rglob("*.png")) and any(folder.rglob("*.zip"))
    alice.say("/forget")
    alice.press("Yes")
    assert not folder.exists()
    assert services.outcomes.scores(ALICE) == []


def test_pain_rising_after_a_session_lowers_the_dose_and_suggests_a_check(
    alice: Chat, clock: Clock
) -> None:
    alice.onboard(*KIT)
    alice.say("/session")
    alice.press("2")
    run_steps(alice)
    alice.press("6")
    assert "check with a doctor or physiotherapist" in alice.texts()
    clock.advance(days=2)
    assert "a little shorter" in alice.say("/session").replies[0].text


def test_pain_rising_over_three_sessions_is_named(alice: Chat, clock: Clock) -> None:
    alice.onboard(*KIT)
    for before in ("3", "4", "5"):
        finish_session(alice, before, before)
        clock.advance(days=2)
    assert "gone up three times in a row" in alice.texts()


def test_after_a_red_flag_the_routine_waits_for_a_doctors_check(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    set_reminder(alice, False, None)
    services.questions.record_red_flag(ALICE, "urgent", "saddle-numbness", clock())
    clock.advance(days=1, microseconds=250_000)  # real clocks have microseconds
    gate = only(alice.say("/session"))
    assert "has a doctor or physiotherapist checked you" in gate.text
    assert any("checked you since" in text for text in reminder_texts(services))
    alice.press("Not yet")
    assert "see a doctor first" in alice.texts()
    assert services.sessions.unfinished(ALICE) is None
    alice.say("/session")
    alice.press("A doctor has checked me")
    assert "Before we start" in alice.texts()  # the routine, only after that answer


def test_the_red_flag_gate_ends_after_seven_days(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    services.questions.record_red_flag(ALICE, "urgent", "saddle-numbness", clock())
    clock.advance(days=8)
    assert "Before we start" in alice.say("/session").replies[-1].text


def test_a_crisis_warning_does_not_ask_about_a_doctors_check(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    services.questions.record_red_flag(ALICE, "crisis", "crisis-words", clock())
    assert "Before we start" in alice.say("/session").replies[-1].text


def test_a_check_in_the_same_second_as_the_warning_counts(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    clock.advance(microseconds=500_000)
    services.questions.record_red_flag(ALICE, "urgent", "saddle-numbness", clock())
    alice.say("/session")
    clock.advance(microseconds=200_000)
    alice.press("A doctor has checked me")
    assert "Before we start" in alice.texts()


def checkin_offered(chat: Chat) -> bool:
    return any("Rate this week" in b.label for r in chat.last.replies for b in r.button_list())


def test_the_weekly_check_rides_on_the_session_summary_when_due(
    alice: Chat, services: Services, clock: Clock
) -> None:
    alice.onboard(*KIT)
    finish_session(alice, "5", "4")
    assert checkin_offered(alice)  # a first PEG as a baseline
    alice.press("Rate this week")
    for score in ("6", "5", "5"):
        alice.press(score)
    assert [s.scale for s in services.outcomes.scores(ALICE)] == ["peg"] * 3
    clock.advance(days=2)
    finish_session(alice, "5", "4")
    assert not checkin_offered(alice)
    clock.advance(days=5)
    finish_session(alice, "4", "3")
    assert checkin_offered(alice)
