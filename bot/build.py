"""Building the index from a corpus folder, reusing what an earlier build made of unchanged files.

An article whose bytes did not change keeps its parsed document, passages, term counts and
embeddings from the earlier build; only new and changed articles are parsed, split, tokenized and
embedded (in two processes when there are many). The counts are then joined and BM25's global
statistics (document frequencies, average length, idf) computed afresh over the whole corpus, so
the index is the one a full build gives (tests/test_incremental.py).
"""

from __future__ import annotations

import functools
import itertools
import logging
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.corpus import Corpus, Document, Source, SourceFiles, assemble_corpus, parse_source, read_sources
from bot.counts import TermCounts, count_terms, merge_counts, take_passages
from bot.errors import CorpusError
from bot.index import Index
from bot.knowledge import Vectors, embed_passages
from bot.passages import Passage, split_passages
from bot.semantic import Encoder

logger = logging.getLogger(__name__)

# Below this much new text (characters, some 25,000 passages), a second process costs more to
# start, feed and hear back from than it saves.
PARALLEL_CHARS = 16_000_000


@dataclass(frozen=True)
class Built:
    """A corpus and everything indexed from it, with what the next build can reuse."""

    corpus: Corpus
    index: Index
    counts: TermCounts
    sources: tuple[Source, ...]  # one per document, in order
    vectors: Vectors | None = None

    @functools.cached_property
    def document_starts(self) -> list[int]:
        """Where each document's passages start, and the end; ValueError unless they follow the documents."""
        passages, documents = self.index.passages, self.corpus.documents
        starts = [0]
        for n in range(1, len(passages)):
            if passages[n].doc_id != passages[n - 1].doc_id:
                starts.append(n)
        starts.append(len(passages))
        ids = [passages[n].doc_id for n in starts[:-1]]
        if ids != [doc.doc_id for doc in documents] or [s.doc_id for s in self.sources] != ids:
            raise ValueError("the passages do not follow the documents")
        return starts


@dataclass(frozen=True)
class Parsed:
    """New or changed articles, parsed, split and counted: the work one process does."""

    documents: tuple[Document | CorpusError, ...]
    passages: tuple[Passage, ...]
    counts: TermCounts


def parse_articles(articles: Sequence[tuple[Source, str | CorpusError | None]]) -> Parsed:
    """Parse, split and count articles (run in a child process for half of a large build)."""
    documents = tuple(parse_source(source, text) for source, text in articles)
    passages = tuple(p for doc in documents if isinstance(doc, Document) for p in split_passages(doc))
    return Parsed(documents, passages, count_terms(p.text for p in passages))


def parse_in_parallel(articles: Sequence[tuple[Source, str | CorpusError | None]], processes: int) -> list[Parsed]:
    """Parse articles in consecutive shares, the later ones in child processes, this one doing the first.

    The children run bot.build.main (no fork of a process that may have threads, no import
    of the caller's main module); a child that fails has its share parsed here instead.
    """
    size = sum(len(text) for _, text in articles if isinstance(text, str))
    if processes < 2 or size < PARALLEL_CHARS or len(articles) < processes:
        return [parse_articles(articles)]
    bounds = _shares(articles, processes)
    children = [_Child(articles[a:b]) for a, b in bounds[1:]]
    first = parse_articles(articles[bounds[0][0] : bounds[0][1]])
    return [first, *(child.result() for child in children)]


class _Child:
    """A child process parsing one share of the articles."""

    def __init__(self, share: Sequence[tuple[Source, str | CorpusError | None]]) -> None:
        import subprocess  # only for a large build: kept off the start-up path
        import threading

        self.share = share
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import bot.build; bot.build.main()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.writer = threading.Thread(target=self._send, args=(pickle.dumps(list(share), protocol=5),), daemon=True)
        self.writer.start()

    def _send(self, payload: bytes) -> None:
        assert self.process.stdin is not None
        try:
            with self.process.stdin as stream:
                stream.write(payload)
        except OSError:  # the child died: result() notices
            pass

    def result(self) -> Parsed:
        """Return the child's work, or do it here if the child failed."""
        assert self.process.stdout is not None
        with self.process.stdout as stream:
            output = stream.read()
        self.writer.join()
        if self.process.wait() == 0:
            try:
                parsed = pickle.loads(output)  # our own child's output
                if isinstance(parsed, Parsed):
                    return parsed
            except Exception as exc:  # a cut-off or garbled answer
                logger.warning("a build process answered badly (%s); parsing its share here", exc)
        logger.warning("a build process failed (exit %s); parsing its share here", self.process.returncode)
        return parse_articles(self.share)


def main() -> None:
    """The child of parse_in_parallel: read pickled articles on stdin, write their Parsed on stdout."""
    articles = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(parse_articles(articles), protocol=5))
    sys.stdout.buffer.flush()


def _shares(articles: Sequence[tuple[Source, str | CorpusError | None]], processes: int) -> list[tuple[int, int]]:
    """Cut the articles into `processes` consecutive runs of about equal text."""
    sizes = np.cumsum([len(text) if isinstance(text, str) else 0 for _, text in articles])
    total = int(sizes[-1])
    cuts = [0] + [int(np.searchsorted(sizes, total * n / processes)) + 1 for n in range(1, processes)] + [len(articles)]
    cuts = sorted(min(max(c, 0), len(articles)) for c in cuts)
    return list(itertools.pairwise(cuts))


