"""Safety over Telegram: the health screen shapes the session, a crisis gets helplines alone,
and a red flag holds the routine back until the person says a doctor has checked them."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import BotLauncher
from .fake_bot_api import FakeBotApi
from .flows import query, stop_cleanly
from .user import SimulatedUser

USER_ID = 1001
BOTH_KITS = ("Hip & Lower Back Kit", "Foot & Lower Leg Kit")
DONE = "✅ Done"
CALF_STEPS = {"soleus-footballer", "calf-sides-tp-balls", "shin-tp-ball"}
FACE_DOWN = ("face down", "on your front", "lie prone")


def bot_env(tmp_path: Path) -> dict[str, str]:
    return {"BACKCHAIN_FILES_DIR": str(tmp_path / "files"), "BACKCHAIN_TIMER_SCALE": "0.01"}


async def onboard_with(user: SimulatedUser, condition_label: str) -> None:
    """Both kits, one condition ticked on the health screen, hip focus, activities skipped."""
    await user.send("/start")
    await user.replies_until_idle(at_least=2)
    for kit in BOTH_KITS:
        await user.press(kit)
        await user.next_reply()
    await user.press("Done")
    screen = await user.next_reply()
    assert "None of these" in screen.button_labels
    label = next(b for b in screen.button_labels if condition_label in b)
    await user.press(label)
    edited = await user.next_reply()
    assert "✅ " + label.removeprefix("▫️ ") in edited.button_labels
    await user.press("Done")
    summary = await user.next_reply()
    assert "How I adjust your routine" in (summary.text or "")
    await user.next_reply()  # where does it bother you most?
    await user.press("Hip")
    assert "saved" in ((await user.next_reply()).text or "")
    await user.next_reply()  # the optional activities question
    await user.press("Skip")
    await user.next_reply()


async def whole_session(user: SimulatedUser) -> tuple[str, list[str]]:
    """/session at pain 5, Done on every step; the intro and every step's text."""
    await user.send("/session")
    intro = (await user.next_reply()).text or ""
    assert "Today's session" in intro
    await user.next_reply()  # the pain question
    await user.press("5")
    await user.next_reply()  # the pain question, closed in place
    steps = []
    step = await user.next_reply()
    while DONE in step.button_labels:
        steps.append(step.text or "")
        await user.press(DONE)
        await user.next_reply()  # the step, closed in place
        step = await user.next_reply()
    assert steps
    return intro, steps


def planned_steps(db_path: Path) -> set[str]:
    rows = query(db_path, "SELECT plan FROM sessions WHERE user_id = ?", (USER_ID,))
    return {step["step_id"] for (plan,) in rows for step in json.loads(plan)["steps"]}


async def test_a_clot_history_never_gets_a_calf_step(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard_with(user, "blood clot")
    intro, steps = await whole_session(user)
    assert "Because you've had a blood clot" in intro
    assert not planned_steps(bot.db_path) & CALF_STEPS
    for text in steps:
        assert "Soleus" not in text and "calf" not in text.split("\n")[0].lower()
    await stop_cleanly(bot)


async def test_a_pregnant_person_never_gets_a_face_down_step(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard_with(user, "Pregnant")
    intro, steps = await whole_session(user)
    assert "Because you're pregnant" in intro
    planned = planned_steps(bot.db_path)
    assert planned and not planned & (CALF_STEPS | {"psoas-tp-ball"})
    for text in steps:
        position = next(line for line in text.split("\n") if line.startswith("📍"))
        assert not any(words in position.lower() for words in FACE_DOWN), text
    rows = query(bot.db_path, "SELECT plan FROM sessions WHERE user_id = ?", (USER_ID,))
    for (plan,) in rows:
        for step in json.loads(plan)["steps"]:
            assert not any(words in step["position"].lower() for words in FACE_DOWN)
    await stop_cleanly(bot)


async def test_a_condition_named_in_a_question_is_offered_not_stored(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await user.send("I take apixaban, is the massage ok")
    replies = await user.replies_until_idle(at_least=2)
    assert "Shall I adjust your routine" in (replies[-1].text or "")
    assert query(bot.db_path, "SELECT COUNT(*) FROM health_conditions") == [(0,)]
    await user.press("Yes, adjust it")
    await user.next_reply()
    rows = query(bot.db_path, "SELECT condition FROM health_conditions WHERE user_id = ?", (1001,))
    assert rows == [("blood-thinners",)]
    await stop_cleanly(bot)


async def test_a_crisis_gets_helplines_and_no_menu(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    for text in ("I want to kill myself because of the pain", "thinking of ending it all"):
        await user.send(text)
        replies = await user.replies_until_idle(at_least=1)
        assert len(replies) == 1
        reply = replies[0].text or ""
        assert "988" in reply and "116 123" in reply and "findahelpline.com" in reply
        assert replies[0].button_labels == []  # no topics, no routine
    levels = query(bot.db_path, "SELECT level FROM red_flag_events WHERE user_id = ?", (1001,))
    assert levels == [("crisis",), ("crisis",)]
    await stop_cleanly(bot)


async def test_session_after_a_red_flag_asks_about_a_doctor_first(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await user.send("my calf is swollen, red and warm")
    advice = (await user.next_reply()).text or ""
    assert "do not massage" in advice.lower() or "don't massage" in advice.lower()
    await user.send("/session")
    question = await user.next_reply()
    assert "has a doctor" in (question.text or "").lower()
    assert "Today's session" not in (question.text or "")
    assert query(bot.db_path, "SELECT COUNT(*) FROM sessions") == [(0,)]
    await user.press("Not yet")
    assert "doctor" in ((await user.next_reply()).text or "").lower()
    assert query(bot.db_path, "SELECT COUNT(*) FROM sessions") == [(0,)]
    await stop_cleanly(bot)
