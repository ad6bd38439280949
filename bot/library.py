"""The library, the core's one door for the adapters (CLI, console, Telegram): the current knowledge,
swapped whole on a successful reload, its counters, and the corpus's articles to list, add and remove.

Adapters ask (`ask`, `rank`), list (`documents`, `passage_counts`), count (`stats`), reload, and
import pages (`read_page`, `fetch_page`, then `add` or `write_page`); they reach nothing behind it.
The model's tooling goes through it too: `score_file` (eval), `learn_model` and `quality_report`
(train, eval --cv).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answer import Answer as Answer  # re-exported: the adapters take these names from the library
from bot.answer import answer, answers
from bot.cache import CACHE_FOLDER, Cached, Prepared, prepare_knowledge
from bot.config import ImportConfig
from bot.corpus import Document
from bot.errors import CorpusError, TalksbotError
from bot.importer import Article as Article
from bot.importer import Kind, check_date, check_url, import_source, kind_of
from bot.importer import Overrides as Overrides
from bot.knowledge import Settings
from bot.model import load_model
from bot.semantic import Encoder, ModelUnavailable, load_encoder
from bot.storage import add_to_corpus, check_target, corpus_file, write_atomic
from bot.text import WordRarity
from bot.text import fold as fold  # how a question is kept with a vote (bot.learn reads it back)

if TYPE_CHECKING:
    from bot.quality import Learned

logger = logging.getLogger(__name__)

NO_OVERRIDES = Overrides()


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


@dataclass(frozen=True)
class Stats:
    """Usage since the library was created: answers and refusals (every way of asking counted), uptime, size."""

    answered: int
    refused: int
    ways: Mapping[str, int]  # questions by the way they were asked: "message", "another passage", "inline"
    uptime: float  # seconds
    size: Size


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
        self.ways: Counter[str] = Counter()
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

    @property
    def documents(self) -> tuple[Document, ...]:
        """The articles now served, in corpus order."""
        return tuple(self.knowledge.corpus.documents)

    @property
    def synonym_rules(self) -> int:
        """How many synonym rules the corpus's synonyms.txt holds."""
        return len(self.knowledge.corpus.synonyms.rules)

    def passage_counts(self) -> dict[str, int]:
        """Each served article's number of passages, by doc_id."""
        knowledge = self.knowledge
        counts = Counter(p.doc_id for p in knowledge.index.passages)
        return {d.doc_id: counts[d.doc_id] for d in knowledge.corpus.documents}

    def ask(self, question: str, rank: int = 0, *, via: str = "message") -> Answer:
        """Answer a question (with the passage at `rank`, 0 the best) from the current knowledge and count it."""
        result = answer(question, self.knowledge, self.settings, rank)
        self._count(via, result.found)
        return result

    def rank(self, question: str, count: int, *, via: str | None = "inline") -> list[Answer]:
        """The best `count` passages that answer a question (fewer when fewer do), analysing it once.

        Counted once, as answered when any passage answers; via=None counts nothing (the examples an
        empty inline query shows are not a reader's question)."""
        results = answers(question, self.knowledge, self.settings, range(count))
        found = list(itertools.takewhile(lambda result: result.found, results))
        if via is not None:
            self._count(via, bool(found))
        return found

    def _count(self, via: str, found: bool) -> None:
        """Count one question, by its outcome and by the way it was asked."""
        with self._count_lock:
            self.counts["answered" if found else "refused"] += 1
            self.ways[via] += 1

    def stats(self) -> Stats:
        """Answers, refusals and the ways of asking since the start, with the uptime and the corpus size."""
        with self._count_lock:
            answered, refused, ways = self.counts["answered"], self.counts["refused"], dict(self.ways)
        return Stats(answered, refused, ways, self.uptime(), self.size)

    def add(self, article: Article) -> tuple[Path, ReloadResult]:
        """Write an article into the corpus folder and reload; if the reload fails, remove the file again (blocking).

        Raises ImportPageError for an article already served (same URL), OutputError if it cannot be written."""
        urls = {doc.url: f"{doc.doc_id}.md" for doc in self.documents}
        path = add_to_corpus(self.corpus_path, article, urls)
        result = self.reload()
        if not result.ok:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return path, result

    def remove(self, doc_id: str) -> tuple[Path, ReloadResult]:
        """Delete an article's file and reload; if the reload fails, put the file back (blocking)."""
        path = corpus_file(self.corpus_path, doc_id)
        saved = path.read_bytes()
        path.unlink()
        result = self.reload()
        if not result.ok:
            path.write_bytes(saved)
        return path, result

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


def page_overrides(
    url: str | None = None, title: str | None = None, published: str | None = None, publisher: str | None = None
) -> Overrides:
    """What to say of an imported page instead of what it says itself, checked (ImportPageError names the option)."""
    return Overrides(
        url=check_url(url, "--url") if url is not None else None,
        title=" ".join(title.split()) or None if title is not None else None,
        published=check_date(published, "--published") if published is not None else None,
        publisher=" ".join(publisher.split()) or None if publisher is not None else None,
    )


def page_kind(name: str) -> Kind:
    """The importer a file name asks for ("html", "txt" or "md"); ImportPageError for any other file."""
    return kind_of(name)


def read_page(data: bytes, kind: Kind, overrides: Overrides = NO_OVERRIDES, fetched_from: str | None = None) -> Article:
    """Import a page's bytes (a saved web page, a page copy or a corpus file) as an article, not yet added."""
    return import_source(data, kind, overrides, fetched_from=fetched_from)


def fetch_page(url: str, limits: ImportConfig, overrides: Overrides = NO_OVERRIDES, option: str = "url") -> Article:
    """Download a web page (address checks, size and time limits) and import it (blocking: run in a thread).

    option names the URL in the one-line ImportPageError a malformed address gets."""
    from bot.fetch import FetchSettings, fetch

    settings = FetchSettings(limits.allow_private_addresses, limits.max_bytes, float(limits.timeout_seconds))
    page = fetch(check_url(url, option), settings)
    return import_source(page.data, "html", overrides, fetched_from=page.url)


def write_page(article: Article, output: Path, *, overwrite: bool = False) -> None:
    """Write an article as a corpus file, atomically (OutputExists if the file exists and not overwrite)."""
    write_atomic(output, article.to_markdown(), overwrite=overwrite)


def check_output(output: Path, *, overwrite: bool = False) -> None:
    """Refuse early an output path that cannot be written (a folder, a missing folder, an existing file)."""
    check_target(output, overwrite=overwrite)


def score_file(path: Path, library: Library, show_misses: bool) -> str:
    """Ask every question of a labelled file (shared/eval's format) and report the score."""
    from bot.evaluate import load_items, report, score

    return report(score(load_items(path), library.ask), show_misses)


def learn_model(
    paths: Sequence[Path],
    corpus_path: Path,
    settings: Settings,
    feedback: Path | None = None,
    cross_validated: bool = False,
) -> Learned:
    """Fit the learned second stage to question files (and readers' votes), cross-validated if asked."""
    from bot.cache import build_knowledge
    from bot.quality import learn

    rarity = WordRarity.load()
    encoder = open_encoder(settings.semantic)
    served = build_knowledge(corpus_path, rarity, None, None, encoder) if feedback is not None else None
    return learn(paths, corpus_path, settings, encoder, served, feedback, cross_validated)


def quality_report(learned: Learned, command: str) -> str:
    """Render QUALITY.md from a cross-validated fit."""
    from bot.quality import render

    return render(learned.qualities, learned.model, command)