def build(
    folder: Path,
    previous: Built | None = None,
    encoder: Encoder | None = None,
    processes: int = 2,
    files: SourceFiles | None = None,
) -> Built:
    """Load the corpus folder (or take the files read from it) and index it, reusing `previous` for
    articles whose bytes did not change.

    Raises CorpusError as bot.corpus.load_corpus does.
    """
    files = files or read_sources(folder)
    kept = _reusable(previous)
    fresh = [(source, text) for source, text in files.articles if source not in kept]
    parsed = parse_in_parallel(fresh, processes)
    new_documents = iter(doc for share in parsed for doc in share.documents)
    documents = [kept[source][0] if source in kept else next(new_documents) for source, _ in files.articles]
    sources = [source for source, _ in files.articles]
    corpus = assemble_corpus(folder, sources, documents, files.synonyms)
    runs, passages = _runs(previous, kept, parsed, sources)
    present = set(sources)
    gone = [(a, b) for source, (_, a, b) in kept.items() if source not in present]
    counts = _join(runs, previous, gone, parsed)
    vectors = _vectors(runs, previous, parsed, encoder) if encoder is not None else None
    if previous is not None:
        logger.info("reindexed %d new or changed of %d articles", len(fresh), len(sources))
    return Built(corpus, Index.from_counts(passages, counts), counts, tuple(sources), vectors)


def _reusable(previous: Built | None) -> dict[Source, tuple[Document, int, int]]:
    """Map each source of the previous build to its document and its passages' range."""
    if previous is None:
        return {}
    kept: dict[Source, tuple[Document, int, int]] = {}
    starts = previous.document_starts
    for n, (source, doc) in enumerate(zip(previous.sources, previous.corpus.documents, strict=True)):
        kept[source] = (doc, starts[n], starts[n + 1])
    return kept


# A run of passages taken whole from one place: -1 the previous build, else a share of `parsed`.
_Run = tuple[int, int, int]


def _runs(
    previous: Built | None, kept: dict[Source, tuple[Document, int, int]], parsed: list[Parsed], sources: list[Source]
) -> tuple[list[_Run], list[Passage]]:
    """Return the corpus's passages as runs taken from the previous build or the new shares, in order."""
    runs: list[_Run] = []
    passages: list[Passage] = []
    share, offset = 0, 0
    for source in sources:
        if source in kept and previous is not None:
            _, a, b = kept[source]
            run = (-1, a, b)
            passages.extend(previous.index.passages[a:b])
        else:
            while offset == len(parsed[share].passages) and share + 1 < len(parsed):
                share, offset = share + 1, 0
            doc_id = source.doc_id
            end = offset
            while end < len(parsed[share].passages) and parsed[share].passages[end].doc_id == doc_id:
                end += 1
            run = (share, offset, end)
            passages.extend(parsed[share].passages[offset:end])
            offset = end
        if runs and runs[-1][0] == run[0] and runs[-1][2] == run[1]:
            runs[-1] = (run[0], runs[-1][1], run[2])
        elif run[1] < run[2]:
            runs.append(run)
    return runs, passages


def _join(runs: list[_Run], previous: Built | None, gone: list[tuple[int, int]], parsed: list[Parsed]) -> TermCounts:
    """Join the runs' term counts; word counts: the previous ones, less those of `gone` passages, plus new ones."""
    if len(runs) == 1 and runs[0][0] >= 0 and runs[0][2] - runs[0][1] == len(parsed[runs[0][0]].counts):
        return parsed[runs[0][0]].counts  # one share counted all: nothing to join
    words = dict(previous.counts.word_counts) if previous is not None else {}
    if previous is not None:
        gone_words = count_terms(p.text for a, b in gone for p in previous.index.passages[a:b]).word_counts
        for word, n in gone_words.items():
            left = words.get(word, 0) - n
            if left > 0:
                words[word] = left
            else:
                words.pop(word, None)
    for share in parsed:
        for word, n in share.counts.word_counts.items():
            words[word] = words.get(word, 0) + n
    parts = []
    for where, a, b in runs:
        source = previous.counts if where < 0 and previous is not None else parsed[where].counts
        parts.append(take_passages(source, a, b))
    return merge_counts(parts, words)


def _vectors(runs: list[_Run], previous: Built | None, parsed: list[Parsed], encoder: Encoder) -> Vectors:
    """Join the runs' embeddings: the previous build's where it has this encoder's, else embedded now."""
    old = previous.vectors if previous is not None else None
    reuse = old is not None and old.fingerprint == encoder.fingerprint
    parts: list[Vectors] = []
    for where, a, b in runs:
        if where < 0 and reuse and old is not None:
            parts.append(take_vectors(old, a, b))
        else:
            passages = previous.index.passages if where < 0 and previous is not None else parsed[where].passages
            parts.append(embed_passages(passages[a:b], encoder))
    return join_vectors(parts, encoder.fingerprint)


def take_vectors(vectors: Vectors, start: int, end: int) -> Vectors:
    """Return the embeddings of passages [start, end) alone."""
    first, last = int(vectors.sentence_starts[start]), int(vectors.sentence_starts[end])
    return Vectors(
        passages=vectors.passages[start:end],
        sentences=vectors.sentences[first:last],
        sentence_starts=vectors.sentence_starts[start : end + 1] - first,
        fingerprint=vectors.fingerprint,
    )


def join_vectors(parts: Sequence[Vectors], fingerprint: str) -> Vectors:
    """Join the embeddings of consecutive runs of passages."""
    starts = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for part in parts:
        starts.append(part.sentence_starts[1:] + offset)
        offset += int(part.sentence_starts[-1])
    return Vectors(
        passages=np.concatenate([p.passages for p in parts]),
        sentences=np.concatenate([p.sentences for p in parts]),
        sentence_starts=np.concatenate(starts),
        fingerprint=fingerprint,
    )
