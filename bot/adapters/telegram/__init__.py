"""The Telegram adapter: python-telegram-bot wiring, handlers and the reminder tick.

Every module of the adapter imports this package first, so the HTTP client under
python-telegram-bot is imported here, without two extras it loads whenever they are installed
and the bot never uses: httpx's command line (`httpx._main`: click, rich, pygments) and trio
(httpcore's locks for programs that run on trio; the bot runs on asyncio). Together they cost
0.1-0.2 s of every start. See `backchain.imports.without`.
"""

from backchain.imports import without

with without("httpx._main", "trio"):
    import httpcore  # noqa: F401  (httpx imports it only when the first client is built)
    import httpx  # noqa: F401
