"""The on-disk index cache: start-up and reload skip parsing and indexing what didn't change.

The cache is two files, knowledge.npz (the index arrays, loaded with allow_pickle=False: no pickle
is ever read) and knowledge.jsonl (the documents, passages, vocabulary and each file's digest, a
JSON value a line, documents and passages a line per field), keyed by a digest of every file the
corpus loader reads and of the code that turns them into an index. An unchanged key starts from
the cache; a changed corpus reuses each unchanged article's pieces (bot.build); a cache from
other code, unreadable or inconsistent is ignored and replaced. A file whose size and
modification time are those it had when last read (and well before) is not read again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from bot import __version__
from bot.build import Built, build
from bot.corpus import Corpus, Document, Source, Stamp, read_sources
from bot.counts import TermCounts
from bot.index import Index, Postings
from bot.knowledge import Knowledge, Vectors
from bot.model import Model
from bot.passages import Passage
from bot.semantic import Encoder
from bot.synonyms import Synonyms
from bot.text import WordRarity

logger = logging.getLogger(__name__)

CACHE_FORMAT = 3
# The default cache folder, relative to the corpus folder (which the corpus loader skips: it
# ignores folders whose names start with a dot).
CACHE_FOLDER = Path(".talksbot-cache")
CACHE_FILE = "knowledge.npz"
# The modules whose code decides what a corpus indexes to; editing one invalidates every cache.
_INDEXING_MODULES = (
    "__init__.py", "build.py", "cache.py", "corpus.py", "counts.py", "index.py", "knowledge.py", "passages.py",
    "semantic.py", "synonyms.py", "text.py",
)
_ARRAYS = ("term_starts", "positions", "contributions", "passage_starts", "passage_terms", "token_starts", "tokens")
_VECTORS = ("passages", "sentences", "sentence_starts")
# A file modified this close to when it was last read may have changed within the same tick of the
# file system's clock: it is read again rather than trusted by its size and time.
TRUST_MARGIN_NS = 2_000_000_000


def code_key(salt: str = "") -> str:
    """Return a digest of the cache format and of the code that turns a corpus into an index.

    Pieces of a cache with another code key (another version, format or embedding model) are never reused.
    """
    digest = hashlib.sha256(f"talksbot-cache {CACHE_FORMAT} {__version__} {salt}\n".encode())
    code = Path(__file__).resolve().parent
    for name in _INDEXING_MODULES:
        digest.update(f"code {name}\n".encode() + (code / name).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Cached:
    """What a cache holds: the build, its key, and the stamps of the files it was built from."""

    key: str
    code: str  # code_key() of the code that built it
    built: Built
    stamps: Mapping[str, Stamp]
    read_ns: int  # when the files were read


def save_index(path: Path, state: Cached) -> None:
    """Write the index arrays to `path` (.npz) and the corpus and passages beside it (.jsonl).

    Each file is replaced atomically and both carry the key, so a reader that catches one new
    and one old file sees two keys and rebuilds. The sources and word counts let the next build
    reuse each unchanged article's pieces (bot.build).
    """
    document_fields = [f.name for f in dataclasses.fields(Document)]
    passage_fields = [f.name for f in dataclasses.fields(Passage)]
    built, key = state.built, state.key
    vectors = built.vectors
    head = {
        "format": CACHE_FORMAT,
        "key": key,
        "code": state.code,
        "documents": len(built.corpus.documents),
        "passages": len(built.index.passages),
        "document_fields": document_fields,
        "passage_fields": passage_fields,
        "vectors": vectors.fingerprint if vectors is not None else "",
        "read_ns": state.read_ns,
    }
    lines: list[Any] = [
        head,
        [[list(source), [list(t) for t in targets]] for source, targets in built.corpus.synonyms.rules],
        built.index.postings.vocabulary,
        built.counts.word_counts,
        [[source.name, source.digest] for source in built.sources],
        {name: [s.size, s.mtime_ns, s.digest] for name, s in state.stamps.items()},
    ]
    arrays = {name: getattr(built.index.postings, name) for name in _ARRAYS}
    arrays["frequencies"] = built.counts.frequencies
    arrays["key"] = np.frombuffer(key.encode(), dtype=np.uint8)
    if vectors is not None:
        arrays.update({f"vectors_{name}": getattr(vectors, name) for name in _VECTORS})
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = itertools.chain(  # a line per field: the documents' and the passages' columns
        lines,
        ([getattr(d, name) for d in built.corpus.documents] for name in document_fields),
        ([getattr(p, name) for p in built.index.passages] for name in passage_fields),
    )
    _replace(path.with_suffix(".jsonl"), lambda stream: _write_lines(stream, rows))
    _replace(path, lambda stream: np.savez(stream, allow_pickle=False, **arrays))


def load_index(path: Path, code: str) -> Cached | None:
    """Return the key and contents of the cache at `path` (and its .jsonl) if sound and made by this code, else None."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            key = saved["key"].tobytes().decode() if "key" in saved.files else ""
            arrays = {name: saved[name] for name in (*_ARRAYS, "frequencies")}
            saved_vectors = {name: saved[f"vectors_{name}"] for name in _VECTORS if f"vectors_{name}" in saved.files}
        with path.with_suffix(".jsonl").open(encoding="utf-8") as stream:
            head = json.loads(stream.readline())
            if not isinstance(head, dict) or head.get("format") != CACHE_FORMAT or head.get("code") != code:
                return None
            if head.get("key") != key:
                raise ValueError("the two files are from different builds")
            rules, vocabulary, word_counts, sources, stamps = (json.loads(stream.readline()) for _ in range(5))
            document_columns = [json.loads(stream.readline()) for _ in head["document_fields"]]
            passage_columns = [json.loads(stream.readline()) for _ in head["passage_fields"]]
    except FileNotFoundError:
        return None
    except Exception as exc:  # any damage to a file (zip, npy header, JSON, UTF-8) means: rebuild
        logger.warning("ignoring unreadable index cache %s: %s", path, exc)
        return None
    try:
        built = _restore(head, rules, vocabulary, word_counts, sources, document_columns, passage_columns, arrays,
                         saved_vectors)
        trusted = {str(n): Stamp(int(a), int(b), str(c)) for n, (a, b, c) in stamps.items()}
        return Cached(key, code, built, trusted, int(head["read_ns"]))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        logger.warning("ignoring inconsistent index cache %s: %s", path, exc)
        return None


