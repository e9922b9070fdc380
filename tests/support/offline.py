"""An offline request class for python-telegram-bot: records every Bot API call, never networks.

It answers the methods Backchain uses with realistic objects and fails the test on anything else,
in the style of python-telegram-bot's own test suite.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 999, "is_bot": True, "first_name": "Backchain", "username": "backchain_bot"}
TRUE_METHODS = {
    "answerCallbackQuery",
    "setMyCommands",
    "deleteWebhook",
    "deleteMyCommands",
    "sendChatAction",
}
MESSAGE_METHODS = {
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendPhoto",
    "sendDocument",
}


class UnexpectedNetworkAccess(AssertionError):
    """The bot tried a Bot API method the offline request does not know."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class RecordingRequest(BaseRequest):
    calls: list[Call] = field(default_factory=list)
    next_message_id: int = 100

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(api_method, params))
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in TRUE_METHODS:
            return True
        if method in MESSAGE_METHODS:
            self.next_message_id += 1
            message: dict[str, Any] = {
                "message_id": params.get("message_id", self.next_message_id),
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 1)), "type": "private"},
                "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            if "reply_markup" in params:
                markup = params["reply_markup"]
                message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            return message
        raise UnexpectedNetworkAccess(f"unexpected Bot API call {method}")

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def clear(self) -> None:
        self.calls.clear()
