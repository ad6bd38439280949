"""Shared fixtures: the shipped corpus, a library over it, and a scratch copy for reload tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.answer import Knowledge, Settings
from bot.corpus import load_corpus
from bot.library import Library
from bot.text import WordRarity

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
ARTICLE = CORPUS / "2022-01-12-nato-russia-brussels-talks.md"


@pytest.fixture(scope="session")
def rarity() -> WordRarity:
    """The English word-frequency table, loaded once."""
    return WordRarity.load()


@pytest.fixture(scope="session")
def knowledge(rarity: WordRarity) -> Knowledge:
    """The shipped corpus, indexed."""
    return Knowledge.build(load_corpus(CORPUS), rarity)


@pytest.fixture(scope="session")
def library(rarity: WordRarity) -> Library:
    """A library over the shipped corpus."""
    return Library(CORPUS, Settings(), rarity)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ that a test may break."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
