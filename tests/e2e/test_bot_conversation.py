"""Backchain as a Telegram user meets it: the real `run` process against the fake Bot API."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO_ROOT, BotLauncher, BotProcess
from .fake_bot_api import BotReply, FakeBotApi
from .flows import onboard, query, stop_cleanly
from .user import SimulatedUser

EXPECTED_COMMANDS = [
    "start",
    "help",
    "topics",
    "session",
    "progress",
    "remind",
    "timezone",
    "reminders",
    "profile",
    "health",
    "export",
    "privacy",
    "forget",
]
EXPIRED = "This button has expired"
TEXT_ONLY = "I can only read text"
# Phrasings the matcher has judged close between two topics; content tuning may move any one.
AMBIGUOUS_CANDIDATES = (
    "dull pain deep in my hip and buttock",
    "pinched nerve in my back",
    "pinched nerve in my butt",
    "quads pulling on my kneecap",
    "footballer vs tp ball",
    "pain right above my butt in the middle of my back",
)
FORGED_DATA = ("s:done:99999:0", "hack:me", "t:show:no-such-topic", "r:time:2599", "x" * 64, ":")
OUT_OF_SCOPE = "how do I cook pasta"
RED_FLAG = "I can't control my bladder and my back hurts"
# Session timers 50 times sooner: a 45-second side fires after about a second.
TIMER_ENV = {"BACKCHAIN_TIMER_SCALE": "0.02"}
TIMER_QUIET = 2.5
# Every table holding a user's rows, and the column naming the user.
USER_TABLES = {
    "users": "id",
    "conversation_state": "user_id",
    "questions": "user_id",
    "unanswered": "user_id",
    "red_flag_events": "user_id",
    "sessions": "user_id",
    "step_events": "user_id",
    "reminders": "user_id",
}


# --- driving the bot ------------------------------------------------------------------------------


def bot_env(tmp_path: Path) -> dict[str, str]:
    return {"BACKCHAIN_FILES_DIR": str(tmp_path / "files")}


async def start_bot(bot_process: BotLauncher, tmp_path: Path, **kwargs: Any) -> BotProcess:
    kwargs.setdefault("env", bot_env(tmp_path))
    return await bot_process(**kwargs)


def run_cli(*args: str, stdin: str = "") -> str:
    """`backchain <args>` in a child process; its standard output."""
    return subprocess.run(
        [sys.executable, "-m", "backchain", *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


async def replies(user: SimulatedUser, count: int) -> list[BotReply]:
    return [await user.next_reply() for _ in range(count)]


async def text_of_next(user: SimulatedUser) -> str:
    return (await user.next_reply()).text or ""


async def finish_session(user: SimulatedUser, before: str, after: str) -> str:
    """/session, every step "Done", pain scores; the summary's text."""
    await user.send("/session")
    await replies(user, 2)
    await user.press(before)
    await user.next_reply()  # the pain question, closed in place
    step = await user.next_reply()
    while "✅ Done" in step.button_labels:
        await user.press("✅ Done")
        await user.next_reply()  # the step, closed in place
        step = await user.next_reply()
    await user.press(after)
    await user.next_reply()
    return await text_of_next(user)


async def start_session(user: SimulatedUser, *, onboarded: bool = False) -> None:
    """Reach the first step of a session, onboarding with a kit first unless done already."""
    if not onboarded:
        await onboard(user, "Hip & Lower Back Kit")
    await user.send("/session")
    await replies(user, 2)
    await user.press("5")
    await user.next_reply()  # the pain question, closed in place
    await user.next_reply()  # the first step


async def start_timer(user: SimulatedUser) -> None:
    """The timer runs inside the step's own message, edited in place."""
    await user.press("Start timer")
    running = await user.next_reply()
    assert running.action == "edited" and "⏱ First side" in (running.text or "")


async def ask_to_forget(user: SimulatedUser) -> None:
    await user.send("/forget")
    await user.next_reply()


async def confirm_forget(user: SimulatedUser) -> None:
    await user.press("Yes, delete everything")
    assert "deleted everything" in await text_of_next(user)


