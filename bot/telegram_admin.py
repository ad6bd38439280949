"""Telegram admin desk: add articles (a sent page or /add URL, previewed, then confirmed), list and remove them.

Only the user ids in telegram.admins, only in a private chat. A document from anyone else is never
downloaded. Importing, fetching, writing and reloading run in threads, off the event loop; a
failed import or reload changes nothing and says why in one line. Every admin action is logged
in one line: who, what, which file.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from telegram import BotCommand, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Config
from bot.corpus import human_date
from bot.errors import ImportPageError, TalksbotError
from bot.fetch import FetchSettings, fetch
from bot.importer import Article, check_url, import_source, kind_of
from bot.library import Library, ReloadResult
from bot.render import shorten
from bot.storage import add_to_corpus, corpus_file
from bot.telegram_support import deliver

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
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

    @property
    def folder(self) -> Path:
        """The corpus folder articles are written to."""
        return self.library.corpus_path

    def fetch_settings(self) -> FetchSettings:
        """The download limits from the config's import section."""
        section = self.config.import_
        return FetchSettings(section.allow_private_addresses, section.max_bytes, float(section.timeout_seconds))


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


def _desk(context: Context) -> AdminDesk:
    desk = context.bot_data[DESK_KEY]
    assert isinstance(desk, AdminDesk)
    return desk


async def _send(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send HTML to the message's chat, retrying when that is safe."""
    return await deliver(
        lambda: message.get_bot().send_message(
            chat_id=message.chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup
        ),
        "sendMessage",
    )


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a preview's text and buttons with the outcome (a message too old to edit gets a new one)."""
    try:
        await deliver(
            lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup), "editMessageText"
        )
    except TelegramError as exc:
        logger.warning("cannot edit the admin message, sending a new one: %s", exc)
        await _send(message, text, markup)


async def _admin_message(update: Update, context: Context, what: str) -> Message | None:
    """The message of an admin's command in a private chat; anyone else is told why not (None)."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return None
    admin = not user.is_bot and message.sender_chat is None and user.id in _desk(context).config.telegram.admins
    if not admin:
        await _send(message, f"Sorry, only the bot's admins can {what}.")
        return None
    if message.chat.type != Chat.PRIVATE:
        await _send(message, f"Please {what} in a private chat with me.")
        return None
    return message


# --- adding ---------------------------------------------------------------------------------------


async def document_received(update: Update, context: Context) -> None:
    """Admin sent a file: download it (size-capped), import it off the loop, reply with a preview."""
    message = await _admin_message(update, context, "add articles")
    if message is None or message.document is None or update.effective_user is None:
        return
    desk, document, admin = _desk(context), message.document, update.effective_user.id
    name = document.file_name or "unnamed"
    limit = desk.config.telegram.max_document_bytes
    try:
        kind = kind_of(name)
        if kind == "txt":  # nothing in a text copy says which line is the title, nor the address or date
            raise ImportPageError(
                "a .txt page copy does not say its title, address and date: send the saved .html page, "
                "or import the copy in the shell with talksbot import"
            )
        if (document.file_size or 0) > limit:
            raise ImportPageError(f"the file is too large ({document.file_size:,} bytes; the limit is {limit:,})")
        data = await _download(context, document.file_id, limit)
        article = await asyncio.to_thread(import_source, data, kind)
    except TalksbotError as exc:
        logger.info("admin user=%d action=import file=%r result=refused: %s", admin, name, exc)
        await _send(message, f"Not imported: {html.escape(str(exc))}")
        return
    await _preview(message, desk, Pending("add", admin, name, article=article))


async def _download(context: Context, file_id: str, limit: int) -> bytes:
    """The bytes of a file sent to the bot, through getFile and the file URL; at most `limit` of them."""
    try:
        telegram_file = await context.bot.get_file(file_id)
        if (telegram_file.file_size or 0) > limit:
            raise ImportPageError(f"the file is too large ({telegram_file.file_size:,} bytes; the limit is {limit:,})")
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        raise ImportPageError(f"cannot download the file from Telegram: {exc}") from None
    if len(data) > limit:
        raise ImportPageError(f"the file is too large (more than {limit:,} bytes)")
    return data


async def add_command(update: Update, context: Context) -> None:
    """Admin: /add URL downloads the page (address checks, size cap) and replies with a preview."""
    message = await _admin_message(update, context, "add articles")
    if message is None or update.effective_user is None:
        return
    desk, admin = _desk(context), update.effective_user.id
    if not context.args:
        await _send(message, "Put the article's address after the command: /add https://example.org/story")
        return
    url = context.args[0]
    try:
        check_url(url, "the address")
        article = await asyncio.to_thread(_fetch_and_import, url, desk.fetch_settings())
    except TalksbotError as exc:
        logger.info("admin user=%d action=import url=%r result=refused: %s", admin, url[:300], exc)
        await _send(message, f"Not imported: {html.escape(str(exc))}")
        return
    await _preview(message, desk, Pending("add", admin, url[:300], article=article))


def _fetch_and_import(url: str, settings: FetchSettings) -> Article:
    """Download a page and import it (blocking: run in a thread)."""
    page = fetch(url, settings)
    return import_source(page.data, "html", fetched_from=page.url)


async def _preview(message: Message, desk: AdminDesk, pending: Pending) -> None:
    """Show what would be added (title, publisher, date, link, passages, the first one) with Add / Cancel."""
    article = pending.article
    assert article is not None
    passages = await asyncio.to_thread(article.passages)
    key = desk.put(pending)
    logger.info(
        "admin user=%d action=preview source=%r title=%r passages=%d", pending.admin, pending.source,
        article.title, len(passages),
    )
    link = html.escape(article.url, quote=True)
    head = (
        "<b>Preview</b> (not added yet)\n\n"
        f"<b>{html.escape(shorten(article.title, 300))}</b>\n"
        f"{html.escape(shorten(article.publisher, 100))}, {human_date(article.published)}\n"
        f'<a href="{link}">{html.escape(shorten(article.url, 200))}</a>\n\n'
        f"{len(passages)} passage{'s' * (len(passages) != 1)}. The first:\n"
    )
    room = max(100, min(SHOWN_PASSAGE_CHARS, MAX_REPLY_CHARS - len(head) - 50))
    text = head + f"<blockquote>{html.escape(shorten(passages[0] if passages else '', room))}</blockquote>"
    markup = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton("Add to corpus", callback_data=f"adm:add:{key}"),
            InlineKeyboardButton("Cancel", callback_data=f"adm:no:{key}"),
        ]]
    )
    await _send(message, text, markup)


def _urls(library: Library) -> dict[str, str]:
    """Each served article's URL and its file name."""
    return {doc.url: f"{doc.doc_id}.md" for doc in library.knowledge.corpus.documents}


