"""Passages as term numbers (pure): counting them, and joining counts made apart into the counts of the whole.

Counts made over parts of a corpus (two processes' halves, or the unchanged documents of an earlier
build beside the changed ones) join into exactly the arrays that counting the whole corpus at once
gives: terms are numbered in order of first appearance, as rank-bm25 meets them.
"""

from __future__ import annotations

import itertools
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.text import (
    ABBREVIATIONS,
    STOP_WORDS,
    depends_on_shouting,
    fold_chunks,
    is_shouting,
    raw_tokens,
    stem,
    stem_all,
    token_words,
)

# The one term of a passage without content words (a BM25 document needs at least one term).
EMPTY_TERM = "\x00empty"


@dataclass(frozen=True)
class TermCounts:
    """Passages as term numbers: each passage's distinct terms and how often each occurs."""

    vocabulary: tuple[str, ...]  # term number → stem, in order of first appearance
    passage_starts: npt.NDArray[np.int64]  # passage p's terms: [passage_starts[p], passage_starts[p + 1])
    passage_terms: npt.NDArray[np.int32]
    frequencies: npt.NDArray[np.int32]  # how often each of those terms occurs in its passage
    lengths: npt.NDArray[np.int64]  # terms per passage, repeats included (rank-bm25's doc_len)
    token_starts: npt.NDArray[np.int64]  # passage p's stems in text order: [token_starts[p], token_starts[p + 1])
    tokens: npt.NDArray[np.int32]
    word_counts: Mapping[str, int] = field(default_factory=dict)  # unstemmed content word → occurrences

    @property
    def surface_words(self) -> frozenset[str]:
        """The unstemmed content words, for spelling correction."""
        return frozenset(word for word, count in self.word_counts.items() if count > 0)

    def __len__(self) -> int:
        return len(self.lengths)


def count_terms(texts: Iterable[str]) -> TermCounts:
    """Tokenize texts into stems (bot.text.terms, an empty text counting as EMPTY_TERM) and count them.

    Each text is cut at its spaces into chunks ("talks", "talks."); each distinct chunk is analysed
    and stemmed once, and the rest is array work: a corpus repeats its chunks.
    """
    texts = list(texts)
    table: dict[str, int] = {}
    numbers = itertools.count()
    seen = array("i")  # each chunk's number in `table` (first come, not dense)
    chunk_starts = array("q", [0])
    for text in texts:
        seen.extend(map(table.setdefault, fold_chunks(text), numbers))
        chunk_starts.append(len(seen))
    analysis = _Analysis(table)
    chunks = analysis.dense(np.frombuffer(seen, dtype=np.int32))
    del seen
    starts = np.frombuffer(chunk_starts, dtype=np.int64)
    chunks = analysis.shout(chunks, starts, texts)
    tokens, token_starts = analysis.expand(chunks, starts)
    word_counts = analysis.word_counts(np.bincount(chunks, minlength=analysis.size))
    del chunks
    passage_starts, passage_terms, frequencies = _distinct(tokens, token_starts, analysis.empty_term())
    vocabulary, renumber = _first_appearance(tuple(analysis.terms), passage_terms)
    return TermCounts(
        vocabulary=vocabulary,
        passage_starts=passage_starts,
        passage_terms=renumber[passage_terms],
        frequencies=frequencies,
        lengths=np.maximum(np.diff(token_starts), 1),
        token_starts=token_starts,
        tokens=renumber[tokens],
        word_counts=word_counts,
    )


