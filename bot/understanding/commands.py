"""Commands as people type them: "/remind 7:30", "/timezone UTC+2", "/start@BackchainBot"."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Telegram command names are letters, digits and underscores; anything else after "/" is
# still read as a (possibly unknown) command, so the user hears "unknown command".
_COMMAND = re.compile(r"^/([^\s@/]+)(?:@[^\s]*)?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: str  # lower-case, without "/" and without the bot's "@name"
    args: str = ""  # the rest of the line, trimmed


def parse_command(text: str) -> Command | None:
    """The command a line starts with, or None when it is not a command."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return Command(match.group(1).lower(), " ".join((match.group(2) or "").split()))