def _add_and_reload(desk: AdminDesk, article: Article) -> tuple[Path, ReloadResult]:
    """Write the article into corpus/ and reload; if the reload fails, remove the file again (blocking)."""
    path = add_to_corpus(desk.folder, article, _urls(desk.library))
    result = desk.library.reload()
    if not result.ok:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return path, result


# --- listing and removing ---------------------------------------------------------------------------


def _listing(library: Library) -> list[tuple[str, str, str, int]]:
    """(doc_id, title, date, passages) of every served article (blocking on a large corpus: run in a thread)."""
    knowledge = library.knowledge
    counts = Counter(p.doc_id for p in knowledge.index.passages)
    return [(d.doc_id, d.title, d.published, counts[d.doc_id]) for d in knowledge.corpus.documents]


async def articles_command(update: Update, context: Context) -> None:
    """Admin: list the articles the bot answers from, with their dates and passage counts."""
    message = await _admin_message(update, context, "list the articles")
    if message is None or update.effective_user is None:
        return
    desk = _desk(context)
    listing = await asyncio.to_thread(_listing, desk.library)
    lines = [
        f"• <b>{html.escape(shorten(title, 150))}</b> — {human_date(date)}, {count} passage{'s' * (count != 1)} "
        f"(<code>{html.escape(shorten(doc_id, 80))}.md</code>)"
        for doc_id, title, date, count in listing
    ]
    text = f"<b>{len(listing)} article{'s' * (len(listing) != 1)}</b> ({desk.library.size})\n"
    shown = 0
    for line in lines:
        if len(text) + len(line) > MAX_REPLY_CHARS - 40:
            break
        text += "\n" + line
        shown += 1
    if shown < len(lines):
        text += f"\n… and {len(lines) - shown} more"
    logger.info("admin user=%d action=list articles=%d", update.effective_user.id, len(listing))
    await _send(message, text)


