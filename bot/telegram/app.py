"""The Telegram bot, wired: readers ask in private chats, groups and inline mode; admins manage the corpus.

`build_application()` puts the handlers of this package's feature modules into a python-telegram-bot
Application and `run_telegram()` runs it, long polling by default or on a webhook when
telegram.webhook.url is set. Blocking work (answering, reloading) runs in threads, off the event
loop; the handlers share one `State` in bot_data (bot.telegram.state); every reply is Telegram HTML
built from escaped text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
from typing import Final

from telegram import BotCommand, BotCommandScopeChat, Chat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import Config
from bot.errors import TalksbotError
from bot.library import Library
from bot.logsafety import install_invalid_reply_filter, install_redaction
from bot.telegram import desk, manage
from bot.telegram.admin import reload_command, stats_command
from bot.telegram.buttons import on_button
from bot.telegram.commands import help_command, source, start
from bot.telegram.inline import inline_query
from bot.telegram.questions import ask_command, group_text, not_text, private_text, unknown_command
from bot.telegram.reload import StartupSignals
from bot.telegram.state import STATE_KEY, App, Context, State, reloader_of
from bot.telegram.support import FeedbackLog, UserRateLimiter

logger = logging.getLogger(__name__)

TOKEN_VARIABLE: Final = "TELEGRAM_BOT_TOKEN"
SECRET_VARIABLE: Final = "TELEGRAM_WEBHOOK_SECRET"
ALLOWED_UPDATES: Final = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)

PUBLIC_COMMANDS: Final = (
    BotCommand("start", "What this bot is"),
    BotCommand("help", "How to ask, with example questions"),
    BotCommand("source", "The article answers come from"),
    BotCommand("ask", "Ask a question (in groups: /ask QUESTION)"),
)
ADMIN_COMMANDS: Final = (
    BotCommand("reload", "Re-read the corpus folder"),
    BotCommand("stats", "Questions, refusals, feedback, uptime"),
    *desk.COMMANDS,
)


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
    state: State = application.bot_data[STATE_KEY]
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
    reloader = reloader_of(state)

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
    state: State = application.bot_data[STATE_KEY]
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
        # Groups' budgets are kept by ChatBudgets (see sending.send_in_turn): waiting for one inside PTB's limiter
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
    application.bot_data[STATE_KEY] = State(
        config=config,
        library=library,
        limiter=UserRateLimiter(telegram.rate_limit_per_minute),
        feedback=FeedbackLog(telegram.feedback_path),
        spawn=lambda coroutine: application.create_task(coroutine, name="talksbot-send-later"),
        startup_signals=startup_signals,
    )
    manage.install(application, config, library)  # first: its handlers are narrower than the ones below
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
