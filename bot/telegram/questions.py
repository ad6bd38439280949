"""Questions: private messages, addressed group messages and /ask, answered with buttons."""

from __future__ import annotations

import asyncio
import html
import logging
import time
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import render
from bot.library import Answer
from bot.telegram.fitting import BUTTON_CHARS
from bot.telegram.sending import limited, reply, typing
from bot.telegram.state import Context, State, state_of
from bot.telegram.support import Asked, ButtonData, addressed_text

logger = logging.getLogger(__name__)

# "typing…" is shown only for an answer not ready after this long: it would flash for nothing (and
# spend a group's sending budget) on the usual answer of a few milliseconds.
TYPING_AFTER: Final = 1.0
SHOWN_QUESTION_CHARS: Final = 200


def answer_keyboard(key: str, rank: int) -> InlineKeyboardMarkup:
    """Buttons under an answer: the next-best passage, and feedback on this one."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Another passage", callback_data=ButtonData("more", rank + 1, key).encode())],
            vote_row(key, rank),
        ]
    )


def vote_row(key: str, rank: int) -> list[InlineKeyboardButton]:
    """The 👍 / 👎 buttons for the passage shown at this rank."""
    return [
        InlineKeyboardButton("👍", callback_data=ButtonData("up", rank, key).encode()),
        InlineKeyboardButton("👎", callback_data=ButtonData("down", rank, key).encode()),
    ]


def suggestion_keyboard(key: str, suggestions: tuple[str, ...]) -> InlineKeyboardMarkup | None:
    """One button per example question (its text shortened); pressing it asks that question."""
    rows = [
        [InlineKeyboardButton(render.shorten(question, BUTTON_CHARS), callback_data=ButtonData("ask", i, key).encode())]
        for i, question in enumerate(suggestions[:10])
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def answer_html(result: Answer, state: State, shown_question: str | None) -> str:
    """The reply text: the answer, headed by the question when the reader did not type it."""
    text = render.to_html(result, state.max_question_chars)
    if shown_question is None:
        return text
    question = render.shorten(shown_question, SHOWN_QUESTION_CHARS)
    return f"❓ <i>{html.escape(question)}</i>\n\n{text}"


async def answer_question(context: Context, message: Message, question: str, *, shown: bool = False) -> None:
    """Answer a question in the message's chat as a reply to it, with buttons; log one line."""
    state = state_of(context)
    started = time.perf_counter()
    work = asyncio.ensure_future(asyncio.to_thread(state.library.ask, question))
    try:
        await asyncio.wait_for(asyncio.shield(work), TYPING_AFTER)
    except TimeoutError:  # a slow answer: show "typing…" (it goes out before the answer, so never lingers)
        await typing(state, message)
    result = await work
    asked = Asked(question, message.chat.type, suggestions=result.suggestions, shown=shown)
    if result.found:
        asked.passages[0] = result.passage_id
    key = state.store.add(asked)
    markup = answer_keyboard(key, 0) if result.found else suggestion_keyboard(key, result.suggestions)

    def logged(sent: bool) -> None:
        latency = (time.perf_counter() - started) * 1000
        logger.info(
            "question chat=%s latency_ms=%.0f found=%s%s",
            message.chat.type,
            latency,
            result.found,
            "" if sent else " reply=failed",
        )

    await reply(state, message, answer_html(result, state, question if shown else None), markup, done=logged)


async def private_text(update: Update, context: Context) -> None:
    """Answer a text message in a private chat: all of it is the question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if not await limited(state_of(context), update, message):
        await answer_question(context, message, message.text)


async def group_text(update: Update, context: Context) -> None:
    """In a group, answer only a message that mentions the bot or replies to it; stay silent otherwise."""
    state = state_of(context)
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = addressed_text(message, state.username, state.bot_id)
    if question is None or await limited(state, update, message):
        return
    if not question:
        example = html.escape(state.example())
        await reply(state, message, f"Ask me about the story, for example: @{state.username} {example}")
        return
    await answer_question(context, message, question)


async def ask_command(update: Update, context: Context) -> None:
    """Answer /ask QUESTION, in any chat."""
    state = state_of(context)
    message = update.effective_message
    if message is None or message.text is None:
        return
    parts = message.text.split(maxsplit=1)
    question = parts[1].strip() if len(parts) > 1 else ""
    if await limited(state, update, message):
        return
    if not question:
        example = html.escape(state.example())
        await reply(state, message, f"Put your question after the command, for example:\n/ask {example}")
        return
    await answer_question(context, message, question)


async def not_text(update: Update, context: Context) -> None:
    """Tell a private reader who sent a sticker, photo or the like that questions are text."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    example = html.escape(state.example())
    await reply(state, message, f"I can only read text. Send me a question in words, for example: <i>{example}</i>")


async def unknown_command(update: Update, context: Context) -> None:
    """Point a private reader who typed an unknown command to /help."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    command = html.escape((message.text or "").split(maxsplit=1)[0][:64])
    await reply(state, message, f"I do not know {command}. /help lists what I can do.", quote=False)
