"""Answers: the excerpt cut, the refusal, and odd questions (the pure core)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.answer import answer
from bot.excerpt import ELLIPSIS, shape_excerpt
from bot.knowledge import Knowledge, Settings
from bot.query import analyze
from bot.synonyms import Synonyms

SETTINGS = Settings()


def _passage_texts(knowledge: Knowledge) -> list[str]:
    return [p.text for p in knowledge.index.passages]


def _article_text(excerpt: str) -> str:
    return excerpt.removeprefix(ELLIPSIS + " ").removesuffix(" " + ELLIPSIS)


def test_answer_quotes_the_passage_that_answers(knowledge: Knowledge) -> None:
    result = answer("Who chaired the meeting?", knowledge, SETTINGS)
    assert result.found
    assert "Stoltenberg chaired the meeting" in result.excerpt
    assert result.document is not None
    assert result.document.url.startswith("https://euromaidanpress.com/")


@pytest.mark.parametrize("limit", [80, 120, 200, 333, 500])
@pytest.mark.parametrize(
    "question",
    [
        "Who chaired the meeting?",
        "Does Russia have a veto?",
        "What did Wendy Sherman urge Russia to do?",
        "arms control",
    ],
)
def test_excerpt_never_exceeds_the_limit_and_never_cuts_a_word(knowledge: Knowledge, question: str, limit: int) -> None:
    result = answer(question, knowledge, dataclasses.replace(SETTINGS, excerpt_chars=limit))
    assert result.found
    assert len(result.excerpt) <= limit
    body = _article_text(result.excerpt)
    passage = next(t for t in _passage_texts(knowledge) if body in t)
    start = passage.index(body)
    end = start + len(body)
    assert start == 0 or not passage[start - 1].isalnum()
    assert end == len(passage) or not passage[end].isalnum()
    assert result.excerpt.startswith(ELLIPSIS) == (start > 0)
    assert result.excerpt.endswith(ELLIPSIS) == (end < len(passage))


def test_excerpt_keeps_the_best_sentence_and_marks_it(knowledge: Knowledge) -> None:
    text = next(t for t in _passage_texts(knowledge) if "veto" in t)
    query = analyze("Does Russia have a veto?", knowledge)
    excerpt, (start, end) = shape_excerpt(text, query, 150)
    assert "does not have a veto" in excerpt[start:end]
    assert len(excerpt) <= 150


def test_one_overlong_sentence_is_cut_at_words_around_the_match(knowledge: Knowledge) -> None:
    sentence = " ".join(["filler"] * 60 + ["Stoltenberg", "chaired", "the", "meeting"] + ["filler"] * 60) + "."
    query = analyze("Who chaired the meeting?", knowledge)
    excerpt, _ = shape_excerpt(sentence, query, 100)
    assert len(excerpt) <= 100
    assert "chaired" in excerpt
    assert excerpt.startswith(ELLIPSIS) and excerpt.endswith(ELLIPSIS)
    assert all(token in ("filler", "Stoltenberg", "chaired", "the", "meeting", ELLIPSIS) for token in excerpt.split())


@pytest.mark.parametrize(
    "question",
    [
        "What's the weather like in Kyiv today?",
        "recipe for borscht",
        "What did Sergei Lavrov say after the meeting?",
        "How many Russian troops were massed near Ukraine's border?",
        "How can I donate to support this website?",
    ],
)
def test_questions_the_article_does_not_answer_are_refused(knowledge: Knowledge, question: str) -> None:
    result = answer(question, knowledge, SETTINGS)
    assert not result.found
    assert result.excerpt == ""
    assert result.reason == "not-covered"
    assert 2 <= len(result.suggestions) <= 3


def test_suggested_questions_are_answered(knowledge: Knowledge) -> None:
    refusal = answer("recipe for borscht", knowledge, SETTINGS)
    for suggestion in refusal.suggestions:
        assert answer(suggestion, knowledge, SETTINGS).found, suggestion


@pytest.mark.parametrize("question", ["", "   \t ", "🙂🙂🙂", "???", "the and of is", "\x00\x07\x1b\x7f"])
def test_questions_without_words_get_a_clear_refusal(knowledge: Knowledge, question: str) -> None:
    result = answer(question, knowledge, SETTINGS)
    assert not result.found
    assert result.reason == "empty"


def test_overlong_question_is_refused_as_too_long(knowledge: Knowledge) -> None:
    result = answer("Who chaired the meeting? " * 300, knowledge, SETTINGS)
    assert not result.found
    assert result.reason == "too-long"


def test_markup_in_a_question_is_just_text(knowledge: Knowledge) -> None:
    result = answer("<b>Who</b> **chaired** the [meeting](http://x)?", knowledge, SETTINGS)
    assert result.found
    assert "chaired" in result.excerpt


def test_typos_still_find_the_passage(knowledge: Knowledge) -> None:
    result = answer("what did wendy shermann urge russia to do", knowledge, SETTINGS)
    assert "negotiating table" in result.excerpt


def test_synonyms_from_the_corpus_file_widen_the_question(knowledge: Knowledge) -> None:
    synonyms = Synonyms.parse("kremlin, moscow => russia\n")
    with_synonyms = dataclasses.replace(knowledge, corpus=dataclasses.replace(knowledge.corpus, synonyms=synonyms))
    query = analyze("What did the Kremlin say?", with_synonyms)
    kremlin = next(w for w in query.words if w.typed == "kremlin")
    assert "russia" in kremlin.stems


def test_next_passage_differs_and_runs_out(knowledge: Knowledge) -> None:
    first = answer("Stoltenberg said", knowledge, SETTINGS)
    second = answer("Stoltenberg said", knowledge, SETTINGS, rank=1)
    assert first.found and second.found
    assert first.passage_id != second.passage_id
    assert answer("Stoltenberg said", knowledge, SETTINGS, rank=50).reason == "no-more"


@pytest.mark.parametrize("question", ["What is the headline of the article?", "who published this story", "title?"])
def test_questions_about_the_article_itself_get_its_headline(knowledge: Knowledge, question: str) -> None:
    result = answer(question, knowledge, SETTINGS)
    assert result.found
    assert result.document is not None
    assert result.excerpt == result.document.title == "NATO and Russia agreed to talk more at Brussels talks"
