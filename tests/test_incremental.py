"""Reloading after adding, editing or removing articles reuses the rest and answers as a full rebuild does."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import bot.build
import bot.cache
from benchmarks.generate import Archive, write_archive
from bot.build import build
from bot.cache import CACHE_FOLDER, build_knowledge
from bot.index import Index
from bot.knowledge import Knowledge, Settings
from bot.library import Library
from bot.text import WordRarity, terms
from tests.references import floored_rank_bm25

POSTINGS = ("term_starts", "positions", "contributions", "passage_starts", "passage_terms", "token_starts", "tokens")


@pytest.fixture(scope="module")
def word_rarity() -> WordRarity:
    return WordRarity.load()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """A generated archive of a few hundred passages in some dozens of articles."""
    return write_archive(tmp_path_factory.mktemp("archive"), 400, queries=300, seed=11)


@pytest.fixture
def corpus(archive: Archive, tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(archive.corpus, folder, ignore=shutil.ignore_patterns(".*"))
    return folder


def articles_of(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.md"))


def change_archive(folder: Path) -> None:
    """Add an article, edit one, remove one, and rename one, as an editor would between two reloads."""
    files = articles_of(folder)
    added = files[3].read_text(encoding="utf-8").replace("url: https://", "url: https://new.")
    (files[3].parent / "zz-added.md").write_text(added + "\nA brand new paragraph about quarantined zeppelins.\n")
    edited = files[5].read_text(encoding="utf-8")
    files[5].write_text(edited.replace("\n\n", "\n\nThe ombudsman resigned over wolverines.\n\n", 1))
    files[7].unlink()
    files[9].rename(files[9].parent / "0-moved.md")


def assert_same_index(ours: Index, full: Index) -> None:
    assert ours.passages == full.passages
    assert ours.postings.vocabulary == full.postings.vocabulary
    assert ours.surface_words == full.surface_words
    for name in POSTINGS:
        assert np.array_equal(getattr(ours.postings, name), getattr(full.postings, name)), name


def test_a_reload_after_changes_equals_a_full_rebuild_and_rank_bm25(
    archive: Archive, corpus: Path, word_rarity: WordRarity, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_knowledge(corpus, word_rarity)
    change_archive(corpus)
    parsed: list[int] = []
    parse = bot.build.parse_articles
    monkeypatch.setattr(bot.build, "parse_articles", lambda articles: parsed.append(len(articles)) or parse(articles))
    reloaded = build_knowledge(corpus, word_rarity)
    assert parsed == [3]  # the added, the edited and the renamed article; none of the others
    full = build_knowledge(corpus, word_rarity, cache_dir=None)
    assert reloaded.corpus == full.corpus
    assert_same_index(reloaded.index, full.index)
    assert reloaded.sorted_stems == full.sorted_stems and reloaded.document_terms == full.document_terms
    reference = floored_rank_bm25(reloaded.index.passages)
    for question in [*archive.read_questions(), "quarantined zeppelins", "ombudsman wolverines"]:
        query = list(dict.fromkeys(terms(question)))
        assert np.array_equal(reloaded.index.scores(dict.fromkeys(query, 1.0)), reference.get_scores(query)), question


def test_the_library_answers_the_same_after_a_reload_as_after_a_restart(corpus: Path, word_rarity: WordRarity) -> None:
    library = Library(corpus, Settings(semantic="off"), word_rarity)
    change_archive(corpus)
    assert library.reload().ok
    restarted = Library(corpus, Settings(semantic="off"), word_rarity, cache_dir=None)
    for question in ["quarantined zeppelins", "Who resigned over wolverines?", "ombudsman"]:
        assert library.ask(question) == restarted.ask(question)
    assert library.ask("quarantined zeppelins").found


def test_removing_the_only_article_of_a_word_forgets_the_word(corpus: Path, word_rarity: WordRarity) -> None:
    files = articles_of(corpus)
    files[2].write_text(files[2].read_text(encoding="utf-8") + "\nThe xylophonist spoke.\n", encoding="utf-8")
    assert "xylophonist" in build_knowledge(corpus, word_rarity).index.surface_words
    files[2].unlink()
    reloaded = build_knowledge(corpus, word_rarity)
    assert "xylophonist" not in reloaded.index.surface_words
    assert "xylophonist" not in reloaded.speller.vocabulary
    assert reloaded.index.surface_words == build_knowledge(corpus, word_rarity, cache_dir=None).index.surface_words


def test_two_processes_build_what_one_builds(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = build(corpus, processes=1)
    monkeypatch.setattr(bot.build, "PARALLEL_CHARS", 0)
    two = build(corpus, processes=2)
    assert two.corpus == one.corpus
    assert_same_index(two.index, one.index)
    for name in ("frequencies", "lengths"):
        assert np.array_equal(getattr(two.counts, name), getattr(one.counts, name))


class FakeEncoder:
    """Embeds a text as a fixed pseudo-random unit vector of its own, and records what it was asked."""

    fingerprint = "fake-encoder-1"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.embedded.extend(texts)
        rows = [np.random.default_rng(list(t.encode()) or [0]).standard_normal(8) for t in texts]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), 8)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_only_new_passages_are_embedded_and_the_rest_kept(corpus: Path, word_rarity: WordRarity) -> None:
    encoder = FakeEncoder()
    first: Knowledge = build_knowledge(corpus, word_rarity, encoder=encoder)  # type: ignore[arg-type]
    assert first.vectors is not None
    files = articles_of(corpus)
    files[4].write_text(files[4].read_text(encoding="utf-8") + "\nA late correction.\n", encoding="utf-8")
    encoder.embedded.clear()
    reloaded = build_knowledge(corpus, word_rarity, encoder=encoder)  # type: ignore[arg-type]
    doc_id = files[4].relative_to(corpus).with_suffix("").as_posix()
    changed = [p.text for p in reloaded.index.passages if p.doc_id == doc_id]
    assert all(any(text in passage for passage in changed) for text in encoder.embedded)  # passages and sentences
    assert "A late correction." in " ".join(encoder.embedded)
    full = build_knowledge(corpus, word_rarity, cache_dir=None, encoder=FakeEncoder())  # type: ignore[arg-type]
    assert reloaded.vectors is not None and full.vectors is not None
    for name in ("passages", "sentences", "sentence_starts"):
        assert np.array_equal(getattr(reloaded.vectors, name), getattr(full.vectors, name)), name


@pytest.mark.parametrize("damage", ["other version", "truncated jsonl"])
def test_a_cache_from_another_version_or_broken_is_rebuilt_whole(
    corpus: Path, word_rarity: WordRarity, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    build_knowledge(corpus, word_rarity)
    articles_of(corpus)[0].unlink()
    if damage == "other version":
        monkeypatch.setattr(bot.cache, "CACHE_FORMAT", bot.cache.CACHE_FORMAT + 1)
    else:
        record = (corpus / CACHE_FOLDER / bot.cache.CACHE_FILE).with_suffix(".jsonl")
        record.write_bytes(record.read_bytes()[:-5000])
    rebuilt = build_knowledge(corpus, word_rarity)
    assert_same_index(rebuilt.index, build_knowledge(corpus, word_rarity, cache_dir=None).index)

