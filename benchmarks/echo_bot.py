"""The yardstick for `benchmarks.load`: a minimal python-telegram-bot echo bot.

Run: python -m benchmarks.echo_bot --api-url http://127.0.0.1:PORT/bot (token in
TELEGRAM_BOT_TOKEN). It echoes every text and answers every button press with a message, with
the library's defaults, as in its own echobot example.
"""

from __future__ import annotations

import argparse
import os

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text back."""
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the query and say which button it was."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await context.bot.send_message(query.from_user.id, f"pressed {query.data}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    base = args.api_url.rstrip("/")
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base)
        .base_file_url(base.removesuffix("/bot") + "/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
