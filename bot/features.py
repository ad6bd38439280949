"""Features of (question, passage) pairs and of a question with its candidates, for the learned stage (pure).

Every feature is general: scores, shares, positions, kinds of fact and semantic similarities. None
names a word of a particular article. The learned model (bot.model) weighs them; their names are
the model file's contract, so a feature is renamed or removed only together with a retrained
model (`talksbot train`). Raw BM25 scores grow and shrink with the corpus, so only their relation
to the best candidate is used: the model must hold on corpora whose scores look unlike ours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.memory import Recall
from bot.passages import Passage
from bot.query import Query, holds_wanted, proximity
from bot.text import WordRarity, numbers_in

# A photo caption: the document's first paragraph, crediting a photographer or a source.
_CREDIT = re.compile(r"\b(photo|photograph|screenshot|image|picture|credit|illustration|video)s?\s*(by|:)", re.I)

PAIR_FEATURES: tuple[str, ...] = (
    "bm25_share",  # BM25 score / the best candidate's
    "bm25_rank",  # 1 / (1 + rank by BM25)
    "coverage",  # rarity-weighted share of the question's words in the passage
    "word_share",  # plain share of the question's known words in the passage
    "sentence_coverage",  # the best single sentence's weighted share
    "document_coverage",  # weighted share of the question's words anywhere in the passage's document
    "absent_weight",  # the heaviest question word the passage lacks (rarity weight / 7)
    "proximity",  # how tightly the matched words sit together
    "kind_met",  # the question asks for a kind of fact (count, date, ...) and the passage has one
    "kind_unmet",  # it asks for one and the passage has none
    "caption",  # the passage is a photo caption
    "lead",  # the passage is its document's first
    "length",  # log of the passage's length
    "numbers_missing",  # numbers the question names that the passage lacks
    "names_missing",  # names the question capitalises that the passage lacks
    "document_names_missing",  # ... that the passage's whole document lacks
    "semantic",  # cosine of question and passage embeddings
    "semantic_sentence",  # cosine of the question and the passage's closest sentence
    "semantic_gap",  # semantic - the best candidate's semantic
    "semantic_sentence_gap",
    "semantic_rank",  # 1 / (1 + rank by semantic)
    "semantic_memory",  # cosine to the closest labelled question this passage answers (bot.memory)
    "semantic_memory_known",  # the passage answers some labelled question
    "semantic_memory_unanswered",  # cosine to the closest labelled question its document does not answer
)
SEMANTIC_FEATURES = frozenset(name for name in PAIR_FEATURES if name.startswith("semantic"))

QUESTION_FEATURES: tuple[str, ...] = (
    "top_logit",  # the ranker's score of its best candidate
    "top_margin",  # best minus second-best ranker probability
    "top_coverage",
    "top_sentence_coverage",
    "top_absent_weight",
    "top_kind_met",
    "top_kind_unmet",
    "top_numbers_missing",
    "top_document_numbers_missing",  # numbers of the question the best passage's document lacks
    "top_document_names_missing",
    "top_document_coverage",
    "missing_specific",  # rare or capitalised words no passage has
    "unknown_rare",  # words no passage has, rarer than Zipf 3.3 / 4.5
    "unknown_uncommon",
    "unknown_weight",  # share of the question's weight the corpus lacks
    "unknown_min_zipf",  # everyday frequency of the rarest word the corpus lacks (/7)
    "question_words",  # how many content words (/10)
    "top_semantic",
    "top_semantic_sentence",
    "best_semantic_sentence",
    "top_semantic_memory",
    "best_semantic_memory",
    "top_semantic_memory_unanswered",
)


@dataclass(frozen=True)
class Similarity:
    """Semantic similarity of one question to the candidates: whole passage and best sentence."""

    passage: npt.NDArray[np.float64]
    sentence: npt.NDArray[np.float64]


def is_caption(passage: Passage) -> bool:
    """Return True for a photo caption: a document's first passage crediting a picture."""
    return passage.ordinal == 0 and bool(_CREDIT.search(passage.text))


def describe_pairs(
    query: Query,
    passages: Sequence[Passage],
    bm25: Sequence[float],
    where: Sequence[Mapping[str, Sequence[int]]],
    document_terms: Sequence[frozenset[str]],
    sentence_terms: Sequence[Sequence[frozenset[str]]],
    similarity: Similarity | None,
    recalled: Recall | None = None,
) -> npt.NDArray[np.float64]:
    """Return one row of PAIR_FEATURES per candidate passage.

    `where` maps each candidate's stems to their positions; `document_terms` are the stems of each
    candidate's whole document; `sentence_terms` the stems of each of its sentences. Without
    `similarity` the semantic features are 0 (a lexical-only model does not use them).
    """
    n = len(passages)
    rows = np.zeros((n, len(PAIR_FEATURES)))
    scores = np.asarray(bm25, dtype=np.float64)
    best = float(scores.max()) if n and scores.max() > 0 else 1.0
    _put(rows, bm25_share=scores / best, bm25_rank=1.0 / (1.0 + _ranks(scores)))
    for i, passage in enumerate(passages):
        _describe_lexical(rows[i], query, passage, where[i], document_terms[i], sentence_terms[i])
    if similarity is not None and n:
        semantic, sentence = similarity.passage, similarity.sentence
        _put(
            rows,
            semantic=semantic,
            semantic_sentence=sentence,
            semantic_gap=semantic - semantic.max(),
            semantic_sentence_gap=sentence - sentence.max(),
            semantic_rank=1.0 / (1.0 + _ranks(semantic + sentence)),
        )
    if recalled is not None:
        remember(rows, recalled)
    return rows


