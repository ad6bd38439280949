"""Listing and removing articles: /articles, and /remove with a confirmation."""

from __future__ import annotations

import asyncio
import html
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.errors import TalksbotError
from bot.library import Library
from bot.render import human_date, shorten
from bot.telegram.desk import (
    LISTED_ARTICLES,
    MAX_REPLY_CHARS,
    AdminDesk,
    Pending,
    admin_message,
    desk_of,
    edit_html,
    send_html,
)
from bot.telegram.state import Context

logger = logging.getLogger(__name__)


def article_listing(library: Library) -> list[tuple[str, str, str, int]]:
    """(doc_id, title, date, passages) of every served article (blocking on a large corpus: run in a thread)."""
    counts = library.passage_counts()
    return [(d.doc_id, d.title, d.published, counts[d.doc_id]) for d in library.documents]


async def articles_command(update: Update, context: Context) -> None:
    """Admin: list the articles the bot answers from, with their dates and passage counts."""
    message = await admin_message(update, context, "list the articles")
    if message is None or update.effective_user is None:
        return
    desk = desk_of(context)
    listing = await asyncio.to_thread(article_listing, desk.library)
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
    await send_html(message, text)


async def remove_command(update: Update, context: Context) -> None:
    """Admin: offer each article as a button; pressing one asks for a confirmation."""
    message = await admin_message(update, context, "remove articles")
    if message is None or update.effective_user is None:
        return
    desk, admin = desk_of(context), update.effective_user.id
    documents = desk.library.documents
    rows = []
    for doc in documents[:LISTED_ARTICLES]:
        key = desk.put(Pending("remove", admin, f"{doc.doc_id}.md", doc_id=doc.doc_id, title=doc.title))
        label = shorten(f"{doc.published} · {doc.title}", 60)
        rows.append([InlineKeyboardButton(label, callback_data=f"adm:pick:{key}")])
    more = f" (the first {LISTED_ARTICLES})" if len(documents) > LISTED_ARTICLES else ""
    logger.info("admin user=%d action=remove-menu articles=%d", admin, len(documents))
    await send_html(message, f"Which article should I remove?{more}", InlineKeyboardMarkup(rows))


async def confirm_remove(message: Message, desk: AdminDesk, who: int, pending: Pending) -> None:
    """Delete the article's file, reload, and report the new counts or why nothing changed."""
    title = html.escape(shorten(pending.title, 300))
    if len(desk.library.documents) <= 1:
        await edit_html(message, "Not removed: it is the only article, and the bot needs at least one.")
        return
    try:
        path, result = await asyncio.to_thread(desk.library.remove, pending.doc_id)
    except (TalksbotError, OSError) as exc:
        logger.info("admin user=%d action=remove file=%r result=refused: %s", who, pending.source, exc)
        await edit_html(message, f"Not removed: {html.escape(str(exc))}")
        return
    if not result.ok:
        logger.warning("admin user=%d action=remove file=%r result=reload-failed: %s", who, path.name, result.error)
        await edit_html(message, f"Not removed: the corpus would not load without it ({html.escape(result.error)}).")
        return
    logger.info("admin user=%d action=remove file=%r corpus=%s", who, path.name, result.after)
    await edit_html(message, f"Removed <b>{title}</b>.\nCorpus now: {result.after} (before: {result.before}).")
