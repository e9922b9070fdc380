"""Red-flag screening: symptoms that need a doctor before any self-massage advice.

Every message is screened before topic matching. The rules live in `content/red_flags.yaml` as
named concept lists in plain words and rules that combine concepts. The package has three parts:
`normalize` (a message becomes lower-case words and clause marks, with typing slips corrected),
`terms` and `loading` (the file's term language compiled to patterns, checked as it is read)
and `screen` (one message against the rules: the most severe red flag, or none).
"""

from backchain.bot.understanding.redflags.loading import load_red_flags
from backchain.bot.understanding.redflags.normalize import normalize
from backchain.bot.understanding.redflags.screen import LEVELS, RedFlag, RedFlagScreen

__all__ = ["LEVELS", "RedFlag", "RedFlagScreen", "load_red_flags", "normalize"]
