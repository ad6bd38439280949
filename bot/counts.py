"""Passages as term numbers (pure): counting them, and joining counts made apart into the counts of the whole.

Counts made over parts of a corpus (two processes' halves, or the unchanged documents of an earlier
build beside the changed ones) join into exactly the arrays that counting the whole corpus at once
gives: terms are numbered in order of first appearance, as rank-bm25 meets them.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.text import depends_on_shouting, fold_chunks, is_shouting, raw_tokens, stem, token_words

# The one term of a passage without content words, as the design's rank-bm25 model had it.
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


_Entry = tuple[tuple[str, ...], tuple[int, ...]]


def count_terms(texts: Iterable[str]) -> TermCounts:
    """Tokenize texts into stems (bot.text.terms, an empty text counting as EMPTY_TERM) and count them.

    Each distinct chunk of text between spaces is analysed and stemmed once: a corpus repeats its words.
    """
    term_numbers: dict[str, int] = {}
    memo: dict[str, _Entry] = {}
    capitals: dict[tuple[str, bool], _Entry] = {}  # all-capital tokens: their words depend on the text
    word_counts: Counter[str] = Counter()
    starts, terms, frequencies = array("q", [0]), array("i"), array("i")
    token_starts, tokens, lengths = array("q", [0]), array("i"), array("q")
    for text in texts:
        chunks = fold_chunks(text)
        shouting: bool | None = None
        found_words: list[str] = []
        found: list[int] = []
        for chunk in chunks:  # a text repeats its chunks ("talks", "talks."): each is analysed once
            entry = memo.get(chunk)
            if entry is None:
                raws = raw_tokens(chunk)
                if any(depends_on_shouting(raw) for raw in raws):
                    shouting = is_shouting(" ".join(chunks)) if shouting is None else shouting
                    entry = capitals.get((chunk, shouting))
                    if entry is None:
                        entry = capitals[chunk, shouting] = _analyse(raws, shouting, term_numbers)
                else:
                    entry = memo[chunk] = _analyse(raws, False, term_numbers)
            found_words += entry[0]
            found += entry[1]
        word_counts.update(found_words)
        tokens.extend(found)
        token_starts.append(len(tokens))
        counts = Counter(found) if found else {term_numbers.setdefault(EMPTY_TERM, len(term_numbers)): 1}
        terms.extend(counts.keys())
        frequencies.extend(counts.values())
        starts.append(len(terms))
        lengths.append(max(len(found), 1))
    return TermCounts(
        vocabulary=tuple(term_numbers),
        passage_starts=np.frombuffer(starts, dtype=np.int64),  # views of the arrays: no copies
        passage_terms=np.frombuffer(terms, dtype=np.int32),
        frequencies=np.frombuffer(frequencies, dtype=np.int32),
        lengths=np.frombuffer(lengths, dtype=np.int64),
        token_starts=np.frombuffer(token_starts, dtype=np.int64),
        tokens=np.frombuffer(tokens, dtype=np.int32),
        word_counts=dict(word_counts),
    )


def _analyse(raws: Iterable[str], shouting: bool, term_numbers: dict[str, int]) -> _Entry:
    found = tuple(word for raw in raws for word in token_words(raw, shouting))
    return found, tuple(term_numbers.setdefault(stem(word), len(term_numbers)) for word in found)


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
