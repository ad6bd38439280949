"""Reloading: a good corpus is swapped in whole, a broken one changes nothing."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge import Settings
from bot.library import Library
from bot.text import WordRarity

EXTRA = """---
title: A second story
url: https://example.org/second
publisher: Example
published: 2022-02-01
---
The quartermaster counted forty-two crates of turnips in the harbour warehouse.
"""


def test_reload_adds_a_new_article_that_then_answers(corpus_copy: Path, rarity: WordRarity) -> None:
    library = Library(corpus_copy, Settings(), rarity)
    assert not library.ask("How many crates of turnips?").found
    (corpus_copy / "second.md").write_text(EXTRA, encoding="utf-8")
    result = library.reload()
    assert result.ok
    assert (result.before.documents, result.after.documents) == (1, 2)
    answer = library.ask("How many crates of turnips did the quartermaster count?")
    assert answer.found and answer.document is not None
    assert answer.document.url == "https://example.org/second"


def test_broken_file_on_reload_keeps_the_old_corpus(corpus_copy: Path, rarity: WordRarity) -> None:
    library = Library(corpus_copy, Settings(), rarity)
    before = library.ask("Who chaired the meeting?")
    (corpus_copy / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n", encoding="utf-8")
    result = library.reload()
    assert not result.ok
    assert "broken.md" in result.error and "front matter" in result.error
    assert result.after == result.before
    assert library.ask("Who chaired the meeting?") == before


def test_counts_answers_and_refusals(corpus_copy: Path, rarity: WordRarity) -> None:
    library = Library(corpus_copy, Settings(), rarity)
    library.ask("Who chaired the meeting?")
    library.ask("recipe for borscht")
    assert library.counts["answered"] == 1
    assert library.counts["refused"] == 1


def test_rank_gives_the_passages_ask_gives_at_each_rank_and_counts_once(library: Library) -> None:
    question = "What did Stoltenberg say?"
    expected = [library.ask(question, rank) for rank in range(3)]
    before = library.stats()
    ranked = library.rank(question, 3, via="inline")
    assert ranked == [a for a in expected if a.found][: len(ranked)] and ranked
    assert all(a.found for a in ranked) and [a.rank for a in ranked] == list(range(len(ranked)))
    assert library.rank("recipe for borscht", 3, via="inline") == []
    library.rank("Who chaired the meeting?", 1, via=None)  # not a reader's question: not counted
    after = library.stats()
    assert (after.answered - before.answered, after.refused - before.refused) == (1, 1)
    assert after.ways["inline"] - before.ways.get("inline", 0) == 2


def test_every_way_of_asking_is_counted(corpus_copy: Path, rarity: WordRarity) -> None:
    library = Library(corpus_copy, Settings(), rarity)
    library.ask("Who chaired the meeting?")
    library.ask("Who chaired the meeting?", 1, via="another passage")
    library.rank("Who chaired the meeting?", 3, via="inline")
    stats = library.stats()
    assert stats.answered + stats.refused == 3
    assert dict(stats.ways) == {"message": 1, "another passage": 1, "inline": 1}
    assert stats.size == library.size and stats.uptime >= 0
