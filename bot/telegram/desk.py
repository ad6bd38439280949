"""The admins' corpus desk: what it keeps between a preview and its confirmation, and how it replies."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Final, Literal

from telegram import BotCommand, Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.config import Config
from bot.library import Article, Library
from bot.telegram.admin import is_admin
from bot.telegram.state import Context
from bot.telegram.support import deliver

logger = logging.getLogger(__name__)

DESK_KEY: Final = "talksbot-admin"
CALLBACK_PATTERN: Final = r"^adm:"

COMMANDS: Final = (
    BotCommand("add", "Import an article from a web address"),
    BotCommand("articles", "List the articles the bot answers from"),
    BotCommand("remove", "Remove an article"),
)
HELP: Final = (
    "/add URL imports a web page as a new article (or send me an .html, .txt or .md file); "
    "you see a preview first\n/articles lists the articles\n/remove removes one"
)
PENDING_SECONDS: Final = 3600
PENDING_MAX: Final = 200
SHOWN_PASSAGE_CHARS: Final = 500
LISTED_ARTICLES: Final = 50
MAX_REPLY_CHARS: Final = 4000
Action = Literal["add", "remove"]


@dataclass(frozen=True)
class Pending:
    """An action an admin was shown and may confirm: an article to add, or a document to remove."""

    action: Action
    admin: int
    source: str  # what the admin sent: a file name or a URL (for the log)
    article: Article | None = None
    doc_id: str = ""
    title: str = ""
    created: float = field(default_factory=time.monotonic)


class AdminDesk:
    """The admin feature's state, kept in bot_data: the config, the library and the pending confirmations."""

    def __init__(self, config: Config, library: Library) -> None:
        """Serve the admins in config.telegram.admins over this library's corpus folder."""
        self.config = config
        self.library = library
        self._pending: dict[str, Pending] = {}

    def put(self, pending: Pending) -> str:
        """Remember an action until it is confirmed or cancelled; return its key for the buttons."""
        now = time.monotonic()
        for key in [k for k, p in self._pending.items() if now - p.created > PENDING_SECONDS]:
            del self._pending[key]
        while len(self._pending) >= PENDING_MAX:
            del self._pending[next(iter(self._pending))]
        key = secrets.token_urlsafe(9)
        self._pending[key] = pending
        return key

    def take(self, key: str) -> Pending | None:
        """Forget and return the action behind a button (None if unknown or expired)."""
        pending = self._pending.pop(key, None)
        if pending is None or time.monotonic() - pending.created > PENDING_SECONDS:
            return None
        return pending



def desk_of(context: Context) -> AdminDesk:
    """The admin desk kept in bot_data."""
    desk = context.bot_data[DESK_KEY]
    assert isinstance(desk, AdminDesk)
    return desk


async def send_html(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send HTML to the message's chat, retrying when that is safe."""
    return await deliver(
        lambda: message.get_bot().send_message(
            chat_id=message.chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup
        ),
        "sendMessage",
    )


async def edit_html(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a preview's text and buttons with the outcome (a message too old to edit gets a new one)."""
    try:
        await deliver(
            lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup), "editMessageText"
        )
    except TelegramError as exc:
        logger.warning("cannot edit the admin message, sending a new one: %s", exc)
        await send_html(message, text, markup)


async def admin_message(update: Update, context: Context, what: str) -> Message | None:
    """The message of an admin's command in a private chat; anyone else is told why not (None)."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return None
    if not is_admin(update, desk_of(context).config.telegram.admins):
        await send_html(message, f"Sorry, only the bot's admins can {what}.")
        return None
    if message.chat.type != Chat.PRIVATE:
        await send_html(message, f"Please {what} in a private chat with me.")
        return None
    return message
