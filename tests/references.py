"""The outside reference the index is held to: rank-bm25's BM25Okapi, with idf floored as bot.index floors it."""

from __future__ import annotations

from collections.abc import Sequence

from rank_bm25 import BM25Okapi

from bot.index import EMPTY_TERM, IDF_FLOOR_MIN, IDF_FLOOR_SHARE
from bot.passages import Passage
from bot.text import terms


def floored_rank_bm25(passages: Sequence[Passage]) -> BM25Okapi:
    """rank-bm25 itself over the passages' terms, with idf values under the floor raised to it."""
    model = BM25Okapi([terms(p.text) or [EMPTY_TERM] for p in passages])
    floor = max(IDF_FLOOR_SHARE * model.average_idf, IDF_FLOOR_MIN)
    for term, value in model.idf.items():
        if value < floor:
            model.idf[term] = floor
    return model
