"""The BM25 index over passages: rank-bm25's BM25Okapi scores, served from precomputed postings.

rank-bm25 scores a question by walking every passage's term dictionary in Python, so a question
costs time in proportion to the whole archive. This index computes the same per-(term, passage)
contributions once, with rank-bm25's own formulas and parameters, keeps them as one row of
postings per term (compressed sparse rows in numpy arrays), and scores a question by adding up
only the rows of its terms. tests/test_index.py holds the scores to rank-bm25's own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.counts import EMPTY_TERM as EMPTY_TERM
from bot.counts import TermCounts, count_terms
from bot.passages import Passage

# rank-bm25's BM25Okapi defaults: term-frequency saturation, length normalisation, and the floor
# it gives a negative idf as a share of the average idf.
K1 = 1.5
B = 0.75
EPSILON = 0.25
# Floor for idf values, as a share of the average idf (rank-bm25's own epsilon). rank-bm25 only
# floors negative idf; a word in exactly half the passages gets idf 0 and would never count.
IDF_FLOOR_SHARE = 0.25
IDF_FLOOR_MIN = 0.05


@dataclass(frozen=True)
class Hit:
    """One ranked passage: its position in the index and its BM25 score."""

    position: int
    score: float


@dataclass(frozen=True)
class Postings:
    """The index as arrays: per term, the passages holding it and its BM25 contribution to each."""

    vocabulary: tuple[str, ...]
    term_starts: npt.NDArray[np.int64]  # term t's postings: [term_starts[t], term_starts[t + 1])
    positions: npt.NDArray[np.int32]  # the passage of each posting, ascending within a term
    contributions: npt.NDArray[np.float64]  # rank-bm25's score of the term for that passage
    passage_starts: npt.NDArray[np.int64]  # passage p's terms: [passage_starts[p], passage_starts[p + 1])
    passage_terms: npt.NDArray[np.int32]
    token_starts: npt.NDArray[np.int64]  # passage p's stems in text order: [token_starts[p], token_starts[p + 1])
    tokens: npt.NDArray[np.int32]

    def check(self, passages: int) -> None:
        """Raise ValueError unless the arrays fit together and index `passages` passages."""
        terms = len(self.vocabulary)
        fits = (
            self.term_starts.shape == (terms + 1,)
            and self.passage_starts.shape == (passages + 1,)
            and self.token_starts.shape == (passages + 1,)
            and self.positions.shape == self.contributions.shape
            and int(self.term_starts[0]) == 0 == int(self.passage_starts[0])
            and int(self.term_starts[-1]) == len(self.positions)
            and int(self.passage_starts[-1]) == len(self.passage_terms)
            and int(self.token_starts[0]) == 0
            and int(self.token_starts[-1]) == len(self.tokens)
            and bool(np.all(np.diff(self.token_starts) >= 0))
            and bool(np.all(np.diff(self.term_starts) >= 0))
            and bool(np.all(np.diff(self.passage_starts) >= 0))
            and _within(self.positions, passages)
            and _within(self.passage_terms, terms)
            and _within(self.tokens, terms)
            and bool(np.all(np.isfinite(self.contributions)))
        )
        if not fits:
            raise ValueError("index arrays do not fit together")


def _within(numbers: npt.NDArray[np.int32], limit: int) -> bool:
    return len(numbers) == 0 or (int(numbers.min()) >= 0 and int(numbers.max()) < limit)


def weigh_idf(document_frequencies: Sequence[int], passages: int) -> list[float]:
    """Return each term's idf as rank-bm25's BM25Okapi computes it, then floored (IDF_FLOOR_*)."""
    idf = []
    total = 0.0
    for frequency in document_frequencies:  # in order of first appearance, as rank-bm25 sums them
        value = math.log(passages - frequency + 0.5) - math.log(frequency + 0.5)
        idf.append(value)
        total += value
    average = total / len(idf)
    negative = EPSILON * average
    floor = max(IDF_FLOOR_SHARE * average, IDF_FLOOR_MIN)
    floored = []
    for value in idf:
        if value < 0:
            value = negative
        floored.append(floor if value < floor else value)
    return floored


def weigh(counts: TermCounts) -> Postings:
    """Turn term counts into postings of rank-bm25 BM25Okapi contributions (same formula, same order)."""
    passages = len(counts.lengths)
    terms = len(counts.vocabulary)
    document_frequencies = np.bincount(counts.passage_terms, minlength=terms)
    idf = np.array(weigh_idf(document_frequencies.tolist(), passages))
    average_length = int(counts.lengths.sum()) / passages
    # rank-bm25: idf * (q_freq * (k1 + 1) / (q_freq + k1 * (1 - b + b * doc_len / avgdl))); the same
    # IEEE operations in the same order give the same values, computed per passage where they can be.
    normalised = K1 * (1 - B + B * counts.lengths / average_length)
    order = np.argsort(counts.passage_terms, kind="stable")  # term-major; passages stay ascending
    owners = np.repeat(np.arange(passages, dtype=np.int32), np.diff(counts.passage_starts))
    positions = owners[order]
    del owners
    term_of_posting = counts.passage_terms[order]
    frequency = counts.frequencies[order]
    del order
    denominator = normalised[positions]
    denominator += frequency
    contributions = np.multiply(frequency, K1 + 1)
    del frequency
    contributions /= denominator
    del denominator
    contributions *= idf[term_of_posting]
    del term_of_posting
    term_starts = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(document_frequencies, out=term_starts[1:])
    return Postings(
        vocabulary=counts.vocabulary,
        term_starts=term_starts,
        positions=positions,
        contributions=contributions,
        passage_starts=counts.passage_starts,
        passage_terms=counts.passage_terms,
        token_starts=counts.token_starts,
        tokens=counts.tokens,
    )


def select(scores: npt.NDArray[np.float64], k: int) -> list[Hit]:
    """Return the k best positive scores as hits, best first (ties: earlier position first)."""
    if k <= 0:
        return []
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        values = scores[candidates]
        threshold = np.partition(values, len(values) - k)[len(values) - k]
        candidates = candidates[values >= threshold]  # the k best and anything tied with the k-th
    values = scores[candidates]
    order = np.lexsort((candidates, -values))[:k]
    return [Hit(int(candidates[i]), float(values[i])) for i in order]


class Index:
    """BM25 over the passages' stems, plus what the answer step needs to look words up."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        """Tokenize every passage and compute its postings; needs at least one passage."""
        if not passages:
            raise ValueError("an index needs at least one passage")
        counts = count_terms(p.text for p in passages)
        self._adopt(tuple(passages), weigh(counts), counts.surface_words)

    @classmethod
    def from_counts(cls, passages: Sequence[Passage], counts: TermCounts) -> Index:
        """Index passages whose terms were already counted (count_terms of their texts, or counts merged)."""
        if not passages or len(passages) != len(counts):
            raise ValueError("an index needs at least one passage, and the counts of each")
        index = cls.__new__(cls)
        index._adopt(tuple(passages), weigh(counts), counts.surface_words)
        return index

    @classmethod
    def restore(cls, passages: Sequence[Passage], postings: Postings, surface_words: frozenset[str]) -> Index:
        """Rebuild an index from saved postings (see bot.cache); raises ValueError if they don't fit."""
        if not passages:
            raise ValueError("an index needs at least one passage")
        postings.check(len(passages))
        index = cls.__new__(cls)
        index._adopt(tuple(passages), postings, surface_words)
        return index

    def _adopt(self, passages: tuple[Passage, ...], postings: Postings, surface_words: frozenset[str]) -> None:
        self.passages = passages
        self.postings = postings
        self.surface_words = surface_words
        self.vocabulary = frozenset(postings.vocabulary)  # the stems that occur in some passage
        self._term_numbers = {term: number for number, term in enumerate(postings.vocabulary)}
        self._term_starts = postings.term_starts.tolist()
        self._passage_starts = postings.passage_starts
        # Candidates recur from question to question; remember where their terms stand.
        self.positions_of = functools.lru_cache(maxsize=4096)(self._positions_of)

    def __len__(self) -> int:
        return len(self.passages)

    def terms_of(self, position: int) -> frozenset[str]:
        """Return the set of stems of the passage at this position."""
        start, end = self._passage_starts[position], self._passage_starts[position + 1]
        vocabulary = self.postings.vocabulary
        return frozenset([vocabulary[t] for t in self.postings.passage_terms[start:end].tolist()])

    def terms_in(self, start: int, end: int) -> frozenset[str]:
        """Return the set of stems of the passages at positions [start, end)."""
        a, b = self._passage_starts[start], self._passage_starts[end]
        vocabulary = self.postings.vocabulary
        return frozenset([vocabulary[t] for t in np.unique(self.postings.passage_terms[a:b]).tolist()])

    def _positions_of(self, position: int) -> Mapping[str, tuple[int, ...]]:
        """Return each stem of the passage at this position with the places it stands at."""
        where: dict[str, list[int]] = {}
        for i, term in enumerate(self.tokens_of(position)):
            where.setdefault(term, []).append(i)
        return {term: tuple(spots) for term, spots in where.items()}

    def tokens_of(self, position: int) -> list[str]:
        """Return the stems of the passage at this position in text order, as bot.text.terms gives them."""
        start, end = self.postings.token_starts[position], self.postings.token_starts[position + 1]
        vocabulary = self.postings.vocabulary
        return [vocabulary[t] for t in self.postings.tokens[start:end].tolist()]

    def scores(self, weighted_terms: Mapping[str, float]) -> npt.NDArray[np.float64]:
        """Return every passage's score: the weighted sum of rank-bm25's per-term scores."""
        total = np.zeros(len(self.passages))
        for term, weight in weighted_terms.items():
            number = self._term_numbers.get(term)
            if number is None:
                continue
            start, end = self._term_starts[number], self._term_starts[number + 1]
            total[self.postings.positions[start:end]] += weight * self.postings.contributions[start:end]
        return total

    def search(self, weighted_terms: Mapping[str, float], k: int = 5) -> list[Hit]:
        """Return the k best passages with a positive score, best first (ties: earlier first)."""
        return select(self.scores(weighted_terms), k)
