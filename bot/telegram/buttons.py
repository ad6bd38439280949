"""The buttons under answers: "Another passage", 👍 / 👎, and suggested questions."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.telegram.fitting import fit_messages
from bot.telegram.questions import answer_html, answer_keyboard, answer_question, vote_row
from bot.telegram.sending import SLOW_DOWN, send_in_turn, sender_verdict, unchanged_ok
from bot.telegram.state import Context, Notify, State, state_of
from bot.telegram.support import Asked, ButtonData

logger = logging.getLogger(__name__)


async def on_button(update: Update, context: Context) -> None:
    """Handle the buttons under answers: another passage, 👍 / 👎, and suggested questions.

    Every press gets its callback answered (a short text, or nothing), so no button keeps spinning,
    whatever happens to the rest of the handling.
    """
    query = update.callback_query
    if query is None:
        return
    answered = False

    async def notify(text: str | None = None) -> bool:
        nonlocal answered
        answered = True
        return await query.answer(text)

    try:
        await _press(state_of(context), update, context, notify)
    finally:
        if not answered:
            with contextlib.suppress(TelegramError):
                await query.answer()


async def _press(state: State, update: Update, context: Context, notify: Notify) -> None:
    """The work of a button press: checks, then the action it asks for."""
    query = update.callback_query
    assert query is not None
    verdict = sender_verdict(state, update)
    if verdict != "ok":
        await notify(SLOW_DOWN if verdict == "warn" else None)
        return
    data = ButtonData.parse(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if data is None or message is None:
        await notify("This button no longer works; please ask your question again.")
        return
    asked = state.store.get(data.key)
    if asked is None:
        await notify("This button has expired; please ask your question again.")
        return
    if data.action in ("up", "down"):
        await _vote(state, query.from_user, asked, data, notify)
        return
    if data.action == "ask":
        if data.number >= len(asked.suggestions):
            await notify("This button no longer works; please ask your question again.")
            return
        await notify()
        await answer_question(context, message, asked.suggestions[data.number], shown=True)
        return
    await _another_passage(state, message, asked, data, notify)


async def _another_passage(state: State, message: Message, asked: Asked, data: ButtonData, notify: Notify) -> None:
    """Edit the next-best passage into the answer, or say there is none and drop the button."""
    library = state.library
    rank = data.number
    if rank - 1 not in asked.passages:  # not under a shown passage: forged or from an old layout
        await notify("This button no longer works; please ask your question again.")
        return
    if rank > library.settings.candidates:
        await notify("There is no other passage of the article that answers this.")
        return
    result = await asyncio.to_thread(library.ask, asked.question, rank, via="another passage")
    if not result.found:
        await notify("There is no other passage of the article that answers this.")
        markup = InlineKeyboardMarkup([vote_row(data.key, rank - 1)])
        with contextlib.suppress(TelegramError):
            drop = unchanged_ok(lambda: message.edit_reply_markup(markup))
            await send_in_turn(state, message.chat_id, drop, "edit", None)
        return
    asked.passages[rank] = result.passage_id
    text = fit_messages(answer_html(result, state, asked.question if asked.shown else None))[0]
    keyboard = answer_keyboard(data.key, rank)
    edit = unchanged_ok(lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard))
    await send_in_turn(state, message.chat_id, edit, "editMessageText", None)
    await notify(f"Passage {rank + 1}")
    logger.info("another passage chat=%s rank=%d", asked.chat_type, rank)


async def _vote(state: State, user: User, asked: Asked, data: ButtonData, notify: Notify) -> None:
    """Record 👍 or 👎 for the passage shown at this rank, once per reader."""
    passage_id = asked.passages.get(data.number)
    if passage_id is None:
        await notify("This button has expired; please ask your question again.")
        return
    if (user.id, data.number) in asked.voters:
        await notify("You have already voted on this passage, thank you.")
        return
    asked.voters.add((user.id, data.number))
    if state.feedback is not None:
        try:
            await asyncio.to_thread(
                state.feedback.append,
                user_id=user.id,
                chat_type=asked.chat_type,
                question=asked.question,
                passage_id=passage_id,
                vote=data.action,
            )
        except OSError as exc:
            logger.error("cannot write feedback to %s: %s", state.feedback.path, exc)
    state.votes[data.action] += 1
    logger.info("feedback vote=%s chat=%s", data.action, asked.chat_type)
    await notify("Thank you for the feedback!")
