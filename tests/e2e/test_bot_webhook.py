"""Webhook mode end to end: the secret and the size are checked before the body is read."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import aiohttp

from .conftest import BotLauncher, BotProcess
from .fake_bot_api import FakeBotApi
from .flows import stop_cleanly
from .user import SimulatedUser

SECRET = "webhook-secret-for-tests"
TEN_MB = 10 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def post(
    url: str, body: bytes, secret: str | None, content_type: str = "application/json"
) -> int | str:
    """The HTTP status, or the name of the connection error when the server hung up."""
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def start_webhook_bot(
    bot_process: BotLauncher, tmp_path: Path, **extra_env: str
) -> tuple[BotProcess, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    env = {
        "BACKCHAIN_WEBHOOK_SECRET": SECRET,
        "BACKCHAIN_FILES_DIR": str(tmp_path / "files"),
        **extra_env,
    }
    bot = await bot_process(
        "--webhook-url",
        url,
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        wait_ready=False,
        db_path=tmp_path / "backchain.db",
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if await post(url, b"{}", "wrong") == 403:
            return bot, url
        await asyncio.sleep(0.2)
    raise AssertionError(f"the webhook never listened\n{bot.log_tail()}")


def update_json(update_id: int, user: SimulatedUser, text: str) -> bytes:
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user.chat_id, "type": "private", "first_name": user.first_name},
        "from": {"id": user.user_id, "is_bot": False, "first_name": user.first_name},
        "text": text,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_webhook_checks_secret_and_size_before_reading_and_answers_the_rest(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot, url = await start_webhook_bot(bot_process, tmp_path)
    assert fake_api.calls_to("setWebhook")[-1].params["secret_token"] == SECRET

    assert await post(url, update_json(1, user, "why does my hip hurt"), SECRET) == 200
    assert "hip" in ((await user.next_reply(timeout=15)).text or "").lower()
    # The same update again (Telegram retries when it missed the 200): stored once, answered once.
    assert await post(url, update_json(1, user, "why does my hip hurt"), SECRET) == 200
    assert await post(url, update_json(2, user, "why does my hip hurt"), None) == 403
    assert await post(url, update_json(3, user, "why does my hip hurt"), "wrong") == 403
    assert await post(url, b"{not json", SECRET) == 400
    assert await post(url, b'["a list"]', SECRET) == 400
    big = b"x" * TEN_MB
    assert await post(url, big, SECRET) in (413, "ClientOSError", "ServerDisconnectedError")

    before = rss_mb(bot.pid or 0)
    statuses = await asyncio.gather(*(post(url, big, "wrong") for _ in range(10)))
    after = rss_mb(bot.pid or 0)
    seen = sorted(set(map(str, statuses)))
    print(f"\nwebhook: ten parallel 10 MB POSTs with a wrong secret -> {seen}")
    print(f"RSS {before:.0f} MB before, {after:.0f} MB after (+{after - before:.1f} MB)")
    assert all(status in (403, "ClientOSError", "ServerDisconnectedError") for status in statuses)
    assert after - before < 20

    await asyncio.sleep(0.5)
    assert len(user.unread()) == 0  # the repeated update was not answered twice
    assert "Traceback" not in bot.logs()
    await stop_cleanly(bot)


async def test_webhook_under_a_locked_database_answers_503_and_the_retry_is_handled(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot, url = await start_webhook_bot(bot_process, tmp_path, BACKCHAIN_DB_PATIENCE="1")
    db_path = tmp_path / "backchain.db"
    body = update_json(10, user, "why does my hip hurt")
    with closing(sqlite3.connect(db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        status = await post(url, body, SECRET)
        other.execute("ROLLBACK")
    print(f"\nwebhook update under a database lock -> {status}; Telegram's retry -> 200")
    assert status == 503  # not on disk, so not confirmed: Telegram sends it again
    assert await post(url, body, SECRET) == 200
    assert "hip" in ((await user.next_reply(timeout=15)).text or "").lower()
    await asyncio.sleep(0.5)
    assert len(user.unread()) == 0
    assert "Traceback" not in bot.logs()
    await stop_cleanly(bot)
