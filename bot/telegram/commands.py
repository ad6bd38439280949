"""The readers' commands: /start (with the deep link ?start=help), /help and /source."""

from __future__ import annotations

import html

from telegram import Chat, Message, Update

from bot import render
from bot.telegram import desk
from bot.telegram.fitting import START_DOCUMENTS
from bot.telegram.sending import limited, reply
from bot.telegram.state import Context, State, state_of


async def start(update: Update, context: Context) -> None:
    """Say what the bot is, with one example question (the deep link ?start=help shows /help)."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    if context.args and context.args[0] == "help":
        await show_help(state, update, message)
        return
    documents = state.library.documents
    about = ", ".join(
        f"{render.title_link(d)} ({html.escape(render.shorten(d.publisher, render.TELEGRAM_TITLE_CHARS))}, "
        f"{render.human_date(d.published)})"
        for d in documents[:START_DOCUMENTS]
    )
    if len(documents) > START_DOCUMENTS:
        about += f" and {len(documents) - START_DOCUMENTS} more (/source lists them all)"
    example = html.escape(render.shorten(state.example(), render.TELEGRAM_TITLE_CHARS))
    text = (
        f"I answer questions about one news story: {about}.\n\n"
        "Ask in your own words and I reply with the passage of the article that answers you, "
        f"quoted, with a link to the article.\n\nFor example: <i>{example}</i>\n\n/help shows more."
    )
    await reply(state, message, text, quote=message.chat.type != Chat.PRIVATE)


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask, with example questions."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    await show_help(state, update, message)


async def show_help(state: State, update: Update, message: Message) -> None:
    """Send the help text: how to ask, example questions (shortened), admin commands for admins."""
    name = html.escape(state.username)
    examples = "\n".join(f"• {html.escape(render.shorten(q, render.TELEGRAM_TITLE_CHARS))}" for q in state.examples())
    text = (
        "<b>How to ask</b>\n"
        "In this chat, just send a question in plain words.\n"
        f"In a group: /ask QUESTION, or mention me (@{name} QUESTION), or reply to one of my messages.\n"
        f"In any chat: type @{name} and your question to share a passage.\n\n"
        "Under each answer, <i>Another passage</i> shows the next-best passage, and 👍 / 👎 tell us "
        "whether it helped.\n\n"
        f"<b>Example questions</b>\n{examples}\n\n"
        "/source shows the article answers come from."
    )
    if update.effective_user and update.effective_user.id in state.config.telegram.admins:
        text += "\n\n<b>Admin</b>\n/reload re-reads the corpus folder\n/stats shows usage since the start"
        text += f"\n{html.escape(desk.HELP)}"
    await reply(state, message, text, quote=message.chat.type != Chat.PRIVATE)


async def source(update: Update, context: Context) -> None:
    """Show the article(s) answers come from: title, publisher, date and link (several messages if many)."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    text = render.source_html(state.library.documents, state.library.settings.excerpt_chars)
    await reply(state, message, text, quote=message.chat.type != Chat.PRIVATE, preview=True)
