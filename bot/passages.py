"""Passages: the answerable units of a document, and the sentences inside them (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.corpus import Document

# Paragraphs longer than this are split at sentence boundaries into passages of about this size.
MAX_PASSAGE_CHARS = 900
# A paragraph shorter than this ("“No one else has anything to say,” he said.") joins the one
# before it, which says who is speaking and about what.
SHORT_PARAGRAPH = 160
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st gen col lt sgt capt maj prof jr sr vs etc inc ltd co corp no jan feb mar apr "
    "jun jul aug sep sept oct nov dec u.s u.k e.g i.e".split()
)
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_OPEN_QUOTES = re.compile(r"[“]|(?:^|(?<=\s))\"")
_CLOSE_QUOTES = re.compile(r"[”]|\"(?=\s|$|[.,;:!?])")


@dataclass(frozen=True)
class Passage:
    """A stretch of one document's text that can answer a question on its own."""

    passage_id: str
    doc_id: str
    ordinal: int
    text: str


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) character spans of the sentences of a text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()].rstrip("\"'”’)]")
        last_word = before.rsplit(None, 1)[-1].rstrip(".").casefold() if before.strip() else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    if start < len(text.rstrip()):
        spans.append((start, len(text.rstrip())))
    return spans


def split_passages(document: Document) -> list[Passage]:
    """Split a document into passages: its paragraphs, with broken paragraphs mended.

    A paragraph that stops mid-sentence or inside an open quotation is joined to the next one,
    so a quote the page set over two paragraphs stays one answer; a very short paragraph joins
    the one before it. Very long paragraphs are cut at sentence boundaries.
    """
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", document.body) if p.strip()]
    texts: list[str] = []
    pending = ""
    for paragraph in paragraphs:
        pending = f"{pending} {paragraph}" if pending else paragraph
        if _is_complete(pending):
            if texts and len(pending) < SHORT_PARAGRAPH and len(texts[-1]) + len(pending) < MAX_PASSAGE_CHARS:
                texts[-1] = f"{texts[-1]} {pending}"  # a one-line quote belongs to its context
            else:
                texts.append(pending)
            pending = ""
    if pending:
        texts.append(pending)
    texts = [chunk for text in texts for chunk in _cut_long(text)]
    return [
        Passage(passage_id=f"{document.doc_id}#{n}", doc_id=document.doc_id, ordinal=n, text=text)
        for n, text in enumerate(texts)
    ]


def split_all(documents: Iterable[Document]) -> list[Passage]:
    """Return the passages of all documents, in order."""
    return [p for doc in documents for p in split_passages(doc)]


def _is_complete(text: str) -> bool:
    if ('"' in text or "“" in text) and len(_OPEN_QUOTES.findall(text)) > len(_CLOSE_QUOTES.findall(text)):
        return False
    tail = text.rstrip("\"'”’)] ")
    if not tail:
        return True
    # A caption ("... Screenshot: France24") is complete without a full stop; a paragraph that
    # ends on a lower-case word and no punctuation ("... both parties had") stops mid-sentence.
    last = tail.rsplit(None, 1)[-1]
    return tail[-1] in ".!?…:;" or not last[0].islower()


def _cut_long(text: str) -> list[str]:
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    return _pack(piece for start, end in split_sentences(text) for piece in _cut_words(text[start:end]))


def _cut_words(sentence: str) -> list[str]:
    """A sentence longer than a passage may be, cut at word boundaries (a longer word: hard) into pieces
    of at most MAX_PASSAGE_CHARS, so no text without sentence breaks becomes one huge passage."""
    if len(sentence) <= MAX_PASSAGE_CHARS:
        return [sentence]
    words = sentence.split()
    return _pack(word[at : at + MAX_PASSAGE_CHARS] for word in words for at in range(0, len(word), MAX_PASSAGE_CHARS))


def _pack(pieces: Iterable[str]) -> list[str]:
    """Join pieces with spaces, greedily, into chunks of at most MAX_PASSAGE_CHARS (a longer piece stays whole)."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > MAX_PASSAGE_CHARS:
            chunks.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks
