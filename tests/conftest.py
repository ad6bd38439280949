"""Shared test set-up, the one harness: the shipped corpus and a library over it, scratch copies to
break, the Telegram bot against the Bot API imitation, and the Hypothesis profiles. The names
tests import (paths, copy_corpus, write_config, TOKEN) live in tests/common.py.

The Telegram fixtures are module-scoped: a module's tests share one bot (`bot`: the real Application
in this process; `bot_process`: `talksbot telegram` as a subprocess) on one Bot API imitation, in
one scratch folder. A module changes what the bot gets by overriding `corpus`
(the folder it answers from) or `telegram_options` (keys of the config's telegram section, and
"extra": more YAML after it).

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.cache import build_knowledge
from bot.knowledge import Knowledge, Settings
from bot.library import Library
from bot.model import load_model
from bot.semantic import Encoder, load_encoder
from bot.text import WordRarity
from tests.common import CORPUS, TOKEN, copy_corpus, write_config
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_harness import BotProcess, InProcessBot, write_telegram_config

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

_CORPUS_BEFORE = pytest.StashKey[frozenset[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note what the shipped corpus folder holds, to check that no test writes into it."""
    session.config.stash[_CORPUS_BEFORE] = frozenset(p.name for p in CORPUS.iterdir())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a test left anything new in the shipped corpus folder (an index cache, say)."""
    before = session.config.stash.get(_CORPUS_BEFORE, None)
    if before is None:
        return
    added = sorted(frozenset(p.name for p in CORPUS.iterdir()) - before)
    if added:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ERROR: tests wrote into {CORPUS}: {', '.join(added)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    """A writable copy of corpus/ that a test may break (tmp_path/corpus)."""
    return copy_corpus(tmp_path)


@pytest.fixture
def config_file(corpus_copy: Path) -> Path:
    """A config.yaml next to the scratch corpus."""
    return write_config(corpus_copy.parent)


# --- the Telegram bot against the Bot API imitation (one of each per test module) ---------------------


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotAPI]:
    """The Bot API imitation on 127.0.0.1, for the module's bot."""
    with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def folder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's scratch folder: the bot's config, corpus copy, feedback file and output."""
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def corpus(folder: Path) -> Path:
    """The corpus folder the module's bot answers from (a copy of corpus/ unless a module overrides it)."""
    return copy_corpus(folder)


@pytest.fixture(scope="module")
def telegram_options() -> dict[str, Any]:
    """Keys of the bot's telegram config section, and "extra" YAML (a module overrides this)."""
    return {}


@pytest.fixture(scope="module")
def bot_config(api: FakeBotAPI, folder: Path, corpus: Path, telegram_options: dict[str, Any]) -> Path:
    """The module's bot config: the imitation, the corpus, the admin, the module's telegram_options."""
    options = dict(telegram_options)
    extra = options.pop("extra", "")
    config = write_telegram_config(folder, api, corpus, **options)
    if extra:
        with config.open("a", encoding="utf-8") as handle:
            handle.write(extra)
    return config


@pytest.fixture(scope="module")
def bot(api: FakeBotAPI, bot_config: Path) -> Iterator[InProcessBot]:
    """The bot's real Application in this process, polling the imitation once the fixture returns."""
    running = InProcessBot(bot_config, TOKEN)
    try:
        api.wait("getUpdates", timeout=60)
        yield running
    finally:
        assert running.stop() == 0


@pytest.fixture(scope="module")
def bot_process(api: FakeBotAPI, folder: Path, bot_config: Path) -> Iterator[BotProcess]:
    """`talksbot telegram` as a subprocess (for signals and what the process prints), polling once returned."""
    process = BotProcess(bot_config, TOKEN, folder)
    try:
        api.wait("getUpdates", timeout=60)
        yield process
    finally:
        process.stop()