def ask_json(questions: tuple[str, ...]) -> list[dict[str, Any]]:
    output = run_cli("ask", "--json", stdin="\n".join(questions) + "\n")
    return [json.loads(line) for line in output.splitlines()]


async def all_answered(fake_api: FakeBotApi, query_ids: list[str]) -> None:
    await fake_api.wait_for(
        lambda: all(fake_api.callback_answer(q) for q in query_ids),
        what="every callback query answered",
    )


# --- start-up and onboarding ---------------------------------------------------------------------


async def test_command_menu_is_registered_at_start(
    bot_process: BotLauncher, fake_api: FakeBotApi, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)

    assert [c["command"] for c in fake_api.commands] == EXPECTED_COMMANDS
    assert all(c["description"].strip() for c in fake_api.commands)
    assert fake_api.calls_to("setMyCommands")[0].ok
    await stop_cleanly(bot)


async def test_start_onboards_tools_and_focus(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)

    await user.send("/start")
    welcome, tools = await replies(user, 2)
    assert "not a diagnosis" in (welcome.text or "")
    assert welcome.buttons == []
    assert tools.button_labels[-1] == "Done"
    assert any("Footballer" in label for label in tools.button_labels)
    assert not any(label.startswith("✅") for label in tools.button_labels)

    query_id = await user.press("Hip & Lower Back Kit")
    toggled = await user.next_reply()
    assert (toggled.action, toggled.message_id) == ("edited", tools.message_id)
    assert "✅ Hip & Lower Back Kit" in toggled.button_labels
    await all_answered(fake_api, [query_id])

    await user.press("Quadballer")
    assert "✅ The Quadballer" in (await user.next_reply()).button_labels
    await user.press("Quadballer")
    untoggled = await user.next_reply()
    assert "✅ The Quadballer" not in untoggled.button_labels
    assert "✅ Hip & Lower Back Kit" in untoggled.button_labels

    await user.press("Done")
    screen = await user.next_reply()
    assert "keep the routine safe" in (screen.text or "")
    assert "None of these" in screen.button_labels
    await user.press("None of these")
    assert "Nothing on the list applies" in await text_of_next(user)
    focus = await user.next_reply()
    assert focus.text == "Where does it bother you most?"
    assert "Lower back" in focus.button_labels
    await user.press("Lower back")
    saved = await text_of_next(user)
    assert "saved" in saved and "Hip & Lower Back Kit" in saved and "Lower back" in saved

    await stop_cleanly(bot)
    row = query(
        bot.db_path, "SELECT owned_tools, focus, onboarded FROM users WHERE id = ?", (1001,)
    )
    assert row == [('["hip-lower-back-kit"]', "lower-back", 1)]


# --- questions ------------------------------------------------------------------------------------


async def test_question_gets_html_topic_and_related_button_opens_it(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)

    await user.send("why does my hip hurt")
    answer = await user.next_reply()
    assert answer.parse_mode == "HTML"
    assert (answer.sent_text or "").startswith("<b>Why does my hip hurt?</b>")
    assert (answer.text or "").startswith("Why does my hip hurt?")
    assert len(answer.text or "") <= 450, "a first answer is phone-sized"
    more, *related = answer.buttons
    assert more[0].callback_data == "t:more:hip-pain"
    assert related and all(len(row) == 1 for row in related)
    assert all((b.callback_data or "").startswith("t:show:") for row in related for b in row)

    first = related[0][0]
    query_id = await user.press(first.text)
    opened = await user.next_reply()
    assert opened.action == "sent"
    assert (opened.text or "").startswith(first.text)
    await all_answered(fake_api, [query_id])
    await stop_cleanly(bot)


async def test_follow_up_uses_the_thread_and_tell_me_more_sends_the_card(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)

    await user.send("what is the piriformis")
    short = await user.next_reply()
    assert (short.text or "").startswith("Piriformis")
    await user.send("how long?")
    dose = await user.next_reply()
    assert "45 s in Release" in (dose.text or "")
    query_id = await user.press("Tell me more")
    card = await user.next_reply()
    assert len(card.text or "") > len(short.text or "")
    await all_answered(fake_api, [query_id])
    await stop_cleanly(bot)


