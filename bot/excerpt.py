"""The excerpt: a passage cut to the publisher's limit around the sentence that answers (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.passages import split_sentences
from bot.query import Query
from bot.text import cached_terms, terms

ELLIPSIS = "…"


def shape_excerpt(
    text: str, query: Query, limit: int, similarity: Sequence[float] | None = None
) -> tuple[str, tuple[int, int]]:
    """Cut a passage to at most `limit` characters around its best-matching sentence.

    A sentence matches by the share of the question's words it holds, plus, when given, its
    semantic similarity to the question (one value per sentence, in order).

    Whole sentences are kept, the best one first, then its neighbours while they fit (the
    better-matching neighbour first); "…" marks text cut at either end and counts to the limit.
    Returns the excerpt and the span of the best sentence in it.
    """
    spans = split_sentences(text) or [(0, len(text))]
    values = [query.coverage(frozenset(cached_terms(text[a:b]))) for a, b in spans]
    if similarity is not None and len(similarity) == len(spans):
        values = [v + float(s) for v, s in zip(values, similarity, strict=True)]
    best = max(range(len(spans)), key=lambda i: (values[i], -i))
    lo = hi = best

    def length(first: int, last: int) -> int:
        size = spans[last][1] - spans[first][0]
        return size + (len(ELLIPSIS) + 1 if first > 0 else 0) + (len(ELLIPSIS) + 1 if last < len(spans) - 1 else 0)

    if length(lo, hi) > limit:
        return _cut_words(text[spans[best][0] : spans[best][1]], query, limit)
    while True:
        options = []
        if lo > 0 and length(lo - 1, hi) <= limit:
            options.append((values[lo - 1], 0, lo - 1, hi))
        if hi < len(spans) - 1 and length(lo, hi + 1) <= limit:
            options.append((values[hi + 1], 1, lo, hi + 1))
        if not options:
            break
        _, _, lo, hi = max(options)
    prefix = ELLIPSIS + " " if lo > 0 else ""
    suffix = " " + ELLIPSIS if hi < len(spans) - 1 else ""
    body = text[spans[lo][0] : spans[hi][1]]
    start = len(prefix) + spans[best][0] - spans[lo][0]
    return prefix + body + suffix, (start, start + spans[best][1] - spans[best][0])


def _cut_words(sentence: str, query: Query, limit: int) -> tuple[str, tuple[int, int]]:
    """Cut one over-long sentence at word boundaries around its best-matching words."""
    tokens = sentence.split(" ")
    hits = [bool(query.coverage(frozenset(terms(t)))) for t in tokens]
    room = limit - 2 * (len(ELLIPSIS) + 1)
    best_start, best_value = 0, -1
    for start in range(len(tokens)):
        size, value, end = -1, 0, start
        while end < len(tokens) and size + 1 + len(tokens[end]) <= room:
            size += 1 + len(tokens[end])
            value += hits[end]
            end += 1
        if end > start and value > best_value:
            best_start, best_value = start, value
    size, end = -1, best_start
    while end < len(tokens) and size + 1 + len(tokens[end]) <= room:
        size += 1 + len(tokens[end])
        end += 1
    body = " ".join(tokens[best_start:end]) or sentence[:room]
    prefix = ELLIPSIS + " " if best_start > 0 else ""
    suffix = " " + ELLIPSIS if end < len(tokens) else ""
    return prefix + body + suffix, (len(prefix), len(prefix) + len(body))
