"""The Telegram bot: readers ask in private chats, groups and inline mode; admins reload the corpus.

`build_application()` wires the handlers below into a python-telegram-bot Application and
`run_telegram()` runs it, long polling by default or on a webhook when telegram.webhook.url is set.
Blocking work (answering, reloading) runs in threads, off the event loop; state lives in one
`State` object in bot_data; every reply is Telegram HTML built from escaped text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import logging
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import render, telegram_admin
from bot.answer import Answer, answer
from bot.config import Config
from bot.corpus import human_date
from bot.errors import TalksbotError
from bot.library import Library
from bot.logsafety import install_invalid_reply_filter, install_redaction
from bot.telegram_fairness import ChatBudgets, sender_key
from bot.telegram_reload import Reloader, StartupSignals
from bot.telegram_support import (
    Asked,
    ButtonData,
    FeedbackLog,
    QuestionStore,
    UserRateLimiter,
    Verdict,
    addressed_text,
    deliver,
)
from bot.telegram_text import BUTTON_CHARS, START_DOCUMENTS, fit_messages

logger = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE
Notify = Callable[..., Awaitable[bool]]  # CallbackQuery.answer: a short text for the pressing reader
Spawn = Callable[[Coroutine[Any, Any, None]], object]  # Application.create_task: stop() waits for these
Done = Callable[[bool], None]  # told whether a reply went out, once it did or did not

TOKEN_VARIABLE: Final = "TELEGRAM_BOT_TOKEN"
SECRET_VARIABLE: Final = "TELEGRAM_WEBHOOK_SECRET"
ALLOWED_UPDATES: Final = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)
INLINE_RESULTS: Final = 3
# "typing…" is shown only for an answer not ready after this long: it would flash for nothing (and
# spend a group's sending budget) on the usual answer of a few milliseconds.
TYPING_AFTER: Final = 1.0
SHOWN_QUESTION_CHARS: Final = 200
SLOW_DOWN: Final = "You are asking faster than I can keep up with; please wait a minute and ask again."
PUBLIC_COMMANDS: Final = (
    BotCommand("start", "What this bot is"),
    BotCommand("help", "How to ask, with example questions"),
    BotCommand("source", "The article answers come from"),
    BotCommand("ask", "Ask a question (in groups: /ask QUESTION)"),
)
ADMIN_COMMANDS: Final = (
    BotCommand("reload", "Re-read the corpus folder"),
    BotCommand("stats", "Questions, refusals, feedback, uptime"),
    *telegram_admin.COMMANDS,
)
_STATE_KEY: Final = "talksbot"


@dataclass
class State:
    """Everything the handlers share, kept in bot_data: the library and the adapter's own memory."""

    config: Config
    library: Library
    store: QuestionStore = field(default_factory=QuestionStore)
    limiter: UserRateLimiter = field(default_factory=lambda: UserRateLimiter(20))
    feedback: FeedbackLog | None = None
    votes: Counter[str] = field(default_factory=Counter)
    username: str = ""
    bot_id: int = 0
    budgets: ChatBudgets = field(default_factory=ChatBudgets)
    spawn: Spawn | None = None  # runs a send that waits for a group's budget, outside the update's slot
    reloader: Reloader | None = None
    startup_signals: StartupSignals | None = None  # SIGHUPs caught before the event loop ran

    @property
    def max_question_chars(self) -> int:
        """The longest question the answer engine takes."""
        return self.library.settings.max_question_chars

    def examples(self) -> tuple[str, ...]:
        """Questions the corpus answers, for /start, /help and empty inline queries (at most ten)."""
        documents = self.library.knowledge.corpus.documents
        wanted = min(max(self.library.settings.suggestions, 1), 10)
        return tuple(q for doc in documents for q in doc.questions)[:wanted]

    def example(self) -> str:
        """One question the corpus answers."""
        return next(iter(self.examples()), "Who chaired the meeting?")


def _state(context: Context) -> State:
    state = context.bot_data[_STATE_KEY]
    assert isinstance(state, State)
    return state


# --- sending ---------------------------------------------------------------------------------------


async def _reply(
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

    The chat's sending budget decides when (see _send); the buttons go under the last part.
    """
    reply = ReplyParameters(message.message_id, allow_sending_without_reply=True) if quote else None
    parts = fit_messages(text)
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        send = _message_sender(message, part, reply, markup if last else None, preview)
        await _send(state, message.chat_id, send, "sendMessage", done if last else None)


def _message_sender(
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


Send = Callable[[], Awaitable[object]]


async def _send(state: State, chat_id: int, send: Send, what: str, done: Done | None) -> None:
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
        state.spawn(_send_later(state, wait, send, what, done))
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


async def _send_later(state: State, wait: float, send: Send, what: str, done: Done | None) -> None:
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


async def _typing(state: State, message: Message) -> None:
    """Show "typing…" in the chat (in a group only if its budget leaves room for the answer too)."""
    if state.budgets.reserve(message.chat_id, keep=1) is None:
        return
    try:
        await message.get_bot().send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError as exc:
        logger.debug("typing indicator not shown: %s", exc)


def _answer_keyboard(key: str, rank: int) -> InlineKeyboardMarkup:
    """Buttons under an answer: the next-best passage, and feedback on this one."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Another passage", callback_data=ButtonData("more", rank + 1, key).encode())],
            _vote_row(key, rank),
        ]
    )


def _vote_row(key: str, rank: int) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton("👍", callback_data=ButtonData("up", rank, key).encode()),
        InlineKeyboardButton("👎", callback_data=ButtonData("down", rank, key).encode()),
    ]


