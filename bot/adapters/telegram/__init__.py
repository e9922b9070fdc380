"""The Telegram adapter: python-telegram-bot wiring, handlers and the reminder tick.

Every module of the adapter imports this package first, so python-telegram-bot and the HTTP
client under it are imported here, without extras they load whenever installed and the bot
never uses: httpx's command line (`httpx._main`: click, rich, pygments), trio (httpcore's locks
for programs that run on trio; the bot runs on asyncio), cryptography (Telegram Passport; the
bot never asks for passport data) and tornado (python-telegram-bot's own webhook server; webhook
mode here runs its own, see webhook.py, which imports tornado when it is used). Together they
cost 0.15-0.25 s of every start. See `backchain.imports.without`.
"""

from backchain.imports import without

with without("httpx._main", "trio", "cryptography", "tornado"):
    import httpcore  # noqa: F401  (httpx imports it only when the first client is built)
    import httpx  # noqa: F401
    import telegram  # noqa: F401
    import telegram.ext  # noqa: F401
