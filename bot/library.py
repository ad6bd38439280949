"""The library: the current knowledge, swapped whole on a successful reload, and its counters."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.answer import Answer, answer
from bot.cache import CACHE_FOLDER, Cached, Prepared, prepare_knowledge
from bot.errors import CorpusError, TalksbotError
from bot.knowledge import Settings
from bot.model import load_model
from bot.semantic import Encoder, ModelUnavailable, load_encoder
from bot.text import WordRarity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Size:
    """How big a corpus is."""

    documents: int
    passages: int

    def __str__(self) -> str:
        documents = f"{self.documents} document{'s' * (self.documents != 1)}"
        return f"{documents}, {self.passages} passage{'s' * (self.passages != 1)}"


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: the size before and after, or the problems that kept the old corpus."""

    ok: bool
    before: Size
    after: Size
    error: str = ""  # one line: the problem, or "N problems: a.md: …; b.md: …" (the first few)
    problems: tuple[str, ...] = ()  # every problem, "file: problem", one per broken file or line


class Library:
    """Holds the knowledge built from corpus/ and answers from it.

    Readers take `self.knowledge` once per question, so a reload that swaps it in with one
    assignment never shows them a half-built index; reloads themselves are serialised.
    """

    def __init__(
        self,
        corpus_path: Path,
        settings: Settings,
        rarity: WordRarity | None = None,
        cache_dir: Path | None = CACHE_FOLDER,
    ) -> None:
        """Load the model and the corpus now, through the index cache in cache_dir.

        Raises CorpusError if the corpus cannot be used, ModelError for a bad model file and
        ModelUnavailable when `settings.semantic` is "on" but the embedding model is missing.
        """
        self.corpus_path = corpus_path
        self.cache_dir = cache_dir
        self.settings = settings
        self.rarity = rarity or WordRarity.load()
        self.encoder = open_encoder(settings.semantic)
        prepared = self._build(None)
        prepared.save()
        self.knowledge = prepared.knowledge
        self._state = prepared.state  # what the next reload starts from: only changed articles are redone
        self._saving: threading.Thread | None = None
        self.started = time.monotonic()
        self.counts: Counter[str] = Counter()
        self._reload_lock = threading.Lock()
        self._count_lock = threading.Lock()

    def _build(self, previous: Cached | None) -> Prepared:
        model = load_model(self.settings.model)
        return prepare_knowledge(self.corpus_path, self.rarity, self.cache_dir, model, self.encoder, previous=previous)

    @property
    def semantic(self) -> bool:
        """Whether answers use the sentence-embedding model."""
        return self.knowledge.vectors is not None and self.knowledge.encoder is not None

    @property
    def size(self) -> Size:
        """The documents and passages now served."""
        knowledge = self.knowledge
        return Size(len(knowledge.corpus.documents), len(knowledge.index))

    def ask(self, question: str, rank: int = 0) -> Answer:
        """Answer a question from the current knowledge and count it."""
        result = answer(question, self.knowledge, self.settings, rank)
        with self._count_lock:
            self.counts["answered" if result.found else "refused"] += 1
        return result

    def reload(self) -> ReloadResult:
        """Re-read the corpus; swap it in only if it built, else keep serving the old one.

        Only new and changed articles are parsed, tokenized and embedded again. The new cache is
        written after the swap, in the background; the next reload waits for it (wait_saved). Says
        nothing itself: the caller shows or logs the result once (the console prints it, the
        Telegram adapter logs it and tells the admin).
        """
        with self._reload_lock:
            self.wait_saved()
            before = self.size
            try:
                prepared = self._build(self._state)
            except TalksbotError as exc:  # a broken corpus file or model file
                problems = exc.problems if isinstance(exc, CorpusError) else (exc,)
                return ReloadResult(False, before, before, str(exc), tuple(str(p) for p in problems))
            self.knowledge = prepared.knowledge
            self._state = prepared.state
            self._saving = threading.Thread(target=prepared.save, name="talksbot-cache-writer")
            self._saving.start()
            return ReloadResult(True, before, self.size)

    def wait_saved(self) -> None:
        """Wait until the cache of the last reload is written."""
        saving = self._saving
        if saving is not None:
            saving.join()

    def uptime(self) -> float:
        """Seconds since the library was created."""
        return time.monotonic() - self.started


def open_encoder(mode: str) -> Encoder | None:
    """Load the sentence-embedding model as `answer.semantic` says: "auto" (if installed), "on", "off"."""
    if mode == "off":
        return None
    try:
        return load_encoder()
    except ModelUnavailable as exc:
        if mode == "on":
            raise
        logger.info("answering without semantic similarity: %s", exc)
        return None
