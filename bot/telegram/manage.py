"""Corpus management on Telegram, wired: the admins' handlers and their buttons."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.config import Config
from bot.library import Library
from bot.render import shorten
from bot.telegram.adding import add_command, confirm_add, document_received
from bot.telegram.desk import CALLBACK_PATTERN, DESK_KEY, AdminDesk, desk_of, edit_html
from bot.telegram.removing import articles_command, confirm_remove, remove_command
from bot.telegram.state import Context

logger = logging.getLogger(__name__)


def install(application: Application[Any, Any, Any, Any, Any, Any], config: Config, library: Library) -> None:
    """Put the desk in bot_data and add its handlers (call before the other handlers, which catch all)."""
    application.bot_data[DESK_KEY] = AdminDesk(config, library)
    new = filters.UpdateType.MESSAGE
    from_admin = filters.User(user_id=config.telegram.admins)
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler("add", add_command, filters=new),
        CommandHandler("articles", articles_command, filters=new),
        CommandHandler("remove", remove_command, filters=new),
        # Only admins' documents reach this; anyone else's go on to the "I can only read text" reply.
        MessageHandler(new & filters.ChatType.PRIVATE & filters.Document.ALL & from_admin, document_received),
        CallbackQueryHandler(on_admin_button, pattern=CALLBACK_PATTERN),
    ]
    application.add_handlers(handlers)


async def on_admin_button(update: Update, context: Context) -> None:
    """Handle the admin buttons: add or cancel a previewed article, pick and confirm a removal."""
    query = update.callback_query
    if query is None:
        return
    desk = desk_of(context)
    message = query.message if isinstance(query.message, Message) else None
    if query.from_user.id not in desk.config.telegram.admins:
        await query.answer("Only the bot's admins can use these buttons.")
        return
    _, _, rest = (query.data or "").partition(":")
    action, _, key = rest.partition(":")
    pending = desk.take(key)
    if pending is None or message is None:
        await query.answer("This button has expired; please start again.")
        return
    await query.answer()
    who = query.from_user.id
    if action == "no":
        logger.info("admin user=%d action=cancel source=%r", who, pending.source)
        await edit_html(message, "Cancelled: nothing was added.")
    elif action == "add" and pending.article is not None:
        await confirm_add(message, desk, who, pending)
    elif action == "pick" and pending.action == "remove":
        key = desk.put(pending)
        markup = InlineKeyboardMarkup(
            [[
                InlineKeyboardButton("Remove", callback_data=f"adm:del:{key}"),
                InlineKeyboardButton("Keep", callback_data=f"adm:keep:{key}"),
            ]]
        )
        text = (
            f"Remove <b>{html.escape(shorten(pending.title, 300))}</b> "
            f"(<code>{html.escape(pending.source)}</code>)? The bot will stop answering from it."
        )
        await edit_html(message, text, markup)
    elif action == "keep":
        logger.info("admin user=%d action=keep file=%r", who, pending.source)
        await edit_html(message, "Kept: nothing was removed.")
    elif action == "del" and pending.action == "remove":
        await confirm_remove(message, desk, who, pending)
    else:
        await edit_html(message, "This button no longer works; please start again.")
