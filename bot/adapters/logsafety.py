"""Keeping the bot token out of every log line."""

from __future__ import annotations

import logging


class TokenRedactor(logging.Filter):
    """Replaces the token wherever it appears in a record's message or arguments."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self.token in text:
                record.exc_text = text.replace(self.token, "<token>")
        return True


def install_token_redaction(token: str) -> None:
    """Attach the redactor to every handler of the root logger."""
    redactor = TokenRedactor(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
