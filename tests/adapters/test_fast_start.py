"""The bot's start does no needless work: one TLS context, no extras it never uses."""

from __future__ import annotations

import ssl
import subprocess
import sys

from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.telegram.app import build_application
from backchain.bot.chat.services import Services

TOKEN = "123456:START-TEST"


def test_both_http_clients_share_one_tls_context_that_verifies(services: Services) -> None:
    app = build_application(Settings(token=TOKEN), services)
    polling, sending = app.bot._request
    contexts = [
        request._client._transport._pool._ssl_context  # what httpx connects with
        for request in (polling.inner, sending)  # type: ignore[attr-defined]
    ]
    assert contexts[0] is contexts[1]
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
    assert contexts[0].cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded


def test_the_adapter_loads_no_extra_it_never_uses_and_they_still_work_after() -> None:
    script = """
import asyncio, sys
import backchain.bot.adapters.telegram.app
import httpx
async def build():
    async with httpx.AsyncClient() as client:
        return client
asyncio.run(build())
extras = ("trio", "rich", "pygments", "httpx._main", "cryptography", "tornado")
unused = [m for m in extras if m in sys.modules]
assert unused == [], unused
# Whichever extras are installed still import and work: nothing is left marked missing.
import importlib.util
def installed(*names):
    return all(importlib.util.find_spec(name) is not None for name in names)
if installed("trio"):
    import trio
    assert trio.run(trio.sleep, 0) is None
if installed("click", "rich", "pygments"):
    import httpx._main
    assert callable(httpx._main.main)
if installed("cryptography"):
    from cryptography.hazmat.primitives.hashes import SHA256, Hash
    digest = Hash(SHA256())
    digest.update(b"backchain")
    assert len(digest.finalize()) == 32
from backchain.bot.adapters.telegram.webhook import run_webhook  # its own tornado server
import tornado.web
assert callable(run_webhook) and tornado.web.Application
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
