"""Answers as the user sees them: plain text (console), Telegram HTML, and JSON (pure)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from bot.answer import Answer
from bot.corpus import Document
from bot.corpus import human_date as human_date  # re-exported for the adapters

TELEGRAM_MAX_CHARS = 4096
# Titles and suggested questions in Telegram replies are cut to this many characters, so that no
# metadata can push a reply past Telegram's 4,096 (`talksbot check` warns about longer ones).
TELEGRAM_TITLE_CHARS = 200


def attribution(document: Document) -> str:
    """Return 'Title, Publisher, 12 January 2022' for a document."""
    return f"{document.title}, {document.publisher}, {human_date(document.published)}"


def refusal_text(answer: Answer, max_question_chars: int = 1000) -> str:
    """Return the one-line reason an answer has no excerpt."""
    if answer.reason == "empty":
        return "Please ask a question in words, for example about who met, when, or what was agreed."
    if answer.reason == "too-long":
        return f"That question is too long; please keep it under {max_question_chars:,} characters."
    if answer.reason == "no-more":
        return "There is no other passage of the article that answers this."
    return "The article does not cover that."


def to_plain(answer: Answer, max_question_chars: int = 1000) -> str:
    """Render an answer for a terminal: the excerpt in quotes, then the source and its link."""
    if answer.found and answer.document is not None:
        doc = answer.document
        return f"“{answer.excerpt}”\n— {attribution(doc)}\n  {doc.url}"
    lines = [refusal_text(answer, max_question_chars)]
    if answer.suggestions:
        lines.append("You could ask:")
        lines.extend(f"  • {q}" for q in answer.suggestions)
    return "\n".join(lines)


def to_html(answer: Answer, max_question_chars: int = 1000) -> str:
    """Render an answer as Telegram HTML: the best sentence in bold, the source as a link."""
    if not (answer.found and answer.document is not None):
        text = html.escape(refusal_text(answer, max_question_chars))
        # Whole suggestions only, while they fit: cutting escaped HTML could split an entity
        # ("&am") and Telegram would refuse the whole message.
        lines = [f"\n• {html.escape(shorten(q, TELEGRAM_TITLE_CHARS))}" for q in answer.suggestions]
        header = "\n\nYou could ask:"
        while lines and len(text) + len(header) + sum(map(len, lines)) > TELEGRAM_MAX_CHARS:
            lines.pop()
        return text + header + "".join(lines) if lines else text
    start, end = answer.highlight
    excerpt = answer.excerpt
    quoted = (
        html.escape(excerpt[:start])
        + (f"<b>{html.escape(excerpt[start:end])}</b>" if end > start else "")
        + html.escape(excerpt[end:])
    )
    doc = answer.document
    publisher = html.escape(shorten(doc.publisher, TELEGRAM_TITLE_CHARS))
    source = f"— {title_link(doc)}, {publisher}, {human_date(doc.published)}"
    return f"“{quoted}”\n\n{source}"


def title_link(document: Document) -> str:
    """A document's title (cut to TELEGRAM_TITLE_CHARS) as a Telegram HTML link to it."""
    title = html.escape(shorten(document.title, TELEGRAM_TITLE_CHARS))
    return f'<a href="{html.escape(document.url, quote=True)}">{title}</a>'


def to_json(answer: Answer) -> dict[str, Any]:
    """Return the `talksbot ask --json` object for an answer."""
    doc = answer.document if answer.found else None
    return {
        "question": answer.question,
        "found": answer.found,
        "excerpt": answer.excerpt if answer.found else "",
        "url": doc.url if doc else "",
        "title": doc.title if doc else "",
        "score": answer.score,
        "passage_id": answer.passage_id,
        "reason": answer.reason,
        "suggestions": list(answer.suggestions),
    }


def source_html(documents: Iterable[Document], excerpt_chars: int = 500) -> str:
    """Render the articles answers come from, each with its date and an active link (Telegram HTML)."""
    lines = []
    for doc in documents:
        publisher = html.escape(shorten(doc.publisher, TELEGRAM_TITLE_CHARS))
        lines.append(f"{title_link(doc)}\n{publisher}, {human_date(doc.published)}")
    body = "\n\n".join(lines) or "No articles are loaded."
    return f"Answers come from:\n\n{body}\n\nEach answer quotes at most {excerpt_chars} characters of the article."


def telegram_warnings(documents: Iterable[Document]) -> list[str]:
    """What of the corpus metadata Telegram replies must shorten: one line per long title, publisher or
    example question (replies cut them to TELEGRAM_TITLE_CHARS characters)."""
    warnings = []
    for doc in documents:
        fields = [("title", doc.title), ("publisher", doc.publisher)]
        fields += [(f"example question {i}", q) for i, q in enumerate(doc.questions, start=1)]
        for name, value in fields:
            if len(value) > TELEGRAM_TITLE_CHARS:
                warnings.append(
                    f"{doc.doc_id}: {name} is {len(value):,} characters; Telegram replies show the first "
                    f"{TELEGRAM_TITLE_CHARS}"
                )
    return warnings


def shorten(text: str, chars: int) -> str:
    """Return text on one line, cut at a word boundary to at most `chars` characters ("…" included)."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    cut = text[: chars - 1]
    if text[chars - 1] != " ":  # do not end in the middle of a word
        cut = cut.rsplit(" ", 1)[0] or cut
    return cut.rstrip(" ,;:") + "…"


def preview(answer: Answer, chars: int = 120) -> str:
    """Return the start of an answer's excerpt (or its refusal) as one plain line of at most `chars`."""
    return shorten(answer.excerpt if answer.found else refusal_text(answer), chars)
