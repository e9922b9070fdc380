"""The fake Bot API against the real python-telegram-bot 22, in process and as a child process."""

from __future__ import annotations

import asyncio
import html
import re
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .conftest import TEST_TOKEN, BotLauncher, token_leaks
from .fake_bot_api import POLL_CONFLICT, TINY_PNG, FakeBotApi
from .user import SimulatedUser

ECHO_KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Again", callback_data="echo:again"),
            InlineKeyboardButton("Done", callback_data="echo:done"),
        ]
    ]
)


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /start."""
    assert update.effective_message is not None
    await update.effective_message.reply_text("Welcome")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text back, HTML-formatted, under two buttons."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(
        f"<b>Echo</b>: {html.escape(message.text)}",
        parse_mode=ParseMode.HTML,
        reply_markup=ECHO_KEYBOARD,
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and replace the message, dropping its keyboard."""
    query = update.callback_query
    assert query is not None
    await query.answer(f"got {query.data}")
    await query.edit_message_text(f"You pressed {query.data}")


def connected_bot(server: FakeBotApi, token: str = TEST_TOKEN) -> Bot:
    return Bot(token, base_url=server.api_url, base_file_url=server.file_url)


@pytest.fixture
async def echo_app(
    fake_api: FakeBotApi,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    app = (
        Application.builder()
        .token(TEST_TOKEN)
        .base_url(fake_api.api_url)
        .base_file_url(fake_api.file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", greet))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        yield app
        await app.updater.stop()
        await app.stop()


# --- a polling PTB application, in process ----------------------------------------------------


async def test_text_message_gets_formatted_echo_with_buttons(
    echo_app: Application[Any, Any, Any, Any, Any, Any], fake_api: FakeBotApi, user: SimulatedUser
) -> None:
    await user.send("hips & <knees>")

    reply = await user.next_reply()

    assert reply.action == "sent"
    assert reply.text == "Echo: hips & <knees>"
    assert reply.sent_text == "<b>Echo</b>: hips &amp; &lt;knees&gt;"
    assert reply.button_labels == ["Again", "Done"]
    sent = fake_api.calls_to("sendMessage")[-1]
    assert sent.params["chat_id"] == user.chat_id
    assert sent.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Again", "callback_data": "echo:again"},
                {"text": "Done", "callback_data": "echo:done"},
            ]
        ]
    }
    assert {"getMe", "deleteWebhook", "getUpdates"} <= set(fake_api.method_names())


async def test_command_is_routed_to_its_handler(
    echo_app: Application[Any, Any, Any, Any, Any, Any], user: SimulatedUser
) -> None:
    await user.send("/start")

    assert (await user.next_reply()).text == "Welcome"


async def test_pressing_a_button_answers_and_edits_the_message(
    echo_app: Application[Any, Any, Any, Any, Any, Any], fake_api: FakeBotApi, user: SimulatedUser
) -> None:
    await user.send("soleus")
    sent = await user.next_reply()

    query_id = await user.press("don")
    edited = await user.next_reply()

    assert (edited.action, edited.message_id) == ("edited", sent.message_id)
    assert edited.text == "You pressed echo:done"
    assert edited.buttons == []
    answer = await fake_api.wait_for(lambda: fake_api.callback_answer(query_id))
    assert answer.text == "got echo:done"
    stored = user.latest_bot_message()
    assert stored is not None
    assert (stored.text, stored.edit_count, stored.reply_markup) == (
        "You pressed echo:done",
        1,
        None,
    )
    with pytest.raises(AssertionError, match="no button"):
        await user.press("Again")


async def test_replies_until_idle_collects_every_reply(
    echo_app: Application[Any, Any, Any, Any, Any, Any], user: SimulatedUser
) -> None:
    await user.send("one")
    await user.send("two")

    replies = await user.replies_until_idle(quiet=0.3, at_least=2)

    assert [reply.text for reply in replies] == ["Echo: one", "Echo: two"]
    assert user.unread() == []


async def test_forged_callback_data_reaches_the_bot(
    echo_app: Application[Any, Any, Any, Any, Any, Any], fake_api: FakeBotApi, user: SimulatedUser
) -> None:
    await user.send("psoas")
    await user.next_reply()

    query_id = await user.press_data("step:done:999:1")

    assert (await user.next_reply()).text == "You pressed step:done:999:1"
    await fake_api.wait_for(lambda: fake_api.callback_answer(query_id))


# --- update shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "location", "document"])
def test_pushed_media_parse_as_ptb_messages(fake_api: FakeBotApi, kind: str) -> None:
    update = getattr(fake_api, f"push_{kind}")(1001)

    parsed = Update.de_json(update, None)

    assert parsed.message is not None
    assert getattr(parsed.message, kind)
    assert parsed.message.from_user is not None and parsed.message.from_user.id == 1001


