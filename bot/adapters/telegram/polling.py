"""getUpdates through the durable inbox.

python-telegram-bot confirms a batch of updates to Telegram (the next getUpdates offset) before
their handlers run. This request class sits under getUpdates only: every update it receives is
cleaned and written to the inbox before the library sees it, so a confirmed update is always on
disk. Updates already in the inbox (sent again after a crash) are dropped from the answer and the
offset is moved past them, so nothing is handled twice.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from backchain.bot.adapters.telegram.edge import clean, parse_update
from backchain.bot.adapters.telegram.patience import when_free
from backchain.storage.errors import StorageBusy
from backchain.storage.inbox import Inbox
from telegram.error import NetworkError
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

logger = logging.getLogger(__name__)


class InboxRequest(BaseRequest):
    """Wraps the request used for getUpdates; every other method passes through untouched."""

    def __init__(self, inbox: Inbox, inner: BaseRequest | None = None, patience: float = 30.0):
        self.inbox = inbox
        self.patience = patience  # seconds to wait for a database another process locked
        self.inner = inner or HTTPXRequest(connection_pool_size=1)
        self.received = 0

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        polling = url.endswith("/getUpdates")
        if polling:
            request_data = self._past_stored(request_data)
        code, payload = await self.inner.do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if polling and 200 <= code <= 299:
            payload = await self._store(payload)
        return code, payload

    def _past_stored(self, request_data: RequestData | None) -> RequestData | None:
        """The offset moved past every update already stored (dropped ones included)."""
        highest = self.inbox.highest_id()
        if highest is None:
            return request_data
        params = dict(request_data.parameters) if request_data is not None else {}
        offset = params.get("offset")
        if isinstance(offset, int) and offset > highest:
            return request_data
        params["offset"] = highest + 1
        return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])

    async def _store(self, payload: bytes) -> bytes:
        try:
            body = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            return payload  # the library reports an invalid answer itself
        updates = body.get("result") if isinstance(body, dict) else None
        if not isinstance(updates, list) or not updates:
            return payload
        cleaned = [clean(u) for u in updates if isinstance(u, dict) and "update_id" in u]
        try:
            # Polling pauses (the loop does not) while another process locks the database.
            new = set(await when_free(lambda: self.inbox.accept(cleaned), self.patience))
        except StorageBusy as exc:
            # Not stored, so not confirmed: Telegram keeps them and the next poll asks again.
            raise NetworkError("database locked by another process; updates left") from exc
        kept: list[dict[str, Any]] = []
        for update in cleaned:
            if update["update_id"] not in new:
                continue
            if parse_update(update, None) is None:
                self.inbox.skip(int(update["update_id"]), update)
                continue
            kept.append(update)
        self.received += len(kept)
        body["result"] = kept
        return json.dumps(body).encode()
