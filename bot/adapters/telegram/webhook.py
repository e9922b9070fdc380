"""Webhook mode: a small tornado server that checks before it reads, and stores before it says 200.

The secret header and the declared size are checked when the headers arrive, before a byte of
the body is read: a forged or oversized request costs no memory. An accepted update is cleaned
and written to the durable inbox before Telegram gets its 200, so it survives a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.telegram.app import BotData, post_init, post_shutdown
from backchain.bot.adapters.telegram.edge import clean, parse_update
from backchain.bot.adapters.telegram.patience import when_free
from backchain.storage.errors import StorageBusy
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import HTTPError, RequestHandler, stream_request_body

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

App = Application[Any, Any, Any, Any, BotData, Any]
Receive = Callable[[dict[str, Any]], Awaitable[None]]


@stream_request_body
class UpdateHandler(RequestHandler):
    """POSTs from Telegram: secret and size checked in `prepare`, before the body is read."""

    def initialize(self, receive: Receive, secret: str, max_bytes: int) -> None:  # type: ignore[override]
        self.receive = receive
        self.secret = secret
        self.max_bytes = max_bytes
        self.chunks: list[bytes] = []
        self.size = 0

    def prepare(self) -> None:
        if self.request.method != "POST":
            raise HTTPError(405)
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            logger.warning("webhook request refused: wrong or missing secret")
            raise HTTPError(403)
        declared = self.request.headers.get("Content-Length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            logger.warning("webhook request refused: body of %s bytes", declared)
            raise HTTPError(413)
        self.request.connection.set_max_body_size(self.max_bytes)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise HTTPError(413)
        self.chunks.append(chunk)

    async def post(self) -> None:
        try:
            data = json.loads(b"".join(self.chunks).decode("utf-8", "replace"))
        except ValueError:
            logger.warning("webhook request refused: body is not JSON")
            raise HTTPError(400) from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            logger.warning("webhook request refused: body is not an update")
            raise HTTPError(400)
        await self.receive(data)
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # A short body and no traceback, whatever the error.
        self.finish(f"{status_code}\n")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, HTTPError):
            return
        logger.error("webhook handler failed: %s", value)


def receiver(application: App) -> Receive:
    """Store, then queue: the update is on disk before Telegram hears it arrived."""
    wiring = application.bot_data.wiring
    inbox = wiring.inbox

    async def receive(data: dict[str, Any]) -> None:
        update_json = clean(data)
        try:
            stored = await when_free(
                lambda: inbox.accept([update_json]), wiring.settings.db_patience
            )
        except StorageBusy:
            # No 200 for an update not on disk: Telegram sends it again later.
            logger.warning("webhook update refused for now: the database is locked")
            raise HTTPError(503) from None
        if not stored:
            return  # sent again after a restart: already stored
        update = parse_update(update_json, application.bot)
        if update is None:
            inbox.skip(int(update_json["update_id"]), update_json)
            return
        await application.update_queue.put(update)

    return receive


def build_server(application: App, path: str, secret: str, max_bytes: int) -> HTTPServer:
    routes = [
        (
            f"/{path.lstrip('/')}",
            UpdateHandler,
            {"receive": receiver(application), "secret": secret, "max_bytes": max_bytes},
        )
    ]
    # The server-wide cap is a backstop; the handler refuses oversized bodies before reading.
    return HTTPServer(TornadoApp(routes), max_body_size=max_bytes, xheaders=True)


async def serve(application: App, settings: Settings) -> None:
    assert settings.webhook_url
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await post_init(application)
    await application.start()
    server = build_server(
        application,
        urlparse(settings.webhook_url).path,
        secret,
        settings.webhook_max_bytes,
    )
    server.listen(settings.port, address=settings.listen)
    await application.bot.set_webhook(
        settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
    )
    logger.info("webhook listening on %s:%d", settings.listen, settings.port)
    try:
        await stop.wait()
    finally:
        server.stop()
        await application.stop()
        await application.shutdown()
        await post_shutdown(application)


def run_webhook(application: App, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_until_complete(serve(application, settings))
    finally:
        loop.close()
