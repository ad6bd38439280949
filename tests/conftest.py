"""Shared test set-up: the shipped corpus and a library over it, scratch copies to break, and the
Hypothesis profiles.

Hypothesis profiles (choose with HYPOTHESIS_PROFILE=…; the default is the one CI runs):

* talksbot-ci (default): 2,000 examples per property, derandomized, no example database.
  Derandomized means every run tries the same examples (seeded from each test function), so a
  failure in CI fails the same way on a laptop with the same Hypothesis version, and
  print_blob=True prints a @reproduce_failure line that replays it exactly on any machine.
  Hypothesis refuses a database together with derandomize (it implies database=None), and a
  database written into tests/ would make CI dirty the worktree; a bug once found is kept by
  adding its input as an @example(...) to the property (tests/hostile.py: FIXED_CASES), which
  is reviewed and runs first on every run.
* dev: 200 random examples, saved to tests/.hypothesis/ (git-ignored) so a failure found
  locally is replayed first next time.
* explore: 50,000 random examples with the same database, for hunting (slow, not in CI).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.cache import build_knowledge
from bot.knowledge import Knowledge, Settings
from bot.library import Library
from bot.model import load_model
from bot.semantic import Encoder, load_encoder
from bot.text import WordRarity

REPO = ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
ARTICLE = CORPUS / "2022-01-12-nato-russia-brussels-talks.md"
CI_EXAMPLES = 2000
_LOCAL_DB = DirectoryBasedExampleDatabase(Path(__file__).resolve().parent / ".hypothesis" / "examples")

settings.register_profile(
    "talksbot-ci",
    max_examples=CI_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=200,
    database=_LOCAL_DB,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", settings.get_profile("dev"), max_examples=50_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "talksbot-ci"))


def copy_corpus(target: Path) -> Path:
    """Copy the repository's corpus folder to target/corpus and return it."""
    folder = target / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def write_config(folder: Path, corpus: Path | str = "corpus", extra: str = "") -> Path:
    """Write folder/config.yaml pointing at a corpus folder; return its path."""
    path = folder / "config.yaml"
    path.write_text(f"corpus:\n  path: {corpus}\n{extra}", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def rarity() -> WordRarity:
    """The English word-frequency table, loaded once."""
    return WordRarity.load()


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The sentence-embedding model, loaded (and its file verified) once."""
    return load_encoder()


@pytest.fixture(scope="session")
def knowledge(rarity: WordRarity, encoder: Encoder) -> Knowledge:
    """The shipped corpus, indexed and embedded, with the shipped model."""
    return build_knowledge(CORPUS, rarity, None, load_model(), encoder)


@pytest.fixture(scope="session")
def library(rarity: WordRarity) -> Library:
    """A library over the shipped corpus (no index cache: nothing is written into corpus/)."""
    return Library(CORPUS, Settings(), rarity, cache_dir=None)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ that a test may break."""
    return copy_corpus(tmp_path)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A scratch copy of the corpus, free to break (same as corpus_copy)."""
    return copy_corpus(tmp_path)


@pytest.fixture
def config_file(corpus_dir: Path) -> Path:
    """A config.yaml next to the scratch corpus."""
    return write_config(corpus_dir.parent)