def test_callback_on_a_missing_message_arrives_inaccessible(fake_api: FakeBotApi) -> None:
    fake_api.push_callback(1001, 777, "forged")

    parsed = Update.de_json(fake_api.pending_updates[-1], None)

    assert parsed.callback_query is not None and parsed.callback_query.message is not None
    assert not parsed.callback_query.message.is_accessible
    assert parsed.callback_query.data == "forged"


# --- uploads, downloads and errors through telegram.Bot ---------------------------------------


async def test_photo_and_document_uploads_are_recorded_and_downloadable(
    fake_api: FakeBotApi,
) -> None:
    csv = b"day,score\n1,3\n"
    async with connected_bot(fake_api) as bot:
        photo = await bot.send_photo(
            1001,
            photo=TINY_PNG,
            caption="<i>Week 1</i>",
            parse_mode=ParseMode.HTML,
            reply_markup=ECHO_KEYBOARD,
        )
        document = await bot.send_document(1001, document=csv, filename="progress.csv")
        assert document.document is not None
        downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()

    assert photo.caption == "Week 1" and photo.photo
    assert photo.reply_markup == ECHO_KEYBOARD
    photo_call, document_call = (
        fake_api.calls_to("sendPhoto")[0],
        fake_api.calls_to("sendDocument")[0],
    )
    assert photo_call.files["photo"].data == TINY_PNG
    assert (
        photo_call.params["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "echo:done"
    )
    assert photo_call.params["chat_id"] == 1001
    assert (document_call.files["document"].filename, document_call.files["document"].data) == (
        "progress.csv",
        csv,
    )
    assert document.document.file_name == "progress.csv"
    assert bytes(downloaded) == csv
    assert [m.kind for m in fake_api.bot_messages(1001)] == ["photo", "document"]


async def test_user_photo_downloads_through_get_file(fake_api: FakeBotApi) -> None:
    update = Update.de_json(fake_api.push_photo(1001, caption="my hip"), None)
    assert update.message is not None

    async with connected_bot(fake_api) as bot:
        photo_file = await bot.get_file(update.message.photo[-1].file_id)
        data = await photo_file.download_as_bytearray()

    assert bytes(data) == TINY_PNG


async def test_wrong_token_is_unauthorized(fake_api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await connected_bot(fake_api, "123456:WRONG").get_me()

    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake_api.api_url}123456:WRONG/sendMessage")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert [call.token_ok for call in fake_api.calls] == [False, False]
    assert fake_api.chats == {}


async def test_blocked_user_makes_send_message_forbidden(fake_api: FakeBotApi) -> None:
    fake_api.block_chat(1001)
    async with connected_bot(fake_api) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(1001, "Time for your soleus routine")
        await bot.send_message(1002, "Time for your soleus routine")
        fake_api.unblock_chat(1001)
        await bot.send_message(1001, "Welcome back")

    assert [m.text for m in fake_api.bot_messages(1001)] == ["Welcome back"]
    assert fake_api.calls_to("sendMessage")[0].status == 403


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "<b>bold", "parse_mode": "HTML"}, "Can't find end tag"),
        ({"text": "line<br>break", "parse_mode": "HTML"}, 'Unsupported start tag "br"'),
        ({"text": "pain 1 < 2", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<b>x</i>", "parse_mode": "HTML"}, "Unmatched end tag"),
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "   "}, "message text is empty"),
        (
            {
                "text": "pick",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Go", callback_data="x" * 65)]]
                ),
            },
            "BUTTON_DATA_INVALID",
        ),
    ],
    ids=["unclosed", "br", "stray-bracket", "mismatch", "too-long", "blank", "long-data"],
)
async def test_send_message_rejects_what_telegram_rejects(
    fake_api: FakeBotApi, kwargs: dict[str, Any], error: str
) -> None:
    async with connected_bot(fake_api) as bot:
        # PTB drops Telegram's "Bad Request: " prefix and recapitalises the rest.
        with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
            await bot.send_message(1001, **kwargs)

    assert fake_api.bot_messages(1001) == []


async def test_edits_follow_telegram_rules(fake_api: FakeBotApi) -> None:
    async with connected_bot(fake_api) as bot:
        message = await bot.send_message(1001, "Day 1", reply_markup=ECHO_KEYBOARD)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text(
                "Day 1", 1001, message.message_id, reply_markup=ECHO_KEYBOARD
            )
        await bot.edit_message_reply_markup(1001, message.message_id)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("Day 2", 1001, message.message_id + 50)
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query("no-such-query")

    stored = fake_api.bot_messages(1001)[0]
    assert (stored.text, stored.reply_markup, stored.edit_count) == ("Day 1", None, 1)
    assert [reply.action for reply in fake_api.replies(1001)] == ["sent", "edited"]


