"""The edge: text made valid once, the inbox written before getUpdates is confirmed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backchain.bot.adapters.telegram.edge import clean, clean_text, parse_update
from backchain.bot.adapters.telegram.polling import InboxRequest
from backchain.storage import open_database
from backchain.storage.inbox import Inbox
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("hip \ud800pain", "hip pain"),
        ("a\x00b", "ab"),
        ("bell\x07 and \x1b[31mescape", "bell and [31mescape"),
        ("keeps\nnew lines\tand tabs", "keeps\nnew lines\tand tabs"),
        ("émoji 🙂 stay", "émoji 🙂 stay"),
    ],
)
def test_clean_text(raw: str, valid: str) -> None:
    assert clean_text(raw) == valid
    clean_text(raw).encode("utf-8")


def test_clean_walks_nested_json() -> None:
    data = json.loads('{"update_id": 1, "message": {"text": "x\\ud83d", "list": ["\\u0000y"]}}')
    assert clean(data) == {"update_id": 1, "message": {"text": "x", "list": ["y"]}}


def test_parse_update_returns_none_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_update({"update_id": 9, "message": {"date": 0, "chat": "no"}}, None) is None
    assert caplog.text.count("update 9 skipped") == 1


class ScriptedTelegram(BaseRequest):
    """Answers getUpdates with a fixed batch and records the offsets asked for."""

    def __init__(self, batch: list[dict[str, Any]]):
        self.batch = batch
        self.offsets: list[Any] = []

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: Any = None, **_: Any):
        params = request_data.parameters if request_data else {}
        self.offsets.append(params.get("offset"))
        return 200, json.dumps({"ok": True, "result": self.batch}).encode()


def message(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


async def test_updates_are_stored_before_the_library_sees_them() -> None:
    inbox = Inbox(open_database(None))
    bad = {"update_id": 12, "message": {"message_id": 1, "date": 0, "chat": "x"}}
    telegram = ScriptedTelegram([message(10, "hip \ud800"), message(11, "back"), bad])
    request = InboxRequest(inbox, telegram)
    data = RequestData([RequestParameter.from_input("offset", 0)])
    code, payload = await request.do_request("https://x/bot1:a/getUpdates", "POST", data)
    result = json.loads(payload)["result"]
    assert [u["update_id"] for u in result] == [10, 11]
    assert result[0]["message"]["text"] == "hip "
    assert [u.update_id for u in inbox.pending()] == [10, 11]
    assert inbox.counts() == {"pending": 2, "skipped": 1}

    # The same batch again (sent before a crash confirmed it): nothing new for the library,
    # and the next offset moves past everything stored.
    code, payload = await request.do_request("https://x/bot1:a/getUpdates", "POST", data)
    assert json.loads(payload)["result"] == []
    assert telegram.offsets == [0, 13]


async def test_other_methods_pass_through_untouched() -> None:
    inbox = Inbox(open_database(None))
    telegram = ScriptedTelegram([message(10, "hi")])
    request = InboxRequest(inbox, telegram)
    await request.do_request("https://x/bot1:a/sendMessage", "POST", None)
    assert inbox.pending() == []
