"""Inline mode: "@bot question" in any chat offers the best passages to share."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Final

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode

from bot import render
from bot.library import Answer, Library
from bot.telegram.questions import answer_html
from bot.telegram.sending import sender_verdict
from bot.telegram.state import Context, State, state_of
from bot.telegram.support import deliver

logger = logging.getLogger(__name__)

INLINE_RESULTS: Final = 3


def _inline_answers(library: Library, query: str, examples: tuple[str, ...]) -> list[Answer]:
    """The best three passages for a query (analysed once, counted once), or for an empty query the
    answers to example questions (not counted: nobody asked them)."""
    if query:
        return library.rank(query, INLINE_RESULTS, via="inline")
    return [found for q in examples[:INLINE_RESULTS] for found in library.rank(q, 1, via=None)]


def _article(i: int, result: Answer, state: State, asked: bool) -> InlineQueryResultArticle:
    """One inline result: the passage as an article to share, titled by its rank (or by the example question)."""
    digest = hashlib.sha256(f"{result.question}\n{result.passage_id}".encode()).hexdigest()[:24]
    title = f"Passage {result.rank + 1}" if asked else result.question
    return InlineQueryResultArticle(
        id=f"{i}-{digest}",
        title=render.shorten(title, 64),
        description=render.preview(result, 120),
        input_message_content=InputTextMessageContent(
            answer_html(result, state, result.question),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
    )


async def inline_query(update: Update, context: Context) -> None:
    """Offer the best three passages for "@bot question" as articles, each with its excerpt and link."""
    query = update.inline_query
    if query is None:
        return
    state = state_of(context)
    verdict = sender_verdict(state, update)
    if verdict != "ok":
        if verdict == "warn":
            wait = InlineQueryResultsButton("Too many questions: please wait a minute", start_parameter="help")
            await deliver(lambda: query.answer([], cache_time=0, button=wait), "answerInlineQuery")
        return
    started = time.perf_counter()
    text = " ".join(query.query.split())
    answers = await asyncio.to_thread(_inline_answers, state.library, text, state.examples())
    results = [_article(i, result, state, bool(text)) for i, result in enumerate(answers)]
    button = (
        None
        if results
        else InlineQueryResultsButton("Not in the article: see what I can answer", start_parameter="help")
    )
    await deliver(lambda: query.answer(results, cache_time=30, button=button), "answerInlineQuery")
    latency = (time.perf_counter() - started) * 1000
    logger.info("question chat=inline latency_ms=%.0f found=%s", latency, bool(results))
