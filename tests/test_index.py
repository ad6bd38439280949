"""The postings index gives rank-bm25's BM25Okapi scores, with the idf floor, on a generated corpus."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from benchmarks.generate import draw_passages
from bot.index import EMPTY_TERM, IDF_FLOOR_MIN, IDF_FLOOR_SHARE, Hit, Index, Postings, select
from bot.passages import Passage
from bot.text import terms, words
from tests.references import floored_rank_bm25

PASSAGES = 2000
QUERIES = 2000
# Passages that exercise the edges: no content words at all, hyphens and possessives, a repeated word.
ODD_TEXTS = [
    "The and of it. Was it?",
    "NATO's build-up near Ukraine's border; a build-up, a buildup.",
    "Talks talks talks talks talks about talks.",
    "THE US AND IT ARE HERE, SAID THE WHO.",  # all capitals: "US", "IT" and "WHO" are stop words here
    "The US and IT are here, said the WHO.",  # acronyms among lower-case words: kept
]


@pytest.fixture(scope="module")
def generated() -> tuple[list[Passage], list[str]]:
    """A few thousand generated passages (plus odd ones) and questions about them."""
    texts, questions = draw_passages(PASSAGES, QUERIES, seed=7)
    texts[10:10] = ODD_TEXTS
    passages = [Passage(f"doc{n // 10}#{n % 10}", f"doc{n // 10}", n % 10, t) for n, t in enumerate(texts)]
    return passages, questions


@pytest.fixture(scope="module")
def index(generated: tuple[list[Passage], list[str]]) -> Index:
    return Index(generated[0])


@pytest.fixture(scope="module")
def reference(generated: tuple[list[Passage], list[str]]) -> BM25Okapi:
    """rank-bm25 itself, with its idf floored as bot.index floors it."""
    return floored_rank_bm25(generated[0])


def test_scores_equal_rank_bm25_on_thousands_of_queries(
    generated: tuple[list[Passage], list[str]], index: Index, reference: BM25Okapi
) -> None:
    exact = 0
    for question in generated[1]:
        query = list(dict.fromkeys(terms(question)))
        ours = index.scores(dict.fromkeys(query, 1.0))
        theirs = reference.get_scores(query)
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-12), question
        exact += bool(np.array_equal(ours, theirs))
        hits = index.search(dict.fromkeys(query, 1.0), 1)
        best = theirs.max()
        if best <= 0:
            assert hits == []
        else:
            assert hits[0].position in set(np.flatnonzero(theirs == best).tolist()), question
            assert hits[0].score == pytest.approx(best, rel=1e-12)
    # Same formula, same operation order: the scores are not just close but identical.
    assert exact == len(generated[1])


def test_weighted_scores_are_rank_bm25_per_term_scores_weighted(
    generated: tuple[list[Passage], list[str]], index: Index, reference: BM25Okapi
) -> None:
    rng = np.random.default_rng(3)
    for question in generated[1][:300]:
        query = {t: float(rng.choice([1.0, 0.5, 0.25])) for t in terms(question)}
        query["notaword"] = 1.0
        expected = np.zeros(len(index))
        for term, weight in query.items():
            if term in reference.idf:
                expected += weight * reference.get_scores([term])
        assert np.allclose(index.scores(query), expected, rtol=1e-12, atol=1e-12)


def test_idf_is_rank_bm25s_floored(index: Index, reference: BM25Okapi) -> None:
    assert index.vocabulary == frozenset(reference.idf)
    # Words common enough for rank-bm25's negative-idf floor exist in generated English text.
    assert sum(1 for v in reference.idf.values() if v == max(IDF_FLOOR_SHARE * reference.average_idf, IDF_FLOOR_MIN))


def test_passage_lookups_match_the_tokenizer(generated: tuple[list[Passage], list[str]], index: Index) -> None:
    passages = generated[0]
    assert len(index) == len(passages) and index.passages == tuple(passages)
    assert index.surface_words == frozenset(w for p in passages for w in words(p.text))
    for position in [*range(8, 16), 500, len(passages) - 1]:
        text = passages[position].text
        assert index.tokens_of(position) == terms(text)
        assert index.terms_of(position) == (frozenset(terms(text)) or frozenset({EMPTY_TERM}))


def test_empty_and_unknown_queries_find_nothing(index: Index) -> None:
    assert index.search({}, 5) == []
    assert index.search({"zzzqqq": 1.0}, 5) == []
    assert not index.scores({"zzzqqq": 1.0}).any()


def test_select_prefers_higher_then_earlier_and_drops_nonpositive() -> None:
    scores = np.array([0.0, 2.0, 1.0, 2.0, -1.0, 1.0, 2.0])
    assert select(scores, 2) == [Hit(1, 2.0), Hit(3, 2.0)]
    assert select(scores, 4) == [Hit(1, 2.0), Hit(3, 2.0), Hit(6, 2.0), Hit(2, 1.0)]
    assert [h.position for h in select(scores, 10)] == [1, 3, 6, 2, 5]
    assert select(scores, 0) == []
    assert select(np.zeros(3), 3) == []


def test_select_agrees_with_a_full_sort() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        scores = rng.integers(-2, 6, size=int(rng.integers(1, 60))).astype(float)
        k = int(rng.integers(1, 12))
        order = np.lexsort((np.arange(len(scores)), -scores))
        expected = [Hit(int(i), float(scores[i])) for i in order[:k] if scores[i] > 0]
        assert select(scores, k) == expected


def test_index_needs_passages_and_sound_postings(index: Index) -> None:
    with pytest.raises(ValueError):
        Index([])
    postings = index.postings
    broken = Postings(**{**vars(postings), "positions": postings.positions + len(index)})
    with pytest.raises(ValueError):
        Index.restore(index.passages, broken, index.surface_words)
    short = Postings(**{**vars(postings), "term_starts": postings.term_starts[:-1]})
    with pytest.raises(ValueError):
        Index.restore(index.passages, short, index.surface_words)
    restored = Index.restore(index.passages, postings, index.surface_words)
    assert restored.search({"talk": 1.0}, 3) == index.search({"talk": 1.0}, 3)
