"""Random updates through the real handlers: no unhandled error, and a reply where one is due.

A few thousand updates by default; set BACKCHAIN_FUZZ_EXAMPLES (examples of up to 20 updates
each) for a longer run, e.g. BACKCHAIN_FUZZ_EXAMPLES=2000.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.telegram.app import build_application
from backchain.bot.adapters.telegram.edge import clean, parse_update
from backchain.bot.adapters.telegram.sending import SendLimits
from backchain.bot.chat.services import Services
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.offline import BOT_USER, RecordingRequest

EXAMPLES = int(os.environ.get("BACKCHAIN_FUZZ_EXAMPLES", "300"))
USERS = [7001, 7002, 7003]
GROUP = -100900

ODD = ["\ud800", "\udfff", "\x00", "\x07", "\u202e", "\ufeff", "🙂", "\n\n", "<b>", "&amp;", "é"]
WORDS = [
    "hip",
    "back",
    "why",
    "hurt",
    "numb",
    "sciatica",
    "/start",
    "/help",
    "/session",
    "/forget",
    "/progress",
    "/export",
    "/remind",
    "/reminders",
    "/profile",
    "/topics",
    "07:30",
    "/help@otherbot",
    f"/help@{BOT_USER['username']}",
    "chest pain",
    "cannot pee",
]


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(st.one_of(st.sampled_from(ODD + WORDS), st.text(max_size=20)), max_size=8)
    )
    return " ".join(parts)[:5000]


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    user = draw(st.sampled_from(USERS))
    in_group = draw(st.booleans()) and draw(st.booleans())
    chat = (
        {"id": GROUP, "type": "supergroup", "title": "G"}
        if in_group
        else {"id": user, "type": "private"}
    )
    sender = {"id": user, "is_bot": False, "first_name": draw(st.sampled_from(["A", "\ud800"]))}
    kind = draw(st.sampled_from(["text", "text", "text", "press", "sticker", "broken", "edited"]))
    message: dict[str, Any] = {"message_id": 1, "date": 0, "chat": chat, "from": sender}
    if kind == "press":
        data = draw(
            st.one_of(
                st.text(max_size=70),
                st.sampled_from(
                    [
                        "t:show:hip-pain",
                        "s:done:1:0",
                        "fg:yes:1",
                        "fg:no",
                        "r:time:730",
                        "ob:tools-done",
                    ]
                ),
            )
        )
        query = {
            "id": "q",
            "from": sender,
            "chat_instance": "c",
            "data": data,
            "message": {**message, "from": BOT_USER, "text": "earlier"},
        }
        return {"callback_query": query}
    if kind == "sticker":
        return {
            "message": {
                **message,
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "u",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                },
            }
        }
    if kind == "broken":
        return {"message": {**message, "chat": draw(st.sampled_from(["x", 5, None, []]))}}
    text = draw(texts())
    body = {**message, "text": text}
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"edited_message" if kind == "edited" else "message": body}


class Runner:
    def __init__(self, services: Services):
        self.loop = asyncio.new_event_loop()
        self.request = RecordingRequest()
        # Telegram's rate limits would make this a test of waiting: lifted here.
        unlimited = SendLimits(per_second=1e6, bulk_per_second=1e6, group_per_minute=1e6)
        self.app = build_application(
            Settings(token="123456:FUZZ"), services, self.request, unlimited
        )
        self.errors: list[BaseException] = []

        async def record(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.app.error_handlers.clear()
        self.app.add_error_handler(record)
        self.loop.run_until_complete(self.app.initialize())
        self.update_id = 0
        self.handled = 0

    def feed(self, raw: dict[str, Any]) -> None:
        self.update_id += 1
        # Through JSON, as Telegram sends it, then the edge, as the bot receives it.
        wire = json.loads(json.dumps({"update_id": self.update_id, **raw}))
        payload = clean(wire)
        update = parse_update(payload, self.app.bot)
        if update is None:
            return
        before = len(self.request.calls)
        self.loop.run_until_complete(self.app.process_update(update))
        self.handled += 1
        message = update.message
        chat = getattr(message, "chat", None)
        text = (message.text or "").strip() if message is not None else ""
        if message is None or chat is None or chat.type != "private" or not text.strip():
            return
        if text.startswith("/") and "@" in text.split(maxsplit=1)[0]:
            target = text.split(maxsplit=1)[0].split("@", 1)[1]
            if target.lower() != BOT_USER["username"]:
                return
        sent = [c for c in self.request.calls[before:] if c.method.startswith("send")]
        assert sent, f"no reply to {message.text!r}"

    def close(self) -> None:
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


@pytest.fixture
def runner(services: Services) -> Iterator[Runner]:
    run = Runner(services)
    yield run
    run.close()


def test_random_updates_never_crash_and_get_replies(runner: Runner) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(updates(), min_size=5, max_size=20))
    def run(batch: list[dict[str, Any]]) -> None:
        for raw in batch:
            runner.feed(raw)
        assert runner.errors == []

    run()
    print(f"\nfuzz: {runner.update_id} random updates, {runner.handled} handled, no error")
    assert runner.update_id >= EXAMPLES * 5
