"""From a question to an answer: BM25 candidates, the learned second stage, the refusal and the reply's parts (pure).

The first stage ranks passages with rank-bm25's BM25Okapi scores and hands the best
`Settings.candidates` to the second: the learned ranker (bot.model) scores each candidate from
general features (bot.features), and the answerability model decides whether the best one
answers at all, or whether the article does not cover the question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.corpus import Document
from bot.excerpt import ELLIPSIS, shape_excerpt
from bot.features import Similarity, describe_pairs, describe_question
from bot.index import Index, select
from bot.knowledge import Knowledge, Settings, sentences_of
from bot.memory import recall
from bot.model import ModelError, Stage
from bot.query import ABOUT_THE_ARTICLE, EXPANSION_WEIGHT, Query, analyze, question_parts
from bot.text import WordRarity, cached_terms, fold, stem

# "Another passage" offers a further candidate only while the ranker still gives it this chance.
MIN_ALTERNATIVE = 0.1


@dataclass(frozen=True)
class Answer:
    """What the bot replies: an excerpt with its source, or why it has none."""

    question: str
    found: bool
    excerpt: str = ""
    highlight: tuple[int, int] = (0, 0)  # the best-matching sentence, as a span of excerpt
    document: Document | None = None
    passage_id: str = ""
    score: float = 0.0  # the answerability model's confidence that the article answers
    coverage: float = 0.0
    reason: str = ""  # when not found: "empty", "too-long", "not-covered", "no-more"
    suggestions: tuple[str, ...] = ()
    rank: int = 0  # 0 for the best passage, 1 for the next ("Another passage"), ...


@dataclass(frozen=True)
class Candidates:
    """A question's first-stage candidates and their features, as the second stage sees them."""

    query: Query
    positions: tuple[int, ...]  # passages, best BM25 score first
    pairs: npt.NDArray[np.float64]  # one row of bot.features.PAIR_FEATURES per candidate
    semantic: bool  # whether the semantic features were computed
    sentence_similarity: tuple[npt.NDArray[np.float64], ...] = ()  # per candidate, each sentence's
    document_numbers: tuple[frozenset[str], ...] = ()  # per candidate, the numbers of its document
    question_vector: npt.NDArray[np.float64] | None = None  # the question's embedding (semantic only)


def consider(clean: str, knowledge: Knowledge, settings: Settings) -> Candidates:
    """Analyse a folded question and describe its BM25 candidates (none when no word matches)."""
    query = analyze(clean, knowledge)
    index = knowledge.index
    scores = rank_scores(query, index) if query.words else np.zeros(len(index))
    positions = tuple(hit.position for hit in select(scores, settings.candidates))
    asking = " ".join(part for part, weight in question_parts(clean) if weight == 1.0)
    question = _embed(asking, knowledge) if query.words and positions else None
    passages = [index.passages[p] for p in positions]
    sentence_texts = [sentences_of(p.text) for p in passages]
    similarity, per_sentence = _similarity(question, positions, knowledge)
    recalled = None
    if knowledge.memory is not None and question is not None:
        recalled = recall(knowledge.memory, question, positions, [p.doc_id for p in passages])
    pairs = describe_pairs(
        query,
        passages,
        [float(scores[p]) for p in positions],
        [index.positions_of(p) for p in positions],
        [knowledge.document_terms[p.doc_id] for p in passages],
        [[frozenset(cached_terms(s)) for s in texts] for texts in sentence_texts],
        similarity,
        recalled,
    )
    numbers = tuple(knowledge.document_numbers[p.doc_id] for p in passages)
    semantic = similarity is not None
    return Candidates(query, positions, pairs, semantic, per_sentence, numbers, question)


def assess(stage: Stage, candidates: Candidates, rarity: WordRarity) -> tuple[npt.NDArray[np.float64], float]:
    """Return the ranker's probability for each candidate and the confidence that the best one answers."""
    ranking = stage.ranker.probabilities(candidates.pairs)
    features = question_features(candidates, ranking, rarity)
    return ranking, float(stage.answerable.probabilities(features[None, :])[0])


def question_features(
    candidates: Candidates, ranking: npt.NDArray[np.float64], rarity: WordRarity
) -> npt.NDArray[np.float64]:
    """Return bot.features.QUESTION_FEATURES for a question's candidates as a ranker scored them."""
    top = int(np.argmax(ranking))
    query, pairs = candidates.query, candidates.pairs
    numbers = candidates.document_numbers[top]
    return describe_question(query, pairs, ranking, rarity, numbers)


def answer(question: str, knowledge: Knowledge, settings: Settings, rank: int = 0) -> Answer:
    """Answer one question from the corpus, or say why not (never raises for any text)."""
    return answers(question, knowledge, settings, (rank,))[0]


