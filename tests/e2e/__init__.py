"""End-to-end tests: the real bot process against a fake Telegram Bot API on 127.0.0.1."""