def _describe_lexical(
    row: npt.NDArray[np.float64],
    query: Query,
    passage: Passage,
    where: Mapping[str, Sequence[int]],
    document_terms: frozenset[str],
    sentence_terms: Sequence[frozenset[str]],
) -> None:
    """Write one candidate's word-matching features (all but BM25 and the semantic ones) into its row."""
    stems = frozenset(where)
    known = [qw for qw in query.words if qw.known]
    absent = [qw.weight for qw in known if not qw.stems & stems]
    kinds = holds_wanted(passage.text, query)
    _put(
        row,
        coverage=query.coverage(stems),
        word_share=sum(1 for qw in known if qw.stems & stems) / max(len(known), 1),
        sentence_coverage=max((query.coverage(s) for s in sentence_terms), default=0.0),
        document_coverage=query.coverage(document_terms),
        absent_weight=max(absent, default=0.0) / 7.0,
        proximity=proximity(where, query),
        kind_met=1.0 if query.wants and kinds else 0.0,
        kind_unmet=1.0 if query.wants and not kinds else 0.0,
        caption=1.0 if is_caption(passage) else 0.0,
        lead=1.0 if passage.ordinal == 0 else 0.0,
        length=math.log1p(len(passage.text)) / 7.0,
        numbers_missing=float(len(query.numbers - numbers_in(passage.text))),
        names_missing=float(len(query.names - stems)),
        document_names_missing=float(len(query.names - document_terms)),
    )


def _put(rows: npt.NDArray[np.float64], **values: float | npt.NDArray[np.float64]) -> None:
    """Write features by name into a row (or, for arrays, a column of rows) of PAIR_FEATURES."""
    for name, value in values.items():
        rows[..., PAIR_FEATURES.index(name)] = value


def describe_question(
    query: Query,
    pairs: npt.NDArray[np.float64],
    ranking: npt.NDArray[np.float64],
    rarity: WordRarity,
    top_document_numbers: frozenset[str],
) -> npt.NDArray[np.float64]:
    """Return QUESTION_FEATURES for a question, its candidates' features and the ranker's probabilities.

    `top_document_numbers` are the numbers of the best candidate's document."""
    column = {name: i for i, name in enumerate(PAIR_FEATURES)}
    order = np.argsort(-ranking, kind="stable")
    top = int(order[0])
    second = float(ranking[order[1]]) if len(order) > 1 else 0.0
    probability = float(np.clip(ranking[top], 1e-6, 1 - 1e-6))
    unknown = [qw for qw in query.words if not qw.known]
    zipfs = [rarity.zipf_of(qw.word) for qw in unknown]
    total = sum(qw.weight for qw in query.words) or 1.0
    values = (
        math.log(probability / (1 - probability)),
        probability - second,
        pairs[top, column["coverage"]],
        pairs[top, column["sentence_coverage"]],
        pairs[top, column["absent_weight"]],
        pairs[top, column["kind_met"]],
        pairs[top, column["kind_unmet"]],
        pairs[top, column["numbers_missing"]],
        float(len(query.numbers - top_document_numbers)),
        pairs[top, column["document_names_missing"]],
        pairs[top, column["document_coverage"]],
        float(len(query.missing)),
        float(sum(1 for z in zipfs if z < 3.3)),
        float(sum(1 for z in zipfs if z < 4.5)),
        sum(qw.weight for qw in unknown) / total,
        min(zipfs, default=7.0) / 7.0,
        len(query.words) / 10.0,
        pairs[top, column["semantic"]],
        pairs[top, column["semantic_sentence"]],
        float(pairs[:, column["semantic_sentence"]].max()),
        pairs[top, column["semantic_memory"]],
        float(pairs[:, column["semantic_memory"]].max()),
        pairs[top, column["semantic_memory_unanswered"]],
    )
    return np.array(values, dtype=np.float64)


def remember(rows: npt.NDArray[np.float64], recalled: Recall) -> None:
    """Write what the memory recalls into the candidates' feature rows (in place)."""
    _put(
        rows,
        semantic_memory=recalled.passage,
        semantic_memory_known=recalled.known,
        semantic_memory_unanswered=recalled.unanswered,
    )


def _ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return each value's rank, 0 for the largest (ties: earlier first)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


# The direction each feature may push a decision, as evidence: more coverage can only speak for a
# passage, a missing number only against it. Training keeps every weight on its side (a weight
# that would cross is held at 0), so correlated features cannot buy each other off, and a question
# unlike any seen in training (all words unknown, say) is not extrapolated into an answer.
EVIDENCE: dict[str, int] = {
    **dict.fromkeys(
        (
            "bm25_share", "bm25_rank", "coverage", "word_share", "sentence_coverage", "document_coverage",
            "proximity", "kind_met", "semantic", "semantic_sentence", "semantic_gap", "semantic_sentence_gap",
            "semantic_rank", "semantic_memory",
            "top_logit", "top_margin", "top_coverage", "top_sentence_coverage", "top_document_coverage",
            "unknown_min_zipf", "top_semantic", "top_semantic_sentence", "best_semantic_sentence",
            "top_semantic_memory", "best_semantic_memory",
        ),
        1,
    ),
    **dict.fromkeys(
        (
            "absent_weight", "kind_unmet", "numbers_missing", "names_missing", "document_names_missing",
            "semantic_memory_unanswered",
            "top_absent_weight", "top_kind_unmet", "top_numbers_missing", "top_document_numbers_missing",
            "top_document_names_missing", "missing_specific", "unknown_rare", "unknown_uncommon", "unknown_weight",
            "top_semantic_memory_unanswered",
        ),
        -1,
    ),
}