def answers(question: str, knowledge: Knowledge, settings: Settings, ranks: Sequence[int]) -> list[Answer]:
    """Answer one question at each of several ranks (0: the best passage), analysing it once."""
    clean = fold(question)
    if len(clean) > settings.max_question_chars:
        return [_refusal(question, knowledge, settings, "too-long")] * len(ranks)
    candidates = consider(clean, knowledge, settings)
    query = candidates.query
    if not query.words:
        return [_refusal(question, knowledge, settings, "empty")] * len(ranks)
    if all(stem(qw.word) in ABOUT_THE_ARTICLE for qw in query.words):
        return [_headline(question, knowledge, settings, rank) for rank in ranks]
    if not candidates.positions:
        return [_refusal(question, knowledge, settings, "not-covered")] * len(ranks)
    if knowledge.model is None:
        raise ModelError("no learned model is loaded")
    stage = knowledge.model.stage(candidates.semantic)
    ranking, confidence = assess(stage, candidates, knowledge.rarity)
    if confidence < stage.threshold:
        return [_refusal(question, knowledge, settings, "not-covered")] * len(ranks)
    return [_ranked(question, knowledge, settings, candidates, ranking, confidence, rank) for rank in ranks]


def _ranked(
    question: str,
    knowledge: Knowledge,
    settings: Settings,
    candidates: Candidates,
    ranking: npt.NDArray[np.float64],
    confidence: float,
    rank: int,
) -> Answer:
    """The answer at one rank of the ranker's order, or "no-more" past the last likely passage."""
    order = np.argsort(-ranking, kind="stable")
    if rank >= len(order) or (rank > 0 and ranking[order[rank]] < MIN_ALTERNATIVE):
        return _refusal(question, knowledge, settings, "no-more")
    chosen = int(order[rank])
    passage = knowledge.index.passages[candidates.positions[chosen]]
    preferred = candidates.sentence_similarity[chosen].tolist() if candidates.sentence_similarity else None
    excerpt, highlight = shape_excerpt(passage.text, candidates.query, settings.excerpt_chars, preferred)
    return Answer(
        question=question,
        found=True,
        excerpt=excerpt,
        highlight=highlight,
        document=knowledge.documents[passage.doc_id],
        passage_id=passage.passage_id,
        score=round(confidence, 4),
        coverage=round(float(candidates.pairs[chosen, 3]), 4),
        rank=rank,
    )


def _embed(clean: str, knowledge: Knowledge) -> npt.NDArray[np.float64] | None:
    """Return the question's embedding, or None without the semantic model."""
    if knowledge.vectors is None or knowledge.encoder is None:
        return None
    vector: npt.NDArray[np.float64] = knowledge.encoder.embed([clean])[0].astype(np.float64)
    return vector


def _similarity(
    question: npt.NDArray[np.float64] | None, positions: tuple[int, ...], knowledge: Knowledge
) -> tuple[Similarity | None, tuple[npt.NDArray[np.float64], ...]]:
    """Return the candidates' semantic similarity to the question, or None without the model."""
    vectors = knowledge.vectors
    if question is None or vectors is None or not positions:
        return None, ()
    passage = vectors.passages[np.array(positions)].astype(np.float64) @ question
    starts = vectors.sentence_starts
    per_sentence = tuple(vectors.sentences[starts[p] : starts[p + 1]].astype(np.float64) @ question for p in positions)
    sentence = np.array([float(s.max()) if len(s) else 0.0 for s in per_sentence])
    return Similarity(passage, sentence), per_sentence


def rank_scores(query: Query, index: Index) -> np.ndarray:
    """Score every passage: the sum over question words of each word's best BM25 score.

    A word counts once whichever of its forms matches: its own stem at full weight, a synonym at
    EXPANSION_WEIGHT, so a word with ten synonyms cannot outweigh a word with none.
    """
    vocabulary = index.vocabulary
    total = np.zeros(len(index))
    for qw in query.words:
        own = stem(qw.word)
        best: np.ndarray | None = None
        for s in sorted(qw.stems & vocabulary):
            part = index.scores({s: 1.0 if s == own else EXPANSION_WEIGHT})
            best = part if best is None else np.maximum(best, part)
        if best is not None:
            total += best
    return total


def _headline(question: str, knowledge: Knowledge, settings: Settings, rank: int) -> Answer:
    """Answer a question about the article itself (its title, publisher, date) with its headline.

    The reply's attribution line carries the publisher, the date and the link."""
    documents = knowledge.corpus.documents
    if rank >= len(documents):
        return _refusal(question, knowledge, settings, "no-more")
    doc = documents[rank]
    excerpt = doc.title  # the headline is article text; publisher and date follow in the attribution
    if len(excerpt) > settings.excerpt_chars:
        excerpt = doc.title[: settings.excerpt_chars - 2].rsplit(" ", 1)[0] + " " + ELLIPSIS
    return Answer(
        question=question,
        found=True,
        excerpt=excerpt,
        highlight=(0, min(len(doc.title), len(excerpt))),
        document=doc,
        passage_id=f"{doc.doc_id}#title",
        score=0.0,
        coverage=1.0,
        rank=rank,
    )


def suggest(knowledge: Knowledge, count: int) -> tuple[str, ...]:
    """Return up to `count` example questions the corpus answers (from front matter)."""
    pool = [q for doc in knowledge.corpus.documents for q in doc.questions]
    if not pool:
        pool = [f"What does “{doc.title}” report?" for doc in knowledge.corpus.documents]
    return tuple(pool[:count])


def _refusal(question: str, knowledge: Knowledge, settings: Settings, reason: str) -> Answer:
    return Answer(question=question, found=False, reason=reason, suggestions=suggest(knowledge, settings.suggestions))