async def test_ambiguous_question_offers_did_you_mean(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    verdicts = zip(AMBIGUOUS_CANDIDATES, ask_json(AMBIGUOUS_CANDIDATES), strict=True)
    ambiguous = [(q, v) for q, v in verdicts if v["ambiguous"]]
    if not ambiguous:
        pytest.skip("the matcher currently finds none of the candidate questions ambiguous")
    question, verdict = ambiguous[0]
    candidate_ids = list(dict.fromkeys(c["topic"] for c in verdict["candidates"]))[:3]
    bot = await start_bot(bot_process, tmp_path)

    await user.send(question)
    reply = await user.next_reply()
    assert "Did you mean" in (reply.text or "")
    pressed_data = [b.callback_data for row in reply.buttons for b in row]
    assert pressed_data == [f"t:show:{topic}" for topic in candidate_ids]

    chosen = reply.buttons[1][0]
    query_id = await user.press(chosen.text)
    assert (await text_of_next(user)).startswith(chosen.text)
    await all_answered(fake_api, [query_id])
    await stop_cleanly(bot)


async def test_out_of_scope_question_is_not_sure_and_reported(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)

    await user.send(OUT_OF_SCOPE)
    reply = await user.next_reply()
    assert "not sure" in (reply.text or "")
    topics = [b.callback_data for row in reply.buttons for b in row]
    assert "t:show:hip-pain" in topics and "t:show:lower-back" in topics

    await stop_cleanly(bot)
    report = run_cli("report", "unanswered", "--db", str(bot.db_path))
    assert OUT_OF_SCOPE in report
    assert "why does my hip hurt" not in report


async def test_red_flag_gets_emergency_advice_alone(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)
    await onboard(user, "Hip & Lower Back Kit")

    await user.send(RED_FLAG)
    advice = await user.replies_until_idle(quiet=0.4, at_least=1)
    assert len(advice) == 1
    assert (advice[0].text or "").startswith("⚠️ Please get medical help now")
    assert advice[0].buttons == []
    assert "emergency" in (advice[0].text or "")

    await stop_cleanly(bot)
    events = query(bot.db_path, "SELECT level FROM red_flag_events WHERE user_id = ?", (1001,))
    assert events == [("emergency",)]


# --- what is not text, and buttons nobody made ----------------------------------------------------


async def test_stickers_photos_and_other_media_ask_for_text(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)
    senders: list[Callable[[], Any]] = [
        user.send_sticker,
        lambda: user.send_photo(caption="my hip"),
        user.send_voice,
        user.send_location,
        user.send_document,
    ]

    for send in senders:
        await send()
        reply = await user.next_reply()
        assert (reply.text or "").startswith(TEXT_ONLY)
        assert reply.buttons == []
    await stop_cleanly(bot)


async def test_forged_buttons_expire_and_every_query_is_answered(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)
    await user.send("/help")
    await user.next_reply()

    query_ids = []
    for data in FORGED_DATA:
        query_ids.append(await user.press_data(data))
        assert (await text_of_next(user)).startswith(EXPIRED)
    # A press under a message the bot never sent arrives without that message.
    query_ids.append(await user.press_data("s:stop:1", message_id=9999))
    assert (await text_of_next(user)).startswith(EXPIRED)

    await all_answered(fake_api, query_ids)
    await stop_cleanly(bot)
    assert query(bot.db_path, "SELECT COUNT(*) FROM step_events") == [(0,)]


# --- privacy and isolation ------------------------------------------------------------------------


async def test_forget_deletes_every_row_of_that_user_only(
    bot_process: BotLauncher,
    user: SimulatedUser,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    other = make_user(1002, "Sam")
    bot = await start_bot(bot_process, tmp_path)
    await other.send("piriformis")
    await other.next_reply()
    await onboard(user, "Hip & Lower Back Kit")
    await start_session(user, onboarded=True)
    await user.press("✅ Done")
    await user.next_reply()
    # After the session: a red flag holds the next one back, so it comes last.
    for question in ("piriformis", OUT_OF_SCOPE, RED_FLAG):
        await user.send(question)
        await user.replies_until_idle(at_least=1)
    await user.send("/remind")
    await user.replies_until_idle(at_least=1)
    await user.press("07:00")
    await user.replies_until_idle(at_least=1)

    await user.send("/forget")
    confirm = await user.next_reply()
    assert "cannot be undone" in (confirm.text or "")
    await user.press("No")
    assert await text_of_next(user) == "Nothing was deleted."
    await ask_to_forget(user)
    await confirm_forget(user)

    await stop_cleanly(bot)
    for table, column in USER_TABLES.items():
        count = query(bot.db_path, f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (1001,))
        assert count == [(0,)], table
    assert query(bot.db_path, "SELECT text FROM questions WHERE user_id = ?", (1002,)) == [
        ("piriformis",)
    ]


async def test_two_users_interleaved_never_see_each_other(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    user: SimulatedUser,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    alex, sam = user, make_user(1002, "Sam")
    bot = await start_bot(bot_process, tmp_path)

    await alex.send("/start")
    await sam.send("/start")
    await replies(alex, 2)
    await replies(sam, 2)
    await alex.press("Hip & Lower Back Kit")
    await sam.press("Foot & Lower Leg Kit")
    assert "✅ Foot & Lower Leg Kit" not in (await alex.next_reply()).button_labels
    assert "✅ Hip & Lower Back Kit" not in (await sam.next_reply()).button_labels
    await sam.press("Done")
    await alex.press("Done")
    await alex.next_reply()  # the health screen
    await sam.next_reply()
    await alex.press("None of these")
    await sam.press("None of these")
    await replies(alex, 2)
    await replies(sam, 2)
    await alex.press("Hip")
    await sam.press("Knee")
    assert "Tools: Hip & Lower Back Kit. Focus: Hip." in await text_of_next(alex)
    assert "Tools: Foot & Lower Leg Kit. Focus: Knee." in await text_of_next(sam)
    for person in (alex, sam):  # the optional activities question
        await person.next_reply()
        await person.press("Skip")
        await person.next_reply()

    await alex.send("/session")
    await sam.send("why does my knee hurt")
    _, pain_question = await replies(alex, 2)
    assert (await text_of_next(sam)).startswith("Why does my knee hurt?")
    alex_pain = pain_question.button("5").callback_data
    assert alex_pain is not None
    sam_query = await sam.press_data(alex_pain)
    assert (await text_of_next(sam)).startswith(EXPIRED)
    await alex.press("5")
    assert (await text_of_next(alex)).startswith("Pain before: 5/10")  # closed in place
    assert (await text_of_next(alex)).startswith("Step 1 of")

    await all_answered(fake_api, [sam_query])
    assert alex.unread() == [] and sam.unread() == []
    alex_texts = " ".join(m.text or "" for m in alex.bot_messages())
    sam_texts = " ".join(m.text or "" for m in sam.bot_messages())
    assert "knee hurt" not in alex_texts and "Foot & Lower Leg Kit. Focus" not in alex_texts
    assert "Step 1" not in sam_texts and "how much pain" not in sam_texts
    sends = fake_api.calls_to("sendMessage") + fake_api.calls_to("editMessageText")
    assert {call.params["chat_id"] for call in sends} == {1001, 1002}

    await stop_cleanly(bot)
    profiles = query(bot.db_path, "SELECT id, owned_tools, focus FROM users ORDER BY id")
    assert profiles == [
        (1001, '["hip-lower-back-kit"]', "hip"),
        (1002, '["foot-lower-leg-kit"]', "knee"),
    ]
    sessions = query(bot.db_path, "SELECT user_id, pain_before, status FROM sessions")
    assert sessions == [(1001, 5, "active")]


async def test_forget_stops_the_users_running_timer(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path, env={**bot_env(tmp_path), **TIMER_ENV})
    await start_session(user)
    await ask_to_forget(user)

    await start_timer(user)
    await confirm_forget(user)
    assert await user.replies_until_idle(quiet=TIMER_QUIET) == []
    await stop_cleanly(bot)
    assert query(bot.db_path, "SELECT COUNT(*) FROM users") == [(0,)]


async def test_forget_leaves_another_users_timer_running(
    bot_process: BotLauncher,
    user: SimulatedUser,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    neighbour = make_user(int(f"{user.user_id}1"), "Kim")
    bot = await start_bot(bot_process, tmp_path, env={**bot_env(tmp_path), **TIMER_ENV})
    await start_session(neighbour)
    await ask_to_forget(user)

    await start_timer(neighbour)
    await confirm_forget(user)
    timer_events = await neighbour.replies_until_idle(quiet=TIMER_QUIET)
    await stop_cleanly(bot)
    # The neighbour's timer runs on: the step's message counts down and reaches the switch.
    assert any("Switch sides now" in (reply.text or "") for reply in timer_events)


async def test_message_of_4096_characters_is_answered(
    bot_process: BotLauncher, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)
    longest = ("my piriformis hurts when I sit " * 200)[:4096]
    assert len(longest) == 4096

    await user.send(longest)
    answer = await user.next_reply()
    assert "Piriformis" in (answer.text or "")
    await stop_cleanly(bot)
    stored = query(bot.db_path, "SELECT length(text) FROM questions WHERE user_id = ?", (1001,))
    assert stored == [(4096,)]


# --- files ----------------------------------------------------------------------------------------


async def test_export_sends_csv_and_progress_sends_png(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)
    await onboard(user, "Hip & Lower Back Kit")
    summary = await finish_session(user, "6", "3")
    assert "Steps done:" in summary

    await user.send("/progress")
    text, chart = await replies(user, 2)
    assert "Your progress" in (text.text or "")
    assert chart.kind == "photo" and chart.method == "sendPhoto"
    photo = fake_api.calls_to("sendPhoto")[-1].files["photo"]
    assert photo.data.startswith(b"\x89PNG\r\n\x1a\n")

    await user.send("/export")
    note, document, _, page = await replies(user, 4)
    assert "CSV" in (note.text or "")
    assert document.kind == "document" and document.method == "sendDocument"
    assert page.kind == "photo"
    upload = fake_api.calls_to("sendDocument")[-1].files["document"]
    assert (upload.filename or "").endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(upload.data)) as bundle:
        sessions_csv = bundle.read("sessions.csv").decode("utf-8")
        steps_csv = bundle.read("steps.csv").decode("utf-8")
    (session,) = csv.DictReader(io.StringIO(sessions_csv))
    steps = list(csv.DictReader(io.StringIO(steps_csv)))
    assert (session["pain_before_0_10"], session["pain_after_0_10"]) == ("6", "3")
    assert session["status"] == "finished"
    assert steps and all(step["answer"] == "done" for step in steps)
    assert f"Steps done: {len(steps)} of {len(steps)}" in summary
    # Sent files are removed at once: nothing of the user stays on disk.
    # (the bot removes a file right after Telegram has taken it: allow it a moment)
    for _ in range(40):
        left = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
        if not left:
            break
        await asyncio.sleep(0.05)
    assert not left, left
    await stop_cleanly(bot)


# --- process lifecycle ----------------------------------------------------------------------------


async def test_sigterm_exits_zero_without_logging_the_token(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path)
    await user.send("/help")
    await user.next_reply()
    await user.press_data("hack:me")
    await user.next_reply()

    assert await bot.terminate() == 0
    assert not bot.running
    bot.assert_token_not_logged()
    assert "database closed" in bot.logs()
    assert fake_api.token.split(":", 1)[1] not in bot.logs()


async def test_token_file_is_read(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await start_bot(bot_process, tmp_path, token_source="file")
    assert "TELEGRAM_BOT_TOKEN" not in bot.env
    assert "--token-file" in bot.argv

    await user.send("/start")
    welcome, _ = await replies(user, 2)
    assert "not a diagnosis" in (welcome.text or "")
    assert all(call.token_ok for call in fake_api.calls)
    await stop_cleanly(bot)
