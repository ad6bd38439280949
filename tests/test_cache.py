"""The on-disk index cache: reused when nothing changed, rebuilt on any change, never trusted blindly."""

from __future__ import annotations

import logging
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bot.build
import bot.cache
import bot.corpus
from bot.build import Parsed, parse_articles
from bot.cache import CACHE_FILE, CACHE_FOLDER, build_knowledge, code_key, load_index
from bot.corpus import load_corpus, read_sources
from bot.errors import CorpusError
from bot.knowledge import Settings
from bot.library import Library
from bot.text import WordRarity

QUESTION = "Who chaired the meeting?"


@pytest.fixture(scope="module")
def word_rarity() -> WordRarity:
    return WordRarity.load()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each build that the cache did not answer: how many articles it parsed afresh."""
    calls: list[int] = []

    def counting(articles: Any) -> Parsed:
        calls.append(len(articles))
        return parse_articles(articles)

    monkeypatch.setattr(bot.build, "parse_articles", counting)
    return calls


def articles(folder: Path) -> int:
    return len(load_corpus(folder).documents)


def test_second_build_comes_from_the_cache_and_is_the_same(
    corpus_copy: Path, word_rarity: WordRarity, loads: list[int]
) -> None:
    first = build_knowledge(corpus_copy, word_rarity)
    assert (corpus_copy / CACHE_FOLDER / CACHE_FILE).is_file()
    second = build_knowledge(corpus_copy, word_rarity)
    assert loads == [articles(corpus_copy)]
    assert second.corpus == first.corpus
    assert second.index.passages == first.index.passages
    assert second.index.vocabulary == first.index.vocabulary
    assert second.index.surface_words == first.index.surface_words
    assert second.sorted_stems == first.sorted_stems
    for name in ("term_starts", "positions", "contributions", "passage_starts", "passage_terms", "tokens"):
        assert np.array_equal(getattr(second.index.postings, name), getattr(first.index.postings, name))
    # The cache folder is invisible to the corpus loader.
    assert load_corpus(corpus_copy) == first.corpus


@pytest.mark.parametrize("change", ["edit article", "edit synonyms", "add article", "remove synonyms"])
def test_any_change_to_the_corpus_rebuilds_what_changed(
    corpus_copy: Path, word_rarity: WordRarity, loads: list[int], change: str
) -> None:
    build_knowledge(corpus_copy, word_rarity)
    article = next(corpus_copy.glob("*.md"))
    if change == "edit article":
        article.write_text(article.read_text(encoding="utf-8") + "\nZelenskyy was not in the room.\n", encoding="utf-8")
    elif change == "edit synonyms":
        with (corpus_copy / "synonyms.txt").open("a", encoding="utf-8") as stream:
            stream.write("\nborscht => soup\n")
    elif change == "add article":
        text = article.read_text(encoding="utf-8").replace("url: https://", "url: https://copy.")
        (corpus_copy / "sub").mkdir()
        (corpus_copy / "sub" / "copy.md").write_text(text, encoding="utf-8")
    else:
        (corpus_copy / "synonyms.txt").unlink()
    rebuilt = build_knowledge(corpus_copy, word_rarity)
    assert loads[1:] == [1 if "article" in change else 0]  # only the new or edited article is parsed again
    assert rebuilt.corpus == load_corpus(corpus_copy)
    full = build_knowledge(corpus_copy, word_rarity, None)
    assert rebuilt.index.passages == full.index.passages and rebuilt.index.vocabulary == full.index.vocabulary
    assert np.array_equal(rebuilt.index.postings.contributions, full.index.postings.contributions)
    build_knowledge(corpus_copy, word_rarity)
    assert len(loads) == 3  # the full build above; the rebuilt index was cached in turn


def key_of(folder: Path) -> str:
    return read_sources(folder).key(code_key())


def test_the_key_covers_the_code_and_format(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = key_of(corpus_copy)
    assert key_of(corpus_copy) == key
    monkeypatch.setattr(bot.cache, "CACHE_FORMAT", bot.cache.CACHE_FORMAT + 1)
    assert key_of(corpus_copy) != key
    monkeypatch.undo()
    monkeypatch.setattr(bot.cache, "_INDEXING_MODULES", (*bot.cache._INDEXING_MODULES, "library.py"))
    assert key_of(corpus_copy) != key


@pytest.mark.parametrize(
    "damage", ["garbage", "truncated", "empty", "other key", "bad arrays", "pickled object", "bad json", "json gone"]
)
def test_a_damaged_cache_is_ignored_and_replaced(
    corpus_copy: Path, word_rarity: WordRarity, loads: list[int], damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = build_knowledge(corpus_copy, word_rarity)
    path = corpus_copy / CACHE_FOLDER / CACHE_FILE
    record = path.with_suffix(".jsonl")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"PK\x03\x04 not a zip at all")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "bad json":
        record.write_bytes(record.read_bytes()[:-100])
    elif damage == "json gone":
        record.unlink()
    else:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        if damage == "other key":
            arrays["key"] = np.frombuffer(b"0" * len(arrays["key"]), dtype=np.uint8)
        elif damage == "bad arrays":
            arrays["positions"] = arrays["positions"] + 1000
        else:
            arrays["positions"] = np.array([object()], dtype=object)
        with path.open("wb") as stream:
            np.savez(stream, allow_pickle=True, **arrays)
    with caplog.at_level(logging.WARNING):
        rebuilt = build_knowledge(corpus_copy, word_rarity)
    assert loads == [articles(corpus_copy)] * 2  # nothing of a damaged cache is reused
    assert rebuilt.index.passages == good.index.passages
    assert zipfile.is_zipfile(path) and load_index(path, code_key()) is not None


def test_an_unwritable_cache_only_logs(
    corpus_copy: Path, word_rarity: WordRarity, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        knowledge = build_knowledge(corpus_copy, word_rarity, blocker / "cache")
    assert len(knowledge.index) > 0
    assert "cannot write the index cache" in caplog.text


def test_a_linked_file_is_never_cached(corpus_copy: Path, word_rarity: WordRarity, tmp_path: Path) -> None:
    (corpus_copy / "lists").mkdir()
    (corpus_copy / "synonyms.txt").rename(corpus_copy / "lists" / "synonyms.txt")
    (corpus_copy / "synonyms.txt").symlink_to(corpus_copy / "lists" / "synonyms.txt")
    build_knowledge(corpus_copy, word_rarity)
    assert not (corpus_copy / CACHE_FOLDER).exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_fifo_is_reported_never_read(corpus_copy: Path, word_rarity: WordRarity) -> None:
    os.mkfifo(corpus_copy / "pipe.md")
    with pytest.raises(CorpusError, match=r"pipe\.md: is not a regular file"):  # and at once: reading would block
        build_knowledge(corpus_copy, word_rarity)


def test_files_the_loader_does_not_read_are_not_read_for_the_key(
    corpus_copy: Path, word_rarity: WordRarity, loads: list[int]
) -> None:
    build_knowledge(corpus_copy, word_rarity)
    key = key_of(corpus_copy)
    with (corpus_copy / "archive.tar").open("wb") as archive:
        archive.truncate(1 << 30)  # 1 GiB, sparse: reading it whole would take seconds and gigabytes
    (corpus_copy / "photo.jpg").write_bytes(b"\xff\xd8" * 1000)
    (corpus_copy / "README.md").write_text("How we keep this folder.\n", encoding="utf-8")
    if hasattr(os, "mkfifo"):
        os.mkfifo(corpus_copy / "pipe.bin")
    assert key_of(corpus_copy) == key
    build_knowledge(corpus_copy, word_rarity)
    assert len(loads) == 1  # still the cache's
    (corpus_copy / "synonyms.txt").write_text("kremlin => russia\n", encoding="utf-8")
    assert key_of(corpus_copy) != key


def test_a_file_unchanged_since_well_before_the_cache_is_not_read_again(
    corpus_copy: Path, word_rarity: WordRarity, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = next(corpus_copy.glob("*.md"))
    old = time.time_ns() - 3_600 * 10**9
    os.utime(article, ns=(old, old))
    build_knowledge(corpus_copy, word_rarity)
    read: list[Path] = []
    reading = bot.corpus.read_bytes
    monkeypatch.setattr(bot.corpus, "read_bytes", lambda path, root: read.append(path) or reading(path, root))
    build_knowledge(corpus_copy, word_rarity)
    assert article not in read
    article.write_text(article.read_text(encoding="utf-8") + "\nA late line.\n", encoding="utf-8")
    assert "A late line." in " ".join(p.text for p in build_knowledge(corpus_copy, word_rarity).index.passages)
    assert article in read


def test_library_uses_the_cache_and_reloads_changes(corpus_copy: Path, word_rarity: WordRarity) -> None:
    library = Library(corpus_copy, Settings(), word_rarity)
    assert (corpus_copy / CACHE_FOLDER / CACHE_FILE).is_file()
    before = library.ask(QUESTION)
    assert before.found
    article = next(corpus_copy.glob("*.md"))
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("chaired the meeting", "presided over the meeting"), encoding="utf-8")
    assert library.reload().ok
    assert "presided over the meeting" in " ".join(p.text for p in library.knowledge.index.passages)
    article.write_text("no front matter", encoding="utf-8")
    result = library.reload()
    assert not result.ok and library.ask(QUESTION).found
    with pytest.raises(CorpusError):
        Library(corpus_copy, Settings(), word_rarity)


def test_no_cache_when_switched_off(corpus_copy: Path, word_rarity: WordRarity) -> None:
    library = Library(corpus_copy, Settings(), word_rarity, cache_dir=None)
    assert library.ask(QUESTION).found
    assert not (corpus_copy / CACHE_FOLDER).exists()
