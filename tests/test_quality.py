"""Answer quality, cross-validated: the model is judged only on questions it did not train on.

The data are the shared labelled sets (shared/eval beside this checkout) and our own (tests/data:
questions about our article, and fictional articles with their questions). The floors below are
today's cross-validated figures less a margin, so a change that makes answers worse on unseen
questions or unseen articles fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.knowledge import Settings
from bot.learn import Example, QuestionSet, collect_sets, cross_validate, find_sets, recollections_of, train
from bot.semantic import Encoder
from bot.text import WordRarity
from tests.common import CORPUS, REPO, SHARED

EVAL = SHARED / "eval"
OWN = REPO / "tests" / "data" / "articles"  # our own articles, see its README.md
pytestmark = pytest.mark.skipif(
    not (EVAL / "dev-questions.yaml").exists(), reason="shared/eval is not beside this checkout"
)


@pytest.fixture(scope="module")
def question_sets() -> list[QuestionSet]:
    data = REPO / "tests" / "data"
    ours = [EVAL / "dev-questions.yaml", EVAL / "dev2-questions.yaml"]
    ours += [data / "extra-questions.yaml", data / "more-questions.yaml"]
    articles = [*sorted((EVAL / "articles").glob("*-questions.yaml")), *sorted(OWN.glob("*-questions.yaml"))]
    return find_sets([*ours, *articles])


@pytest.fixture(scope="module")
def examples(question_sets: list[QuestionSet], encoder: Encoder, rarity: WordRarity) -> list[Example]:
    corpus = load_corpus(CORPUS)
    return collect_sets(question_sets, corpus, rarity, encoder, Settings(), recollections_of(question_sets, corpus))


def _held_out_score(examples: list[Example], groups: list[str], rarity: WordRarity, semantic: bool) -> float:
    folds = [cross_validate(examples, lambda e, held=held: e.group == held, rarity, semantic, held) for held in groups]
    right = sum(sum(f.correct) for f in folds)
    return right / sum(len(f.correct) for f in folds)


def test_each_question_file_comes_with_its_article(question_sets: list[QuestionSet]) -> None:
    articles = [s for s in question_sets if s.article is not None]
    assert len(articles) == len(list((EVAL / "articles").glob("*.md"))) + len(list(OWN.glob("????-??-??-*.md")))
    assert all(s.article is None for s in question_sets[:4])


def test_unseen_questions_about_our_article(examples: list[Example], rarity: WordRarity) -> None:
    """Leave one question set out: train on the others (and the other articles), judge it."""
    sets = ["dev-questions", "dev2-questions", "extra-questions", "more-questions"]
    score = _held_out_score(examples, sets, rarity, True)
    assert score >= 0.74


def test_unseen_articles(examples: list[Example], question_sets: list[QuestionSet], rarity: WordRarity) -> None:
    """Leave one article out: its questions judged by a model that never saw that article."""
    shared = [s.name for s in question_sets if s.article is not None and s.path.parent != OWN]
    assert _held_out_score(examples, shared, rarity, True) >= 0.63


def test_the_lexical_only_model_still_answers_most(examples: list[Example], rarity: WordRarity) -> None:
    assert _held_out_score(examples, ["dev2-questions", "extra-questions"], rarity, False) >= 0.62


def test_training_is_deterministic(examples: list[Example], rarity: WordRarity, tmp_path: Path) -> None:
    some = examples[::3]
    assert train(some, rarity, {}).dumps() == train(some, rarity, {}).dumps()