async def test_commands_are_kept_and_unknown_methods_recorded(fake_api: FakeBotApi) -> None:
    async with connected_bot(fake_api) as bot:
        await bot.set_my_commands([("start", "Begin"), ("help", "What I can do")])
        commands = await bot.get_my_commands()
        await bot.send_chat_action(1001, "typing")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake_api.api_url}{TEST_TOKEN}/setChatMenuButton", json={})

    assert [command.command for command in commands] == ["start", "help"]
    assert response.json() == {"ok": True, "result": True}
    assert fake_api.unknown_methods == ["setChatMenuButton"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_flood_wait_surfaces_as_retry_after(fake_api: FakeBotApi) -> None:
    fake_api.inject_error("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    async with connected_bot(fake_api) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(1001, "first")
        await bot.send_message(1001, "second")

    assert [m.text for m in fake_api.bot_messages(1001)] == ["second"]


# --- long polling -------------------------------------------------------------------------------


async def test_long_poll_holds_until_an_update_then_offset_confirms(fake_api: FakeBotApi) -> None:
    url = f"{fake_api.api_url}{TEST_TOKEN}/getUpdates"
    async with httpx.AsyncClient(timeout=10) as client:
        poll = asyncio.create_task(client.post(url, data={"timeout": "5"}))
        await fake_api.wait_for(lambda: fake_api.get_updates_count == 1)
        await asyncio.sleep(0.1)
        assert not poll.done()

        update = fake_api.push_message(1001, "42")
        updates = (await asyncio.wait_for(poll, 2)).json()["result"]
        confirm = await client.post(url, data={"offset": str(update["update_id"] + 1)})

    assert [u["message"]["text"] for u in updates] == ["42"]
    assert confirm.json() == {"ok": True, "result": []}
    assert fake_api.pending_updates == []
    assert fake_api.highest_confirmed_update_id == update["update_id"]


async def test_empty_long_poll_returns_after_its_timeout(fake_api: FakeBotApi) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake_api.api_url}{TEST_TOKEN}/getUpdates", json={"timeout": 0.3}
        )

    assert response.json() == {"ok": True, "result": []}
    assert loop.time() - started >= 0.3


async def test_a_second_poller_ends_the_held_one_with_conflict(fake_api: FakeBotApi) -> None:
    async with connected_bot(fake_api) as first, connected_bot(fake_api) as second:
        held = asyncio.create_task(first.get_updates(timeout=5))
        await fake_api.wait_for(lambda: fake_api.get_updates_count == 1)
        await second.get_updates(timeout=0)

        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(held, 2)

    assert fake_api.calls_to("getUpdates")[0].description == POLL_CONFLICT


# --- the subprocess harness, with a minimal PTB bot standing in for Backchain -----------------

STAND_IN_BOT = textwrap.dedent(
    """
    import argparse, logging, os
    from pathlib import Path
    from telegram.ext import Application, MessageHandler, filters

    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--token-file")
    args = parser.parse_args()
    if args.token_file:
        token = Path(args.token_file).read_text().strip()
    else:
        token = os.environ["TELEGRAM_BOT_TOKEN"]
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def pong(update, context):
        await update.message.reply_text("pong: " + update.message.text)

    app = Application.builder().token(token).base_url(args.api_url).build()
    app.add_handler(MessageHandler(filters.TEXT, pong))
    app.run_polling(poll_interval=0, timeout=1)
    """
)


@pytest.fixture
def stand_in_command(tmp_path: Path) -> list[str]:
    script = tmp_path / "stand_in_bot.py"
    script.write_text(STAND_IN_BOT, encoding="utf-8")
    return [sys.executable, str(script)]


async def test_bot_process_serves_survives_restart_and_kill(
    bot_process: BotLauncher, user: SimulatedUser, stand_in_command: list[str]
) -> None:
    bot = await bot_process(command=stand_in_command)
    await user.send("hello")
    assert (await user.next_reply()).text == "pong: hello"

    assert await bot.terminate() == 0
    await bot.restart()
    await user.send("again")
    assert (await user.next_reply()).text == "pong: again"

    assert await bot.kill() == -signal.SIGKILL
    assert bot.starts == 2
    bot.assert_token_not_logged()


async def test_bot_process_reads_token_file_and_reports_bad_token(
    bot_process: BotLauncher, fake_api: FakeBotApi, stand_in_command: list[str]
) -> None:
    bot = await bot_process(
        command=stand_in_command, token="123456:WRONG", token_source="file", wait_ready=False
    )

    assert await bot.wait_exit() != 0
    assert fake_api.calls[0].status == 401
    assert "TELEGRAM_BOT_TOKEN" not in bot.env


@pytest.mark.parametrize(
    ("line", "leaks"),
    [
        ("HTTP Request: POST http://127.0.0.1/bot123456:TEST-TOKEN/getMe", True),
        ("token=TEST-TOKEN", True),
        ("Application started", False),
    ],
)
def test_token_leaks_finds_the_token_or_its_secret(line: str, leaks: bool) -> None:
    assert bool(token_leaks(f"start\n{line}\nend", TEST_TOKEN)) is leaks