def _restore(head: dict[str, Any], *saved: Any) -> Built:
    """Turn a cache's saved values back into a build; raises on anything that does not fit."""
    rules, vocabulary, word_counts, sources, document_columns, passage_columns, arrays, saved_vectors = saved
    synonyms = Synonyms(tuple((tuple(s), tuple(tuple(t) for t in ts)) for s, ts in rules))
    documents = _objects(Document, head["document_fields"], document_columns, head["documents"])
    passages = _objects(Passage, head["passage_fields"], passage_columns, head["passages"])
    frequencies = arrays.pop("frequencies")
    postings = Postings(vocabulary=tuple(vocabulary), **arrays)
    fits = (
        isinstance(word_counts, dict)
        and all(type(n) is int for n in word_counts.values())
        and len(sources) == len(documents)
        and frequencies.shape == postings.passage_terms.shape
        and (len(frequencies) == 0 or int(frequencies.min()) >= 1)
    )
    if not fits:
        raise ValueError("the saved sources or counts do not fit the documents")
    index = Index.restore(passages, postings, frozenset(word_counts))
    counts = TermCounts(
        vocabulary=postings.vocabulary,
        passage_starts=postings.passage_starts,
        passage_terms=postings.passage_terms,
        frequencies=frequencies,
        lengths=np.maximum(np.diff(postings.token_starts), 1),
        token_starts=postings.token_starts,
        tokens=postings.tokens,
        word_counts=word_counts,
    )
    vectors = None
    if len(saved_vectors) == len(_VECTORS):
        vectors = Vectors(fingerprint=str(head.get("vectors", "")), **saved_vectors)
        starts = vectors.sentence_starts
        if len(vectors.passages) != len(passages) or len(starts) != len(passages) + 1:
            raise ValueError("the saved embeddings do not fit the passages")
        if int(starts[0]) != 0 or int(starts[-1]) != len(vectors.sentences) or bool(np.any(np.diff(starts) < 0)):
            raise ValueError("the saved sentence embeddings do not fit the passages")
    files = tuple(Source(str(name), str(digest)) for name, digest in sources)
    built = Built(Corpus(documents, synonyms), index, counts, files, vectors)
    built.document_starts  # noqa: B018  (raises unless the passages follow the documents)
    return built


