"""The adapter's operational rules on a real Application: groups, heavy work, typed bot data."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.telegram.app import BotData, build_application
from backchain.bot.adapters.telegram.patience import LOOP_BUSY_TIMEOUT_MS
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.replies import Outcome, Reply
from backchain.bot.chat.services import Services, build_matcher
from backchain.bot.content import Content
from backchain.storage import Storage
from telegram import Update

from tests.conftest import REPO
from tests.support.offline import BOT_USER, RecordingRequest

TOKEN = "123456:OPERATIONS-TEST"
MEMBER = {"id": 4242, "is_bot": False, "first_name": "Sam"}
OTHER = {"id": 5151, "is_bot": False, "first_name": "Kim"}
GROUP = {"id": -100500, "type": "supergroup", "title": "Back club"}
PERSONAL = ["session", "progress", "export", "profile", "health", "remind", "reminders", "forget"]


class Chat:
    def __init__(self, app: Any, request: RecordingRequest):
        self.app = app
        self.request = request
        self.update_id = 0

    def _update(self, user: dict[str, Any], chat: dict[str, Any], text: str) -> Update:
        self.update_id += 1
        message: dict[str, Any] = {
            "message_id": self.update_id,
            "date": 0,
            "chat": chat,
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return Update.de_json({"update_id": self.update_id, "message": message}, self.app.bot)

    async def say(self, text: str, user: dict[str, Any] = MEMBER, chat: dict | None = None) -> None:
        chat = chat or {"id": user["id"], "type": "private"}
        await self.app.process_update(self._update(user, chat, text))

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        return [
            params
            for call in self.request.calls
            for params in [call.params]
            if call.method.startswith("send") and int(params.get("chat_id", 0)) == chat_id
        ]


@pytest.fixture
async def chat(services: Services):
    request = RecordingRequest()
    app = build_application(Settings(token=TOKEN), services, request)
    async with app:
        yield Chat(app, request)


def test_bot_data_is_typed(chat: Chat) -> None:
    data = chat.app.bot_data
    assert isinstance(data, BotData)
    assert data.conversation.services is data.services


@pytest.mark.parametrize("command", PERSONAL)
async def test_personal_commands_in_a_group_point_to_the_private_chat(
    chat: Chat, services: Services, command: str
) -> None:
    await chat.say(f"/{command}@{BOT_USER['username']}", chat=GROUP)
    sent = chat.sent(GROUP["id"])
    assert len(sent) == 1
    assert sent[0]["text"] == services.content.messages("private_only_in_group")
    markup = sent[0]["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    button = markup["inline_keyboard"][0][0]
    assert button["url"] == f"https://t.me/{BOT_USER['username']}?start=from-group"
    assert [c.method for c in chat.request.calls if c.method != "getMe"] == ["sendMessage"]
    assert services.reminders.get(MEMBER["id"]) is None


@pytest.mark.parametrize("text", ["/help@otherbot", "/forget@otherbot", "/weather"])
async def test_commands_for_other_bots_are_ignored(chat: Chat, text: str) -> None:
    await chat.say(text, chat=GROUP)
    await chat.say("/help@otherbot")  # in private too
    assert chat.sent(GROUP["id"]) == []
    assert chat.sent(MEMBER["id"]) == []


async def test_group_questions_are_answered_without_touching_private_state(
    chat: Chat, services: Services
) -> None:
    await chat.say("/remind")  # privately, the bot now waits for a time...
    chat.request.clear()
    await chat.say("07:30", chat=GROUP)  # ...which, typed in a group, must not set it there
    assert services.reminders.get(MEMBER["id"]) is None
    await chat.say("why does my hip hurt", chat=GROUP)
    texts = [p["text"] for p in chat.sent(GROUP["id"])]
    assert any("hip" in text.lower() for text in texts)


async def test_a_chart_being_drawn_does_not_hold_another_users_answer(
    content: Content, tmp_path: Path
) -> None:
    db_path = tmp_path / "b.db"
    services = Services(
        content=content,
        matcher=build_matcher(content),
        storage=Storage.open(db_path),
        files_dir=tmp_path / "files",
    )
    request = RecordingRequest()
    app = build_application(Settings(token=TOKEN, db_path=str(db_path)), services, request)
    heavy = app.bot_data.wiring.heavy
    assert heavy is not None
    drawing = threading.Event()
    release = threading.Event()

    class SlowChart:
        def handle(self, incoming: Incoming) -> Outcome:
            drawing.set()
            release.wait(10)
            return Outcome().say(Reply("chart drawn"))

    heavy._conversation = SlowChart()  # type: ignore[assignment]
    harness = Chat(app, request)
    async with app:
        progress = asyncio.create_task(harness.say("/progress"))
        while not drawing.is_set():
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await harness.say("why does my hip hurt", user=OTHER)
        answered_in = loop.time() - started
        assert harness.sent(OTHER["id"])
        assert not harness.sent(MEMBER["id"])  # the chart is still being drawn
        release.set()
        await progress
        assert harness.sent(MEMBER["id"])[0]["text"] == "chart drawn"
        assert answered_in < 1.0
    heavy.executor.shutdown()


@pytest.fixture
def locked_chat_parts(content: Content, tmp_path: Path):
    """A file database opened the way the bot opens it, and a second program's connection."""
    db_path = tmp_path / "locked.db"
    services = Services(
        content=content,
        matcher=build_matcher(content),
        storage=Storage.open(db_path, busy_timeout_ms=LOOP_BUSY_TIMEOUT_MS),
        files_dir=tmp_path / "files",
    )
    other = sqlite3.connect(db_path, isolation_level=None)
    yield services, other
    other.close()
    services.close()