async def remove_command(update: Update, context: Context) -> None:
    """Admin: offer each article as a button; pressing one asks for a confirmation."""
    message = await _admin_message(update, context, "remove articles")
    if message is None or update.effective_user is None:
        return
    desk, admin = _desk(context), update.effective_user.id
    documents = desk.library.knowledge.corpus.documents
    rows = []
    for doc in documents[:LISTED_ARTICLES]:
        key = desk.put(Pending("remove", admin, f"{doc.doc_id}.md", doc_id=doc.doc_id, title=doc.title))
        label = shorten(f"{doc.published} · {doc.title}", 60)
        rows.append([InlineKeyboardButton(label, callback_data=f"adm:pick:{key}")])
    more = f" (the first {LISTED_ARTICLES})" if len(documents) > LISTED_ARTICLES else ""
    logger.info("admin user=%d action=remove-menu articles=%d", admin, len(documents))
    await _send(message, f"Which article should I remove?{more}", InlineKeyboardMarkup(rows))


def _remove_and_reload(desk: AdminDesk, doc_id: str) -> tuple[Path, ReloadResult]:
    """Delete an article's file and reload; if the reload fails, put the file back (blocking)."""
    path = corpus_file(desk.folder, doc_id)
    saved = path.read_bytes()
    path.unlink()
    result = desk.library.reload()
    if not result.ok:
        path.write_bytes(saved)
    return path, result


# --- buttons --------------------------------------------------------------------------------------------


async def on_admin_button(update: Update, context: Context) -> None:
    """Handle the admin buttons: add or cancel a previewed article, pick and confirm a removal."""
    query = update.callback_query
    if query is None:
        return
    desk = _desk(context)
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
        await _edit(message, "Cancelled: nothing was added.")
    elif action == "add" and pending.article is not None:
        await _confirm_add(message, desk, who, pending)
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
        await _edit(message, text, markup)
    elif action == "keep":
        logger.info("admin user=%d action=keep file=%r", who, pending.source)
        await _edit(message, "Kept: nothing was removed.")
    elif action == "del" and pending.action == "remove":
        await _confirm_remove(message, desk, who, pending)
    else:
        await _edit(message, "This button no longer works; please start again.")


async def _confirm_add(message: Message, desk: AdminDesk, who: int, pending: Pending) -> None:
    """Write the previewed article into corpus/, reload, and report the new counts or why nothing changed."""
    assert pending.article is not None
    title = html.escape(shorten(pending.article.title, 300))
    try:
        path, result = await asyncio.to_thread(_add_and_reload, desk, pending.article)
    except TalksbotError as exc:
        logger.info("admin user=%d action=add source=%r result=refused: %s", who, pending.source, exc)
        await _edit(message, f"Not added: {html.escape(str(exc))}")
        return
    if not result.ok:
        logger.warning("admin user=%d action=add file=%r result=reload-failed: %s", who, path.name, result.error)
        await _edit(
            message,
            f"Not added: the corpus would not load with it ({html.escape(result.error)}). "
            f"Nothing changed; still serving {result.before}.",
        )
        return
    logger.info("admin user=%d action=add file=%r source=%r corpus=%s", who, path.name, pending.source, result.after)
    await _edit(
        message,
        f"Added <b>{title}</b> as <code>{html.escape(path.name)}</code>.\n"
        f"Corpus now: {result.after} (before: {result.before}).",
    )


async def _confirm_remove(message: Message, desk: AdminDesk, who: int, pending: Pending) -> None:
    """Delete the article's file, reload, and report the new counts or why nothing changed."""
    title = html.escape(shorten(pending.title, 300))
    if len(desk.library.knowledge.corpus.documents) <= 1:
        await _edit(message, "Not removed: it is the only article, and the bot needs at least one.")
        return
    try:
        path, result = await asyncio.to_thread(_remove_and_reload, desk, pending.doc_id)
    except (TalksbotError, OSError) as exc:
        logger.info("admin user=%d action=remove file=%r result=refused: %s", who, pending.source, exc)
        await _edit(message, f"Not removed: {html.escape(str(exc))}")
        return
    if not result.ok:
        logger.warning("admin user=%d action=remove file=%r result=reload-failed: %s", who, path.name, result.error)
        await _edit(message, f"Not removed: the corpus would not load without it ({html.escape(result.error)}).")
        return
    logger.info("admin user=%d action=remove file=%r corpus=%s", who, path.name, result.after)
    await _edit(message, f"Removed <b>{title}</b>.\nCorpus now: {result.after} (before: {result.before}).")