@dataclass(frozen=True)
class Prepared:
    """A build ready to serve, what the next build can start from, and the writing of its cache."""

    knowledge: Knowledge
    state: Cached
    path: Path | None  # where to write the cache; None: nothing to write

    def save(self) -> None:
        """Write the cache (if there is one to write); a cache that cannot be written is only logged."""
        if self.path is None:
            return
        try:
            save_index(self.path, self.state)
        except OSError as exc:
            advice = "set corpus.cache to a writable folder"
            logger.warning("cannot write the index cache %s (%s): %s", self.path, advice, exc)


def build_knowledge(
    folder: Path,
    rarity: WordRarity,
    cache_dir: Path | None = CACHE_FOLDER,
    model: Model | None = None,
    encoder: Encoder | None = None,
    processes: int = 2,
) -> Knowledge:
    """Load the corpus folder, index it and embed its passages, through the cache in `cache_dir`.

    `cache_dir` is relative to the folder (or absolute). With cache_dir None, or a corpus with a
    linked file, nothing is cached. When the corpus changed since the cache was written, only new
    and changed articles are parsed, tokenized and embedded again. Passages are embedded only with
    an encoder; `processes` share a large build. Raises CorpusError as load_corpus does; a cache
    that cannot be written is only logged.
    """
    prepared = prepare_knowledge(folder, rarity, cache_dir, model, encoder, processes)
    prepared.save()
    return prepared.knowledge


def prepare_knowledge(
    folder: Path,
    rarity: WordRarity,
    cache_dir: Path | None = CACHE_FOLDER,
    model: Model | None = None,
    encoder: Encoder | None = None,
    processes: int = 2,
    previous: Cached | None = None,
) -> Prepared:
    """Build as build_knowledge does, starting from `previous` (the last build's state) if given,
    else from the cache; leave writing the cache to the caller (Prepared.save)."""
    started = time.perf_counter()
    salt = encoder.fingerprint if encoder is not None else ""
    path = folder / cache_dir / CACHE_FILE if cache_dir is not None else None
    code = code_key(salt)
    cached = previous if previous is not None and previous.code == code else None
    if cached is None and path is not None:
        cached = load_index(path, code)
    if cached is None:
        files = read_sources(folder)
    else:
        files = read_sources(folder, cached.stamps, cached.read_ns - TRUST_MARGIN_NS)
    key = files.key(code)
    path = None if files.linked else path
    if cached is not None and cached.key == key and (encoder is None or cached.built.vectors is not None):
        built = cached.built
        vectors = built.vectors if encoder else None
        knowledge = Knowledge.build(built.corpus, rarity, model, built.index, vectors, encoder)
        elapsed = time.perf_counter() - started
        logger.debug("loaded %d passages from the index cache in %.2fs", len(built.index), elapsed)
        return Prepared(knowledge, cached, None)
    built = build(folder, cached.built if cached is not None else None, encoder, processes, files)
    knowledge = Knowledge.build(built.corpus, rarity, model, built.index, built.vectors, encoder)
    logger.debug("indexed %d passages in %.2fs", len(knowledge.index), time.perf_counter() - started)
    return Prepared(knowledge, Cached(key, code, built, files.stamps, files.read_ns), path)


def _objects(kind: Any, names: list[str], columns: list[list[Any]], count: int) -> tuple[Any, ...]:
    """Return the saved columns as objects of a dataclass whose fields they are; lists were tuples."""
    if names != [f.name for f in dataclasses.fields(kind)] or any(len(column) != count for column in columns):
        raise ValueError(f"the saved {kind.__name__} columns do not fit")
    columns = [[tuple(v) for v in c] if c and isinstance(c[0], list) else c for c in columns]  # a column is of one type
    return tuple(itertools.starmap(kind, zip(*columns, strict=True)))


def _write_lines(stream: BinaryIO, rows: Iterable[Any]) -> None:
    """Write one JSON value per line, one at a time (no copy of the whole in memory)."""
    writer = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    for row in rows:
        writer.write(json.dumps(row, ensure_ascii=False) + "\n")
    writer.flush()
    writer.detach()


def _replace(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through a temporary one beside it, then move it into place."""
    import tempfile  # only when writing: kept off the start-up path

    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
