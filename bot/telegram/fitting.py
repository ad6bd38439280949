"""Telegram's size limits for the HTML the bot sends: measure, and split where a reply is too long (pure).

Telegram refuses a message whose text, once the HTML is parsed, is longer than 4,096 UTF-16
code units ("Bad Request: message is too long"), and the reader then gets nothing. The bot's
texts are built to fit (titles and lists shortened); fit_messages() is the safety net that
splits what still does not fit between paragraphs, never inside a tag or an entity.
"""

from __future__ import annotations

import html
import re

TELEGRAM_MAX_CHARS = 4096
# A suggested question on a button is cut to this many characters (pressing it asks the whole question).
BUTTON_CHARS = 60
# /start names at most this many articles; /source lists them all, split over several messages.
START_DOCUMENTS = 5
_TAG = re.compile(r"<[^>]*>")


def visible_length(text: str) -> int:
    """The length Telegram counts for an HTML text: its visible characters, in UTF-16 code units."""
    visible = html.unescape(_TAG.sub("", text))
    return len(visible.encode("utf-16-le")) // 2


def fit_messages(text: str, limit: int = TELEGRAM_MAX_CHARS) -> list[str]:
    """Split an HTML text into messages Telegram accepts: whole paragraphs while they fit.

    A paragraph too long on its own (none of the bot's are) loses its markup and is cut at a
    word boundary, so the reader gets most of it rather than nothing.
    """
    if visible_length(text) <= limit:
        return [text]
    messages: list[str] = []
    current = ""
    for block in text.split("\n\n"):
        if visible_length(block) > limit:
            block = _cut_plain(block, limit)
        joined = f"{current}\n\n{block}" if current else block
        if current and visible_length(joined) > limit:
            messages.append(current)
            current = block
        else:
            current = joined
    if current:
        messages.append(current)
    return messages


def _cut_plain(block: str, limit: int) -> str:
    """A paragraph as escaped plain text, cut at a word boundary to fit the limit ("…" included)."""
    plain = html.unescape(_TAG.sub("", block))
    while len(plain.encode("utf-16-le")) // 2 > limit - 1:
        cut = plain[: max(1, min(len(plain) - 1, limit - 1))]
        plain = cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut[: len(cut) // 2 or 1]
    return html.escape(plain.rstrip() + "…")
