"""Logging set-up: plain or JSON lines, and the bot token kept out of every line."""

from __future__ import annotations

import json
import logging
import time


def redact(text: str, token: str) -> str:
    """`text` with the token, and its secret half, replaced."""
    if not token:
        return text
    secret = token.split(":", 1)[-1]
    text = text.replace(token, "<token>")
    return text.replace(secret, "<token>") if len(secret) >= 8 else text


def redacted_token(token: str) -> str:
    """What may be shown of a token: the bot id, never the secret."""
    bot_id = token.split(":", 1)[0] if ":" in token else ""
    return f"{bot_id}:<redacted>" if bot_id.isdigit() else "<redacted>"


class TokenRedactor(logging.Filter):
    """Replaces the token wherever it appears in a record's message or arguments."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token
        self.secret = token.split(":", 1)[-1]

    def _has_token(self, text: str) -> bool:
        return self.token in text or (len(self.secret) >= 8 and self.secret in text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._has_token(message):
            record.msg = redact(message, self.token)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self._has_token(text):
                record.exc_text = redact(text, self.token)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(token: str | None, *, json_lines: bool = False) -> None:
    """Root logging for the bot: INFO, plain or JSON, token redacted, httpx quiet."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    if token:
        install_token_redaction(token)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("tornado.access").setLevel(logging.WARNING)


def install_token_redaction(token: str) -> None:
    """Attach the redactor to every handler of the root logger."""
    redactor = TokenRedactor(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
