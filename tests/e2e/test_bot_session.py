"""The guided self-massage session over Telegram, crashes and double taps included."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import BotLauncher, BotProcess
from .fake_bot_api import QUERY_TOO_OLD, BotReply, FakeBotApi
from .flows import onboard, query, stop_cleanly
from .user import SimulatedUser

DONE = "✅ Done"
STEP_HEADING = re.compile(r"^Step (\d+) of (\d+):")
BOTH_KITS = ("Hip & Lower Back Kit", "Foot & Lower Leg Kit")


def bot_env(tmp_path: Path) -> dict[str, str]:
    # Timers fire 100 times sooner: a 45-second side takes under half a second.
    return {"BACKCHAIN_FILES_DIR": str(tmp_path / "files"), "BACKCHAIN_TIMER_SCALE": "0.01"}


def step_number(reply: BotReply) -> tuple[int, int]:
    """(step, of how many) from a step message."""
    match = STEP_HEADING.match(reply.text or "")
    assert match, f"not a step: {reply.text!r}"
    return int(match[1]), int(match[2])


async def start_session(user: SimulatedUser, pain: str) -> BotReply:
    """/session and a pain score; the first step's message."""
    await user.send("/session")
    intro = await user.next_reply()
    assert "Today's session" in (intro.text or "")
    question = await user.next_reply()
    assert "how much pain" in (question.text or "")
    assert question.button_labels == [str(n) for n in range(11)]
    await user.press(pain)
    noted = await user.next_reply()
    assert noted.is_edit and noted.message_id == question.message_id and not noted.button_labels
    return await user.next_reply()


async def press_done_until_pain_after(user: SimulatedUser, step: BotReply) -> list[int]:
    """Press "Done" on each step from `step` on; the step numbers seen. Each answered step is
    closed in place: its message loses its buttons."""
    seen = []
    while DONE in step.button_labels:
        seen.append(step_number(step)[0])
        await user.press(DONE)
        closed = await user.next_reply()
        assert closed.is_edit and closed.message_id == step.message_id
        assert not closed.button_labels
        step = await user.next_reply()
    assert "All steps done" in (step.text or "")
    return seen


async def test_whole_session_with_timer_ends_in_summary(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard(user, *BOTH_KITS)

    first = await start_session(user, "6")
    number, total = step_number(first)
    assert number == 1 and total >= 4
    assert "⏱ Start timer" in first.button_labels

    await user.press("Start timer")
    # One message, edited in place: the countdown, the switch of sides, then time is up.
    edits = []
    while True:
        reply = await user.next_reply(timeout=5)
        if not reply.is_edit:
            break
        assert reply.message_id == first.message_id
        edits.append(reply.text or "")
    assert "First side" in edits[0] or "s left" in edits[0]
    if "each side" in (first.text or ""):
        assert any("Switch sides now" in text for text in edits)
    assert "time is up" in edits[-1]
    second = reply
    assert step_number(second) == (2, total)

    seen = await press_done_until_pain_after(user, second)
    assert seen == list(range(2, total + 1))
    await user.press("2")
    assert (await user.next_reply()).is_edit  # the pain question, closed
    summary = (await user.next_reply()).text or ""
    assert summary.startswith("Session complete")
    assert f"Steps done: {total} of {total}" in summary
    assert "Pain before: 6/10, after: 2/10." in summary
    assert await user.replies_until_idle(quiet=0.3) == []

    await stop_cleanly(bot)
    events = query(
        bot.db_path,
        "SELECT step_index, outcome FROM step_events WHERE user_id = ? ORDER BY id",
        (1001,),
    )
    assert events == [(index, "done") for index in range(total)]
    session = query(bot.db_path, "SELECT status, pain_before, pain_after FROM sessions")
    assert session == [("finished", 6, 2)]


async def test_double_tap_on_done_logs_the_step_once(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard(user, *BOTH_KITS)
    first = await start_session(user, "4")
    done = first.button(DONE).callback_data
    assert done is not None

    # Two taps before the bot has answered the first, as an impatient thumb does.
    taps = [await user.press_data(done, first.message_id) for _ in range(2)]
    answers = await user.replies_until_idle(quiet=0.5, at_least=2)
    assert [step_number(reply)[0] for reply in answers if not reply.is_edit] == [2]
    await fake_api.wait_for(lambda: all(fake_api.callback_answer(tap) for tap in taps))

    await stop_cleanly(bot)
    events = query(bot.db_path, "SELECT step_index FROM step_events WHERE user_id = ?", (1001,))
    assert events == [(0,)]
    assert query(bot.db_path, "SELECT current_step FROM sessions") == [(1,)]


async def test_session_survives_sigkill_and_resumes_at_the_next_step(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await onboard(user, *BOTH_KITS)
    step = await start_session(user, "5")
    _, total = step_number(step)
    for _ in range(2):
        await user.press(DONE)
        assert (await user.next_reply()).is_edit
        step = await user.next_reply()
    assert step_number(step)[0] == 3

    assert await bot.kill() < 0
    await bot.start()
    # Killed before the last press was marked handled, the press comes back from the inbox:
    # already counted, it shows the step in hand again (its first reply may have been lost).
    replayed = await user.replies_until_idle(quiet=1.0)
    assert all(step_number(reply) == (3, total) for reply in replayed)
    await user.send("/session")
    resume = await user.next_reply()
    assert "unfinished session" in (resume.text or "")
    await user.press("Resume")
    step = await user.next_reply()
    assert step_number(step) == (3, total)

    seen = await press_done_until_pain_after(user, step)
    assert seen == list(range(3, total + 1))
    await user.press("4")
    assert (await user.next_reply()).is_edit
    assert f"Steps done: {total} of {total}" in ((await user.next_reply()).text or "")

    await stop_cleanly(bot)
    indexes = query(
        bot.db_path,
        "SELECT step_index FROM step_events WHERE user_id = ? ORDER BY step_index",
        (1001,),
    )
    assert indexes == [(index,) for index in range(total)]
    sessions = query(
        bot.db_path, "SELECT status, current_step, pain_before, pain_after FROM sessions"
    )
    assert sessions == [("finished", total, 5, 4)]


async def press_done_while_down(bot: BotProcess, user: SimulatedUser) -> str:
    """Stop the bot mid-session, then press "Done" on step 1 while nothing polls."""
    await onboard(user, *BOTH_KITS)
    await start_session(user, "3")
    await stop_cleanly(bot)
    return await user.press(DONE)


async def test_press_made_while_the_bot_was_down_counts_after_restart(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    pressed = await press_done_while_down(bot, user)

    await bot.start()
    assert (await user.next_reply()).is_edit
    assert step_number(await user.next_reply())[0] == 2
    await fake_api.wait_for(lambda: fake_api.callback_answer(pressed))
    await stop_cleanly(bot)
    assert query(bot.db_path, "SELECT step_index FROM step_events") == [(0,)]


async def test_press_too_old_to_answer_still_counts_after_restart(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await press_done_while_down(bot, user)
    # Telegram refuses to answer a callback query this old; the press itself still happened.
    fake_api.inject_error("answerCallbackQuery", 400, QUERY_TOO_OLD)

    await bot.start()
    assert (await user.next_reply()).is_edit
    reply = await user.next_reply()
    assert (reply.text or "").startswith("Step 2 of"), reply.text
    await stop_cleanly(bot)
    assert query(bot.db_path, "SELECT step_index FROM step_events") == [(0,)]