def _suggestion_keyboard(key: str, suggestions: tuple[str, ...]) -> InlineKeyboardMarkup | None:
    """One button per example question (its text shortened); pressing it asks that question."""
    rows = [
        [InlineKeyboardButton(render.shorten(question, BUTTON_CHARS), callback_data=ButtonData("ask", i, key).encode())]
        for i, question in enumerate(suggestions[:10])
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _answer_html(result: Answer, state: State, shown_question: str | None) -> str:
    """The reply text: the answer, headed by the question when the reader did not type it."""
    text = render.to_html(result, state.max_question_chars)
    if shown_question is None:
        return text
    question = render.shorten(shown_question, SHOWN_QUESTION_CHARS)
    return f"❓ <i>{html.escape(question)}</i>\n\n{text}"


# --- questions ---------------------------------------------------------------------------------------


async def _limited(state: State, update: Update, message: Message) -> bool:
    """Apply the per-sender limit to anything the bot would answer: True means do not answer.

    One limit covers questions, commands, inline queries and buttons, counted per real sender (the
    chat an anonymous admin or a channel speaks for, else the user). The first refusal says
    "slow down" once; later ones are silent until the sender's oldest request leaves the window.
    """
    verdict = _verdict(state, update)
    if verdict == "warn" and message is not None:
        await _reply(state, message, html.escape(SLOW_DOWN))
    return verdict != "ok"


def _verdict(state: State, update: Update) -> Verdict:
    """Count an update against its sender's limit: "ok", or "warn" / "silent" when over it."""
    key = sender_key(update)
    verdict = state.limiter.check(key) if key is not None else "ok"
    if verdict != "ok":
        logger.debug("update %s: over the per-sender limit (%s)", update.update_id, verdict)
    return verdict


async def _answer_question(context: Context, message: Message, question: str, *, shown: bool = False) -> None:
    """Answer a question in the message's chat as a reply to it, with buttons; log one line."""
    state = _state(context)
    started = time.perf_counter()
    work = asyncio.ensure_future(asyncio.to_thread(state.library.ask, question))
    try:
        await asyncio.wait_for(asyncio.shield(work), TYPING_AFTER)
    except TimeoutError:  # a slow answer: show "typing…" (it goes out before the answer, so never lingers)
        await _typing(state, message)
    result = await work
    asked = Asked(question, message.chat.type, suggestions=result.suggestions, shown=shown)
    if result.found:
        asked.passages[0] = result.passage_id
    key = state.store.add(asked)
    markup = _answer_keyboard(key, 0) if result.found else _suggestion_keyboard(key, result.suggestions)

    def logged(sent: bool) -> None:
        latency = (time.perf_counter() - started) * 1000
        logger.info(
            "question chat=%s latency_ms=%.0f found=%s%s",
            message.chat.type,
            latency,
            result.found,
            "" if sent else " reply=failed",
        )

    await _reply(state, message, _answer_html(result, state, question if shown else None), markup, done=logged)


async def private_text(update: Update, context: Context) -> None:
    """Answer a text message in a private chat: all of it is the question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if not await _limited(_state(context), update, message):
        await _answer_question(context, message, message.text)


async def group_text(update: Update, context: Context) -> None:
    """In a group, answer only a message that mentions the bot or replies to it; stay silent otherwise."""
    state = _state(context)
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = addressed_text(message, state.username, state.bot_id)
    if question is None or await _limited(state, update, message):
        return
    if not question:
        example = html.escape(state.example())
        await _reply(state, message, f"Ask me about the story, for example: @{state.username} {example}")
        return
    await _answer_question(context, message, question)


async def ask_command(update: Update, context: Context) -> None:
    """Answer /ask QUESTION, in any chat."""
    state = _state(context)
    message = update.effective_message
    if message is None or message.text is None:
        return
    parts = message.text.split(maxsplit=1)
    question = parts[1].strip() if len(parts) > 1 else ""
    if await _limited(state, update, message):
        return
    if not question:
        example = html.escape(state.example())
        await _reply(state, message, f"Put your question after the command, for example:\n/ask {example}")
        return
    await _answer_question(context, message, question)


async def not_text(update: Update, context: Context) -> None:
    """Tell a private reader who sent a sticker, photo or the like that questions are text."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    example = html.escape(state.example())
    await _reply(state, message, f"I can only read text. Send me a question in words, for example: <i>{example}</i>")


async def unknown_command(update: Update, context: Context) -> None:
    """Point a private reader who typed an unknown command to /help."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    command = html.escape((message.text or "").split(maxsplit=1)[0][:64])
    await _reply(state, message, f"I do not know {command}. /help lists what I can do.", quote=False)


# --- commands ------------------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """Say what the bot is, with one example question (the deep link ?start=help shows /help)."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    if context.args and context.args[0] == "help":
        await _help(state, update, message)
        return
    documents = state.library.knowledge.corpus.documents
    about = ", ".join(
        f"{render.title_link(d)} ({html.escape(render.shorten(d.publisher, render.TELEGRAM_TITLE_CHARS))}, "
        f"{human_date(d.published)})"
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
    await _reply(state, message, text, quote=message.chat.type != Chat.PRIVATE)


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask, with example questions."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    await _help(state, update, message)


async def _help(state: State, update: Update, message: Message) -> None:
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
        text += f"\n{html.escape(telegram_admin.HELP)}"
    await _reply(state, message, text, quote=message.chat.type != Chat.PRIVATE)


async def source(update: Update, context: Context) -> None:
    """Show the article(s) answers come from: title, publisher, date and link (several messages if many)."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    text = render.source_html(state.library.knowledge.corpus.documents, state.library.settings.excerpt_chars)
    await _reply(state, message, text, quote=message.chat.type != Chat.PRIVATE, preview=True)


def _is_admin(update: Update, state: State) -> bool:
    """True for a new message an admin sent as themselves: never an edit, a channel post, or a message
    sent on behalf of a chat (an anonymous group admin), whatever the handlers' filters let through."""
    message, user = update.message, update.effective_user
    if message is None or user is None or user.is_bot or message.sender_chat is not None:
        return False
    return user.id in state.config.telegram.admins


async def reload_command(update: Update, context: Context) -> None:
    """Admin: re-read the corpus off the event loop; report the size before and after, or the problem."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    if not _is_admin(update, state):
        await _reply(state, message, "Sorry, only the bot's admins can reload the corpus.")
        return
    result = await _reloader(state).reload()
    if result.ok:
        text = f"Reloaded the corpus.\nBefore: {result.before}\nNow: {result.after}"
    else:
        text = f"Reload failed: {html.escape(result.error)}\nStill serving the old corpus ({result.before})."
    await _reply(state, message, text)


def _reloader(state: State) -> Reloader:
    """The state's reload coordinator (made on first use)."""
    if state.reloader is None:
        state.reloader = Reloader(state.library)
    return state.reloader


async def stats_command(update: Update, context: Context) -> None:
    """Admin: questions answered, refusals, feedback, uptime and corpus size."""
    state = _state(context)
    message = update.effective_message
    if message is None or await _limited(state, update, message):
        return
    if not _is_admin(update, state):
        await _reply(state, message, "Sorry, only the bot's admins can see the statistics.")
        return
    counts = state.library.counts
    text = (
        f"<b>Since the start</b> ({duration(state.library.uptime())} ago)\n"
        f"Questions answered: {counts['answered']}\n"
        f"Refusals: {counts['refused']}\n"
        f"Feedback: 👍 {state.votes['up']} · 👎 {state.votes['down']}\n"
        f"Corpus: {state.library.size}"
    )
    await _reply(state, message, text)


def duration(seconds: float) -> str:
    """Return a short human duration: '42 s', '5 min 03 s', '2 h 07 min', '3 d 4 h'."""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


# --- buttons ---------------------------------------------------------------------------------------------


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
        await _press(_state(context), update, context, notify)
    finally:
        if not answered:
            with contextlib.suppress(TelegramError):
                await query.answer()


async def _press(state: State, update: Update, context: Context, notify: Notify) -> None:
    """The work of a button press: checks, then the action it asks for."""
    query = update.callback_query
    assert query is not None
    verdict = _verdict(state, update)
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
        await _answer_question(context, message, asked.suggestions[data.number], shown=True)
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
    result = await asyncio.to_thread(answer, asked.question, library.knowledge, library.settings, rank)
    if not result.found:
        await notify("There is no other passage of the article that answers this.")
        markup = InlineKeyboardMarkup([_vote_row(data.key, rank - 1)])
        with contextlib.suppress(TelegramError):
            await _send(state, message.chat_id, _unchanged_ok(lambda: message.edit_reply_markup(markup)), "edit", None)
        return
    asked.passages[rank] = result.passage_id
    text = fit_messages(_answer_html(result, state, asked.question if asked.shown else None))[0]
    keyboard = _answer_keyboard(data.key, rank)
    edit = _unchanged_ok(lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard))
    await _send(state, message.chat_id, edit, "editMessageText", None)
    await notify(f"Passage {rank + 1}")
    logger.info("another passage chat=%s rank=%d", asked.chat_type, rank)


def _unchanged_ok(edit: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
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


# --- inline mode -------------------------------------------------------------------------------------------


def _inline_answers(library: Library, query: str, examples: tuple[str, ...]) -> list[Answer]:
    """The best three passages for a query, or for an empty query the answers to example questions."""
    knowledge, settings = library.knowledge, library.settings
    if query:
        found = []
        for rank in range(INLINE_RESULTS):
            result = answer(query, knowledge, settings, rank)
            if not result.found:
                break
            found.append(result)
        return found
    results = (answer(q, knowledge, settings) for q in examples[:INLINE_RESULTS])
    return [r for r in results if r.found]


async def inline_query(update: Update, context: Context) -> None:
    """Offer the best three passages for "@bot question" as articles, each with its excerpt and link."""
    query = update.inline_query
    if query is None:
        return
    state = _state(context)
    verdict = _verdict(state, update)
    if verdict != "ok":
        if verdict == "warn":
            wait = InlineQueryResultsButton("Too many questions: please wait a minute", start_parameter="help")
            await deliver(lambda: query.answer([], cache_time=0, button=wait), "answerInlineQuery")
        return
    started = time.perf_counter()
    text = " ".join(query.query.split())
    answers = await asyncio.to_thread(_inline_answers, state.library, text, state.examples())
    results = []
    for i, result in enumerate(answers):
        digest = hashlib.sha256(f"{result.question}\n{result.passage_id}".encode()).hexdigest()[:24]
        title = f"Passage {result.rank + 1}" if text else result.question
        results.append(
            InlineQueryResultArticle(
                id=f"{i}-{digest}",
                title=render.shorten(title, 64),
                description=render.preview(result, 120),
                input_message_content=InputTextMessageContent(
                    _answer_html(result, state, result.question),
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
            )
        )
    button = (
        None
        if results
        else InlineQueryResultsButton("Not in the article: see what I can answer", start_parameter="help")
    )
    await deliver(lambda: query.answer(results, cache_time=30, button=button), "answerInlineQuery")
    latency = (time.perf_counter() - started) * 1000
    logger.info("question chat=inline latency_ms=%.0f found=%s", latency, bool(results))


# --- errors, start-up, signals --------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log a failed update once, a failed poll (PTB retries it) as one line; readers never see a traceback."""
    error = context.error
    if update is None and isinstance(error, Conflict):  # from polling: PTB retries with back-off
        logger.error("another instance is polling with this bot token (409 Conflict); stop it: %s", error)
        return
    if update is None and isinstance(error, TelegramError):
        logger.warning("polling for updates failed, retrying: %s", error)
        return
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        logger.info("update %s: the reader blocked the bot or left the chat: %s", update_id, error)
        return
    if isinstance(error, TelegramError):
        logger.error("update %s: Telegram refused a request: %s", update_id, error)
        return
    logger.error("update %s failed", update_id, exc_info=error)
    message = update.effective_message if isinstance(update, Update) else None
    if message is not None and message.chat.type == Chat.PRIVATE:
        with contextlib.suppress(TelegramError):
            await message.reply_text("Sorry, something went wrong on my side; please try again.")


async def post_init(application: App) -> None:
    """Register the command menus (admin commands only in admins' chats) and SIGHUP for a reload."""
    state: State = application.bot_data[_STATE_KEY]
    bot = application.bot
    state.username, state.bot_id = bot.username, bot.id
    try:
        await bot.set_my_commands(PUBLIC_COMMANDS)
    except TelegramError as exc:
        logger.warning("cannot register the command menu: %s", exc)
    for admin in state.config.telegram.admins:
        try:
            await bot.set_my_commands(PUBLIC_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:
            logger.warning("cannot register admin commands for user %s (has it started the bot?): %s", admin, exc)
    _listen_for_signals(application, state)
    mode = "webhook" if state.config.telegram.webhook.url else "long polling"
    logger.info("running as @%s (%s), serving %s", state.username, mode, state.library.size)


def _listen_for_signals(application: App, state: State) -> None:
    """SIGHUP reloads (coalesced); SIGTERM and SIGINT stop, and sends waiting for a group's budget give up.

    A SIGHUP that came during start-up (caught by StartupSignals since before the corpus loaded)
    is carried out now, once.
    """
    loop = asyncio.get_running_loop()
    reloader = _reloader(state)

    def reload() -> None:
        logger.info("SIGHUP: reloading the corpus")
        reloader.request()

    def stop() -> None:
        state.budgets.close()
        raise SystemExit

    with contextlib.suppress(NotImplementedError, RuntimeError):
        if hasattr(signal, "SIGHUP"):
            loop.add_signal_handler(signal.SIGHUP, reload)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
    if state.startup_signals is not None and state.startup_signals.take():
        logger.info("SIGHUP came during start-up: reloading the corpus")
        reloader.request()


async def post_shutdown(application: App) -> None:
    """Stop listening for SIGHUP; let the reload thread go."""
    if hasattr(signal, "SIGHUP"):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    state: State = application.bot_data[_STATE_KEY]
    if state.reloader is not None:
        state.reloader.close()


def build_application(
    config: Config, token: str, library: Library, startup_signals: StartupSignals | None = None
) -> App:
    """Build the Application: rate limiter with retries, defaults, every handler, start-up hooks."""
    telegram = config.telegram
    application: App = (
        Application.builder()
        .token(token)
        .base_url(telegram.api_base_url)
        .base_file_url(telegram.api_file_url)
        # Groups' budgets are kept by ChatBudgets (see _send): waiting for one inside PTB's limiter
        # would hold an update slot.
        .rate_limiter(
            AIORateLimiter(overall_max_rate=telegram.messages_per_second, group_max_rate=0, max_retries=3)
        )
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(16)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data[_STATE_KEY] = State(
        config=config,
        library=library,
        limiter=UserRateLimiter(telegram.rate_limit_per_minute),
        feedback=FeedbackLog(telegram.feedback_path),
        spawn=lambda coroutine: application.create_task(coroutine, name="talksbot-send-later"),
        startup_signals=startup_signals,
    )
    telegram_admin.install(application, config, library)  # first: its handlers are narrower than the ones below
    new = filters.UpdateType.MESSAGE
    application.add_handlers(
        [
            CommandHandler("start", start, filters=new),
            CommandHandler("help", help_command, filters=new),
            CommandHandler("source", source, filters=new),
            CommandHandler("ask", ask_command, filters=new),
            CommandHandler("reload", reload_command, filters=new),
            CommandHandler("stats", stats_command, filters=new),
            MessageHandler(new & filters.ChatType.PRIVATE & filters.COMMAND, unknown_command),
            MessageHandler(new & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, private_text),
            MessageHandler(new & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, group_text),
            # Service messages (a pin, an auto-delete timer, …) are not the reader talking to the bot.
            MessageHandler(new & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
            CallbackQueryHandler(on_button),
            InlineQueryHandler(inline_query),
        ]
    )
    application.add_error_handler(on_error)
    return application


# Telegram's updates are a few kilobytes; a larger body is refused from its Content-Length, unread.
WEBHOOK_MAX_BODY: Final = 1024 * 1024


def _cap_webhook_bodies() -> None:
    """Make PTB's webhook server (tornado) refuse a body over WEBHOOK_MAX_BODY before reading it.

    tornado reads a request's whole body (up to 100 MB by default) before PTB checks the secret
    header, so a few large POSTs without the secret could take hundreds of MiB.
    """
    from tornado.httpserver import HTTPServer

    HTTPServer.configure(None, max_body_size=WEBHOOK_MAX_BODY)


def bot_token() -> str:
    """Return the bot token from the environment, or stop with how to get one."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise TalksbotError(
            f"{TOKEN_VARIABLE} is not set: create a bot with @BotFather in Telegram (/newbot) and put the "
            f"token it gives you in the {TOKEN_VARIABLE} environment variable (see README, Running on Telegram)"
        )
    if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
        raise TalksbotError(
            f"{TOKEN_VARIABLE} does not look like a bot token (digits, a colon, then letters and digits); "
            "copy it again from @BotFather"
        )
    return token


def webhook_secret(config: Config) -> str:
    """Return the webhook secret (config, else TELEGRAM_WEBHOOK_SECRET); webhook mode requires one."""
    webhook = config.telegram.webhook
    secret = webhook.secret_token or os.environ.get(SECRET_VARIABLE, "").strip()
    if webhook.url and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise TalksbotError(
            "webhook mode needs a secret token (letters, digits, '_' and '-'): set telegram.webhook.secret_token "
            f"or {SECRET_VARIABLE}, so that only Telegram can post updates to the bot"
        )
    return secret


def run_telegram(config: Config, startup_signals: StartupSignals | None = None) -> int:
    """Run the bot until SIGTERM or Ctrl-C (SIGHUP reloads the corpus); return the exit status."""
    startup_signals = startup_signals or StartupSignals()  # before the corpus loads
    token = bot_token()
    secret = webhook_secret(config)
    redactor = install_redaction(token, secret)
    install_invalid_reply_filter()
    logger.debug("loading the corpus from %s", config.corpus.path)
    library = Library(config.corpus.path, config.answer, cache_dir=config.corpus.cache_dir)
    application = build_application(config, token, library, startup_signals)
    webhook = config.telegram.webhook
    try:
        if webhook.url:
            _cap_webhook_bodies()
            application.run_webhook(
                listen=webhook.listen,
                port=webhook.port,
                url_path=webhook.path,
                webhook_url=webhook.url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    except InvalidToken:
        raise TalksbotError(
            f"Telegram rejected the token in {TOKEN_VARIABLE}; check it with @BotFather (/mybots, API Token)"
        ) from None
    except TelegramError as exc:
        raise TalksbotError(
            f"the Telegram Bot API at {config.telegram.api_base_url} failed: {redactor.redact(str(exc))}"
        ) from None
    logger.info("stopped")
    return 0
