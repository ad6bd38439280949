"""Sending replies: split to Telegram's limits, within each chat's budget, and the per-sender limit."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.telegram.fairness import sender_key
from bot.telegram.fitting import fit_messages
from bot.telegram.state import Done, Send, State
from bot.telegram.support import Verdict, deliver

logger = logging.getLogger(__name__)

SLOW_DOWN: Final = "You are asking faster than I can keep up with; please wait a minute and ask again."


async def reply(
    state: State,
    message: Message,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    quote: bool = True,
    preview: bool = False,
    done: Done | None = None,
) -> None:
    """Send HTML to the message's chat (as a reply to it when quote), split if too long for Telegram.

    The chat's sending budget decides when (see sending.send_in_turn); the buttons go under the last part.
    """
    reply = ReplyParameters(message.message_id, allow_sending_without_reply=True) if quote else None
    parts = fit_messages(text)
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        send = message_sender(message, part, reply, markup if last else None, preview)
        await send_in_turn(state, message.chat_id, send, "sendMessage", done if last else None)


def message_sender(
    message: Message, text: str, reply: ReplyParameters | None, markup: InlineKeyboardMarkup | None, preview: bool
) -> Callable[[], Awaitable[Message]]:
    """The sendMessage call for one reply, ready to be made (and, when safe, made again)."""
    return lambda: message.get_bot().send_message(
        chat_id=message.chat_id,
        text=text,
        parse_mode=ParseMode.HTML,
        reply_parameters=reply,
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=not preview),
    )


async def send_in_turn(state: State, chat_id: int, send: Send, what: str, done: Done | None) -> None:
    """Send now if the chat's budget allows; else book the send and let it wait in the background.

    Waiting for a busy group's budget here would hold one of the application's concurrent-update
    slots, and every other chat would queue behind that group. A group so busy that its answers
    would wait more than a couple of minutes gets none: Telegram would refuse them anyway.
    """
    wait = state.budgets.reserve(chat_id)
    if wait is None:
        logger.info("%s skipped: chat %s has used its sending budget for the next minutes", what, chat_id)
        if done is not None:
            done(False)
        return
    if wait > 0 and state.spawn is not None:
        state.spawn(send_later(state, wait, send, what, done))
        return
    sent = False
    try:
        if wait > 0:  # no background runner (tests building handlers by hand): wait here
            await asyncio.sleep(wait)
        await deliver(send, what)
        sent = True
    finally:
        if done is not None:
            done(sent)


async def send_later(state: State, wait: float, send: Send, what: str, done: Done | None) -> None:
    """A booked send: wait for the group's budget (giving up if the bot stops), then send; log a failure."""
    sent = False
    try:
        if await state.budgets.wait(wait):
            await deliver(send, what)
            sent = True
        else:
            logger.warning("%s not sent: the bot is stopping and the group's sending budget was used up", what)
    except Forbidden as exc:
        logger.info("%s: the bot was removed from the group: %s", what, exc)
    except TelegramError as exc:
        logger.error("%s: Telegram refused a request: %s", what, exc)
    finally:
        if done is not None:
            done(sent)


async def typing(state: State, message: Message) -> None:
    """Show "typing…" in the chat (in a group only if its budget leaves room for the answer too)."""
    if state.budgets.reserve(message.chat_id, keep=1) is None:
        return
    try:
        await message.get_bot().send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError as exc:
        logger.debug("typing indicator not shown: %s", exc)


def unchanged_ok(edit: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
    """An edit for which Telegram's "message is not modified" is success: the message already shows it
    (the reader pressed the same button twice before the first edit arrived)."""

    async def run() -> object:
        try:
            return await edit()
        except BadRequest as exc:
            if "not modified" not in str(exc).casefold():
                raise
            logger.debug("edit left the message as it was: %s", exc)
            return True

    return run


async def limited(state: State, update: Update, message: Message) -> bool:
    """Apply the per-sender limit to anything the bot would answer: True means do not answer.

    One limit covers questions, commands, inline queries and buttons, counted per real sender (the
    chat an anonymous admin or a channel speaks for, else the user). The first refusal says
    "slow down" once; later ones are silent until the sender's oldest request leaves the window.
    """
    verdict = sender_verdict(state, update)
    if verdict == "warn" and message is not None:
        await reply(state, message, html.escape(SLOW_DOWN))
    return verdict != "ok"


def sender_verdict(state: State, update: Update) -> Verdict:
    """Count an update against its sender's limit: "ok", or "warn" / "silent" when over it."""
    key = sender_key(update)
    verdict = state.limiter.check(key) if key is not None else "ok"
    if verdict != "ok":
        logger.debug("update %s: over the per-sender limit (%s)", update.update_id, verdict)
    return verdict
