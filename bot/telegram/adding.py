"""Adding an article: an admin sends a page or /add URL, sees a preview, and confirms."""

from __future__ import annotations

import asyncio
import html
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.errors import ImportPageError, TalksbotError
from bot.library import fetch_page, page_kind, read_page
from bot.render import human_date, shorten
from bot.telegram.desk import (
    MAX_REPLY_CHARS,
    SHOWN_PASSAGE_CHARS,
    AdminDesk,
    Pending,
    admin_message,
    desk_of,
    edit_html,
    send_html,
)
from bot.telegram.state import Context

logger = logging.getLogger(__name__)


async def document_received(update: Update, context: Context) -> None:
    """Admin sent a file: download it (size-capped), import it off the loop, reply with a preview."""
    message = await admin_message(update, context, "add articles")
    if message is None or message.document is None or update.effective_user is None:
        return
    desk, document, admin = desk_of(context), message.document, update.effective_user.id
    name = document.file_name or "unnamed"
    limit = desk.config.telegram.max_document_bytes
    try:
        kind = page_kind(name)
        if kind == "txt":  # nothing in a text copy says which line is the title, nor the address or date
            raise ImportPageError(
                "a .txt page copy does not say its title, address and date: send the saved .html page, "
                "or import the copy in the shell with talksbot import"
            )
        if (document.file_size or 0) > limit:
            raise ImportPageError(f"the file is too large ({document.file_size:,} bytes; the limit is {limit:,})")
        data = await download(context, document.file_id, limit)
        article = await asyncio.to_thread(read_page, data, kind)
    except TalksbotError as exc:
        logger.info("admin user=%d action=import file=%r result=refused: %s", admin, name, exc)
        await send_html(message, f"Not imported: {html.escape(str(exc))}")
        return
    await preview(message, desk, Pending("add", admin, name, article=article))


async def download(context: Context, file_id: str, limit: int) -> bytes:
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
    message = await admin_message(update, context, "add articles")
    if message is None or update.effective_user is None:
        return
    desk, admin = desk_of(context), update.effective_user.id
    if not context.args:
        await send_html(message, "Put the article's address after the command: /add https://example.org/story")
        return
    url = context.args[0]
    try:
        article = await asyncio.to_thread(fetch_page, url, desk.config.import_, option="the address")
    except TalksbotError as exc:
        logger.info("admin user=%d action=import url=%r result=refused: %s", admin, url[:300], exc)
        await send_html(message, f"Not imported: {html.escape(str(exc))}")
        return
    await preview(message, desk, Pending("add", admin, url[:300], article=article))


async def preview(message: Message, desk: AdminDesk, pending: Pending) -> None:
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
    await send_html(message, text, markup)


async def confirm_add(message: Message, desk: AdminDesk, who: int, pending: Pending) -> None:
    """Write the previewed article into corpus/, reload, and report the new counts or why nothing changed."""
    assert pending.article is not None
    title = html.escape(shorten(pending.article.title, 300))
    try:
        path, result = await asyncio.to_thread(desk.library.add, pending.article)
    except TalksbotError as exc:
        logger.info("admin user=%d action=add source=%r result=refused: %s", who, pending.source, exc)
        await edit_html(message, f"Not added: {html.escape(str(exc))}")
        return
    if not result.ok:
        logger.warning("admin user=%d action=add file=%r result=reload-failed: %s", who, path.name, result.error)
        await edit_html(
            message,
            f"Not added: the corpus would not load with it ({html.escape(result.error)}). "
            f"Nothing changed; still serving {result.before}.",
        )
        return
    logger.info("admin user=%d action=add file=%r source=%r corpus=%s", who, path.name, pending.source, result.after)
    await edit_html(
        message,
        f"Added <b>{title}</b> as <code>{html.escape(path.name)}</code>.\n"
        f"Corpus now: {result.after} (before: {result.before}).",
    )
