"""The BM25 index over passages (rank-bm25's BM25Okapi), queried with weighted terms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]

from bot.passages import Passage
from bot.text import terms, words

# Floor for idf values, as a share of the average idf (rank-bm25's own epsilon). rank-bm25 only
# floors negative idf; a word in exactly half the passages gets idf 0 and would never count.
IDF_FLOOR_SHARE = 0.25
IDF_FLOOR_MIN = 0.05


@dataclass(frozen=True)
class Hit:
    """One ranked passage: its position in the index and its BM25 score."""

    position: int
    score: float


class Index:
    """BM25 over the passages' stems, plus what the answer step needs to look words up."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        """Tokenize every passage and build rank-bm25's model; needs at least one passage."""
        if not passages:
            raise ValueError("an index needs at least one passage")
        self.passages = tuple(passages)
        tokenized = [terms(p.text) or ["\x00empty"] for p in self.passages]
        self.term_sets = tuple(frozenset(t) for t in tokenized)
        self.surface_words = frozenset(w for p in self.passages for w in words(p.text))
        self.bm25 = BM25Okapi(tokenized)
        floor = max(IDF_FLOOR_SHARE * self.bm25.average_idf, IDF_FLOOR_MIN)
        for term, value in self.bm25.idf.items():
            if value < floor:
                self.bm25.idf[term] = floor

    def __len__(self) -> int:
        return len(self.passages)

    def terms_of(self, position: int) -> frozenset[str]:
        """Return the set of stems of the passage at this position."""
        return self.term_sets[position]

    @property
    def vocabulary(self) -> frozenset[str]:
        """The stems that occur in some passage."""
        return frozenset(self.bm25.idf)

    def scores(self, weighted_terms: Mapping[str, float]) -> np.ndarray:
        """Return every passage's score: the weighted sum of rank-bm25's per-term scores."""
        total = np.zeros(len(self.passages))
        for term, weight in weighted_terms.items():
            if term in self.bm25.idf:
                total += weight * self.bm25.get_scores([term])
        return total

    def search(self, weighted_terms: Mapping[str, float], k: int = 5) -> list[Hit]:
        """Return the k best passages with a positive score, best first (ties: earlier first)."""
        scores = self.scores(weighted_terms)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [Hit(int(i), float(scores[i])) for i in order if scores[i] > 0]
