"""The Telegram adapter: python-telegram-bot wiring, handlers and the reminder tick."""