async def test_a_locked_database_holds_only_the_turn_that_needs_it(locked_chat_parts) -> None:
    services, other = locked_chat_parts
    request = RecordingRequest()
    app = build_application(Settings(token=TOKEN, db_patience=10.0), services, request)
    harness = Chat(app, request)
    async with app:
        other.execute("BEGIN IMMEDIATE")  # another program writes for a while
        waiting = asyncio.create_task(harness.say("why does my hip hurt"))
        await asyncio.sleep(0.4)
        assert not waiting.done() and not harness.sent(MEMBER["id"])
        # The loop is not held: a group question, which writes nothing, is answered meanwhile.
        loop = asyncio.get_running_loop()
        started = loop.time()
        await harness.say("why does my hip hurt", user=OTHER, chat=GROUP)
        assert harness.sent(GROUP["id"]) and loop.time() - started < 0.5
        other.execute("ROLLBACK")
        released = loop.time()
        await asyncio.wait_for(waiting, 5)
        waited_after_release = loop.time() - released
    texts = [p["text"] for p in harness.sent(MEMBER["id"])]
    assert len(texts) == 1 and "hip" in texts[0].lower()
    assert waited_after_release < 1.5
    # The turn was stored once it could be: the thread goes on from this topic.
    stored = services.contexts.get(MEMBER["id"], services.clock(), timedelta(minutes=30))
    assert stored.topic is not None


async def test_a_lock_longer_than_the_patience_gets_a_clear_reply_and_no_change(
    locked_chat_parts,
) -> None:
    services, other = locked_chat_parts
    request = RecordingRequest()
    app = build_application(Settings(token=TOKEN, db_patience=0.3), services, request)
    harness = Chat(app, request)
    busy = services.content.messages("database_busy")
    async with app:
        other.execute("BEGIN IMMEDIATE")
        await harness.say("/remind 7:30")
        other.execute("ROLLBACK")
        assert [p["text"] for p in harness.sent(MEMBER["id"])] == [busy]
        assert services.reminders.get(MEMBER["id"]) is None  # nothing half-done
        request.clear()
        await harness.say("/remind 7:30")  # free again: the same input now works
        assert services.reminders.get(MEMBER["id"]) is not None
        assert busy not in [p["text"] for p in harness.sent(MEMBER["id"])]


async def test_the_reader_is_prepared_on_the_loop_in_small_steps_while_it_answers(
    content: Content, tmp_path: Path
) -> None:
    from backchain.bot.adapters.telegram.app import warm_in_background
    from backchain.bot.content import load_content

    fresh = load_content(REPO / "content")  # a screen no other test has prepared
    services = Services(fresh, build_matcher(fresh), Storage.open(None), files_dir=tmp_path)
    request = RecordingRequest()
    app = build_application(Settings(token=TOKEN), services, request)
    harness = Chat(app, request)
    async with app:
        warming = warm_in_background(services)
        await asyncio.sleep(0.05)  # preparing has started
        loop = asyncio.get_running_loop()
        started = loop.time()
        await harness.say("why does my hip hurt")  # answered while the patterns compile
        answered_in = loop.time() - started
        assert harness.sent(MEMBER["id"]) and not warming.done()
        prepared = await asyncio.wait_for(warming, 30)
    assert answered_in < 0.1
    assert prepared > 1000
    concepts = fresh.red_flags.parts().concepts.values()
    assert all(c._at_key or c.starters is None for c in concepts if c.starters != {})
