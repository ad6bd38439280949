"""A bare python-telegram-bot echo bot, the yardstick of the Telegram benchmark.

TELEGRAM_BOT_TOKEN=... python -m benchmarks.echo_bot API_BASE_URL
"""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the message's own text."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def main() -> None:
    """Poll the Bot API at the given address until SIGTERM."""
    application = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(sys.argv[1]).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