class _Analysis:
    """The distinct chunks of a count, analysed: their words, and their terms numbered as first met."""

    def __init__(self, table: dict[str, int]) -> None:
        self.terms: dict[str, int] = {}
        self.words: list[tuple[str, ...]] = []
        self.term_lists: list[tuple[int, ...]] = []
        self.capitals: list[bool] = []
        self._numbers = np.fromiter(table.values(), dtype=np.int64, count=len(table))
        self._chunks = list(table)
        self._shouted: dict[int, int] = {}
        for chunk in self._chunks:
            found = _plain_words(chunk)
            if found is None:
                raws = raw_tokens(chunk)
                self.capitals.append(any(depends_on_shouting(raw) for raw in raws))
                found = tuple(word for raw in raws for word in token_words(raw, False))
            else:
                self.capitals.append(False)
            self.words.append(found)
        distinct = list(dict.fromkeys(word for found in self.words for word in found))
        self._stems = dict(zip(distinct, stem_all(distinct), strict=True))
        for found in self.words:
            self.term_lists.append(tuple(self.terms.setdefault(self._stems[word], len(self.terms)) for word in found))

    @property
    def size(self) -> int:
        return len(self.words)

    def _add(self, raws: list[str], shouting: bool) -> int:
        found = tuple(word for raw in raws for word in token_words(raw, shouting))
        self.words.append(found)
        self.term_lists.append(tuple(self.terms.setdefault(stem(word), len(self.terms)) for word in found))
        return len(self.words) - 1


    def dense(self, seen: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        """Return the chunk numbers of `table` as 0, 1, 2… in order of first appearance."""
        dense = np.zeros(int(self._numbers.max()) + 1 if len(self._numbers) else 1, dtype=np.int32)
        dense[self._numbers] = np.arange(len(self._numbers), dtype=np.int32)
        return dense[seen]

    def shout(
        self, chunks: npt.NDArray[np.int32], starts: npt.NDArray[np.int64], texts: Sequence[str]
    ) -> npt.NDArray[np.int32]:
        """In texts written in capitals, give all-capital chunks ("US") their shouted analysis (a stop word)."""
        capitals = np.array(self.capitals, dtype=bool)
        where = np.flatnonzero(capitals[chunks])
        if len(where) == 0:
            return chunks
        owners = np.searchsorted(starts, where, side="right") - 1
        shouting = {int(p) for p in np.unique(owners) if is_shouting(" ".join(fold_chunks(texts[int(p)])))}
        chunks = chunks.copy()
        for at, owner in zip(where.tolist(), owners.tolist(), strict=True):
            if owner in shouting:
                chunk = int(chunks[at])
                if chunk not in self._shouted:
                    self._shouted[chunk] = self._add(raw_tokens(self._chunks[chunk]), shouting=True)
                chunks[at] = self._shouted[chunk]
        return chunks

    def expand(
        self, chunks: npt.NDArray[np.int32], starts: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        """Return the texts' term numbers in order, and where each text's start."""
        sizes = np.array([len(t) for t in self.term_lists], dtype=np.int64)
        flat = np.fromiter((t for terms in self.term_lists for t in terms), dtype=np.int32, count=int(sizes.sum()))
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        per_chunk = sizes[chunks]
        ends = np.zeros(len(chunks) + 1, dtype=np.int64)
        np.cumsum(per_chunk, out=ends[1:])
        total = int(ends[-1])
        # token i comes from chunk c = owner[i], at place i - ends[c] among that chunk's terms
        owner = np.repeat(np.arange(len(chunks), dtype=np.int64), per_chunk)
        tokens = flat[offsets[chunks[owner]] + (np.arange(total, dtype=np.int64) - ends[owner])]
        return tokens, ends[starts]

    def word_counts(self, occurrences: npt.NDArray[np.int64]) -> dict[str, int]:
        """Return how often each content word occurs, from how often each chunk does."""
        counts: Counter[str] = Counter()
        for chunk in np.flatnonzero(occurrences).tolist():
            for word in self.words[chunk]:
                counts[word] += int(occurrences[chunk])
        return dict(counts)

    def empty_term(self) -> int:
        """Return the number of EMPTY_TERM, the one term of a text without content words."""
        return self.terms.setdefault(EMPTY_TERM, len(self.terms))


def _plain_words(chunk: str) -> tuple[str, ...] | None:
    """The words of a chunk that is one lower-case ASCII word (a full stop or comma after it at most), else None.

    The same as bot.text.words gives, without its regular expression: most chunks of prose are such words.
    """
    word = chunk[:-1] if chunk[-1] in ".,;:!?" else chunk
    if not (word.isascii() and word.isalpha() and word.islower()) or word in ABBREVIATIONS:
        return None
    return () if word in STOP_WORDS else (word,)


def _distinct(
    tokens: npt.NDArray[np.int32], token_starts: npt.NDArray[np.int64], empty: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Return each text's distinct terms in order of first appearance and how often each occurs."""
    texts = len(token_starts) - 1
    lengths = np.diff(token_starts)
    owners = np.repeat(np.arange(texts, dtype=np.int64), lengths)
    places = np.arange(len(tokens), dtype=np.int64)
    hollow = np.flatnonzero(lengths == 0)  # texts without content words hold EMPTY_TERM once
    owners = np.concatenate([owners, hollow])
    terms = np.concatenate([tokens.astype(np.int64), np.full(len(hollow), empty, dtype=np.int64)])
    places = np.concatenate([places, token_starts[hollow]])
    width = int(terms.max()) + 1 if len(terms) else 1
    pairs, first, counts = np.unique(owners * width + terms, return_index=True, return_counts=True)
    order = np.lexsort((places[first], pairs // width))
    pairs, counts = pairs[order], counts[order]
    starts = np.zeros(texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs // width, minlength=texts), out=starts[1:])
    return starts, (pairs % width).astype(np.int32), counts.astype(np.int32)


def take_passages(counts: TermCounts, start: int, end: int) -> TermCounts:
    """Return the counts of passages [start, end) alone (same vocabulary; no word counts)."""
    a, b = int(counts.passage_starts[start]), int(counts.passage_starts[end])
    c, d = int(counts.token_starts[start]), int(counts.token_starts[end])
    return TermCounts(
        vocabulary=counts.vocabulary,
        passage_starts=counts.passage_starts[start : end + 1] - a,
        passage_terms=counts.passage_terms[a:b],
        frequencies=counts.frequencies[a:b],
        lengths=counts.lengths[start:end],
        token_starts=counts.token_starts[start : end + 1] - c,
        tokens=counts.tokens[c:d],
    )


def merge_counts(parts: Sequence[TermCounts], word_counts: Mapping[str, int]) -> TermCounts:
    """Join the counts of consecutive runs of passages into the counts of them all, as count_terms gives them.

    Parts may share a vocabulary (slices of one earlier count) or have their own; terms no passage
    holds any more are dropped, and the rest numbered in order of first appearance.
    """
    if not parts:
        raise ValueError("nothing to merge")
    numbers: dict[str, int] = {}
    maps: dict[int, npt.NDArray[np.int32]] = {}
    for part in parts:
        if id(part.vocabulary) not in maps:
            ids = [numbers.setdefault(term, len(numbers)) for term in part.vocabulary]
            maps[id(part.vocabulary)] = np.array(ids, dtype=np.int32)
    terms = np.concatenate([maps[id(p.vocabulary)][p.passage_terms] for p in parts])
    tokens = np.concatenate([maps[id(p.vocabulary)][p.tokens] for p in parts])
    vocabulary, renumber = _first_appearance(tuple(numbers), terms)
    return TermCounts(
        vocabulary=vocabulary,
        passage_starts=_join_starts([p.passage_starts for p in parts]),
        passage_terms=renumber[terms],
        frequencies=np.concatenate([p.frequencies for p in parts]),
        lengths=np.concatenate([p.lengths for p in parts]),
        token_starts=_join_starts([p.token_starts for p in parts]),
        tokens=renumber[tokens],
        word_counts=dict(word_counts),
    )


def _first_appearance(
    vocabulary: tuple[str, ...], passage_terms: npt.NDArray[np.int32]
) -> tuple[tuple[str, ...], npt.NDArray[np.int32]]:
    """Return the used terms in order of first appearance and the old number → new number map."""
    first = np.full(len(vocabulary), len(passage_terms), dtype=np.int64)
    np.minimum.at(first, passage_terms, np.arange(len(passage_terms), dtype=np.int64))
    used = np.flatnonzero(first < len(passage_terms))
    order = used[np.argsort(first[used], kind="stable")]
    renumber = np.full(len(vocabulary), -1, dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    return tuple(vocabulary[i] for i in order.tolist()), renumber


def _join_starts(parts: Sequence[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
    """Join start arrays (each from 0 to its part's total) into one."""
    pieces = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for starts in parts:
        pieces.append(starts[1:] + offset)
        offset += int(starts[-1])
    return np.concatenate(pieces)
