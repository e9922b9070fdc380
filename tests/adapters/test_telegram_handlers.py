"""Handler tests: a real Application on an offline request that records every Bot API call."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.telegram.app import build_application, post_init
from backchain.bot.chat.conversation import COMMANDS
from backchain.bot.chat.services import Services
from telegram import Update

from tests.support.offline import BOT_USER, RecordingRequest

USER = {"id": 4242, "is_bot": False, "first_name": "Sam"}
OTHER = {"id": 5151, "is_bot": False, "first_name": "Kim"}
TOKEN = "123456:HANDLER-TEST"


class Harness:
    def __init__(self, services: Services):
        self.request = RecordingRequest()
        self.app = build_application(Settings(token=TOKEN), services, self.request)
        self.update_id = 0
        self.message_id = 0

    def _next(self) -> tuple[int, int]:
        self.update_id += 1
        self.message_id += 1
        return self.update_id, self.message_id

    def _message(self, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
        update_id, message_id = self._next()
        message = {
            "message_id": message_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": user["id"], "type": "private"},
            "from": user,
            **fields,
        }
        return {"update_id": update_id, "message": message}

    async def send(self, text: str, user: dict[str, Any] = USER) -> None:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        await self.process(self._message(user, **fields))

    async def send_sticker(self, user: dict[str, Any] = USER) -> None:
        sticker = {
            "file_id": "s1",
            "file_unique_id": "u1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        await self.process(self._message(user, sticker=sticker))

    async def press(self, data: str, user: dict[str, Any] = USER) -> None:
        await self.process(self.press_update(data, user))

    def press_update(self, data: str, user: dict[str, Any] = USER) -> dict[str, Any]:
        """A button press as Telegram sends it, with the next update id."""
        update_id, _ = self._next()
        message = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user["id"], "type": "private"},
            "from": BOT_USER,
            "text": "earlier",
        }
        query = {
            "id": f"q{update_id}",
            "from": user,
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        return {"update_id": update_id, "callback_query": query}

    async def process(self, data: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(data, self.app.bot))

    def texts(self, chat_id: int = USER["id"]) -> list[str]:
        return [p["text"] for p in self.request.sent() if int(p["chat_id"]) == chat_id]

    def last_buttons(self) -> list[dict[str, str]]:
        for params in reversed(self.request.sent()):
            if "reply_markup" in params:
                markup = params["reply_markup"]
                markup = json.loads(markup) if isinstance(markup, str) else markup
                return [b for row in markup["inline_keyboard"] for b in row]
        return []


@pytest.fixture
async def harness(services: Services):
    h = Harness(services)
    async with h.app:
        yield h


async def test_start_sends_welcome_and_tools_keyboard(harness: Harness) -> None:
    await harness.send("/start")
    texts = harness.texts()
    assert "not a diagnosis" in texts[0]
    assert any(b["text"] == "Done" for b in harness.last_buttons())
    assert all(p.get("parse_mode") == "HTML" for p in harness.request.sent())


async def test_question_answer_and_related_button(harness: Harness, services: Services) -> None:
    await harness.send("why does my hip hurt")
    assert harness.texts()[-1].startswith("<b>" + services.content.topics["hip-pain"].title)
    first = harness.last_buttons()[0]
    harness.request.clear()
    await harness.press(first["callback_data"])
    # The press is handled first; the query is answered after, and may fail harmlessly.
    assert [c.method for c in harness.request.calls] == ["sendMessage", "answerCallbackQuery"]


async def test_forged_callback_is_answered_and_expires(
    harness: Harness, services: Services
) -> None:
    await harness.press("s:done:424242:0")
    await harness.press("\x00\xff garbage")
    answered = harness.request.sent("answerCallbackQuery")
    assert len(answered) == 2
    assert harness.texts() == [services.content.messages("button_expired")] * 2


async def test_sticker_gets_text_only_reply(harness: Harness, services: Services) -> None:
    await harness.send_sticker()
    assert harness.texts() == [services.content.messages("text_only")]


async def test_onboarding_toggle_edits_the_keyboard(harness: Harness) -> None:
    await harness.send("/start")
    kit = harness.last_buttons()[0]
    harness.request.clear()
    await harness.press(kit["callback_data"])
    edits = harness.request.sent("editMessageText")
    assert len(edits) == 1 and not harness.request.sent()
    markup = edits[0]["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert markup["inline_keyboard"][0][0]["text"].startswith("✅")


async def test_timer_press_schedules_a_job(harness: Harness) -> None:
    await harness.send("/start")
    await harness.press("ob:tool:hip-lower-back-kit")
    await harness.press("ob:tools-done")
    await harness.press("hs:none")
    await harness.press("ob:focus:hip")
    await harness.send("/session")
    pain = harness.last_buttons()[3]["callback_data"]
    await harness.press(pain)
    timer = next(b for b in harness.last_buttons() if "timer" in b["text"].lower())
    await harness.press(timer["callback_data"])
    jobs = [j.name for j in harness.app.job_queue.jobs()]
    assert any(name and name.startswith(f"user:{USER['id']}:session:") for name in jobs)


async def test_two_users_get_replies_in_their_own_chats(harness: Harness) -> None:
    await harness.send("/start", USER)
    await harness.send("sciatica", OTHER)
    assert len(harness.texts(OTHER["id"])) == 1
    assert "not a diagnosis" not in harness.texts(OTHER["id"])[0]


async def test_long_replies_are_split(harness: Harness, services: Services) -> None:
    from backchain.bot.adapters.telegram.app import send_reply
    from backchain.bot.chat.replies import Reply

    class Context:
        bot = harness.app.bot

    text = ("word " * 1500).strip()
    await send_reply(Context(), USER["id"], Reply(text))  # type: ignore[arg-type]
    chunks = harness.texts()
    assert len(chunks) == 2 and all(len(c) <= 4096 for c in chunks)
    assert " ".join(chunks) == text


async def test_error_handler_tells_the_user(
    harness: Harness, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backchain.bot.chat.conversation import Conversation

    def broken(self: Conversation, incoming: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Conversation, "handle", broken)
    await harness.send("hello")
    assert harness.texts() == [services.content.messages("something_went_wrong")]


async def test_post_init_registers_commands(harness: Harness) -> None:
    await post_init(harness.app)
    registered = harness.request.sent("setMyCommands")[0]["commands"]
    names = [
        c["command"]
        for c in (json.loads(registered) if isinstance(registered, str) else registered)
    ]
    assert names == list(COMMANDS)
    harness.app.job_queue.scheduler.remove_all_jobs()


async def test_a_press_replayed_from_the_inbox_gets_the_step_in_hand(
    harness: Harness, services: Services
) -> None:
    from backchain.bot.adapters.telegram.app import replay_inbox

    await harness.send("/start")
    for label in ("Hip & Lower Back Kit", "Done", "None of these", "Hip", "Skip"):
        button = next(b for b in harness.last_buttons() if label in b["text"])
        await harness.press(button["callback_data"])
    await harness.send("/session")
    pain = next(b for b in harness.last_buttons() if b["text"] == "5")
    await harness.press(pain["callback_data"])
    done = next(b for b in harness.last_buttons() if "Done" in b["text"])
    await harness.press(done["callback_data"])
    # The process died after storing that press but before its reply left: on the next start
    # the inbox hands it over again, and the person sees the step the session waits for.
    # (Handler tests bypass the polling inbox: the press is stored as polling stores it.)
    stored = harness.press_update(done["callback_data"])
    services.storage.inbox.accept([stored])
    harness.request.clear()
    assert await replay_inbox(harness.app) == 1
    await harness.app.process_update(harness.app.update_queue.get_nowait())
    texts = harness.texts()
    assert len(texts) == 1 and "Step 2 of" in texts[0]
    count = services.storage.db.execute("SELECT COUNT(*) FROM step_events").fetchone()
    assert count == (1,)
