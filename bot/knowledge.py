"""What answering needs, built from one corpus: the index, the speller, the learned model and the
passages' embeddings (plain values, never changed once built); and the settings that shape answers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.corpus import Corpus, Document
from bot.index import Index
from bot.memory import Memory, build_memory
from bot.model import Model
from bot.passages import Passage, split_all, split_sentences
from bot.semantic import Encoder
from bot.text import Speller, WordRarity, cached_terms, numbers_in

PUBLISHER_LIMIT = 500  # the publisher's reprint limit, in characters of article text
SEMANTIC_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class Settings:
    """How answers are chosen and shaped; see config.yaml's `answer` section."""

    excerpt_chars: int = PUBLISHER_LIMIT
    candidates: int = 20  # passages the first stage (BM25) hands to the learned second stage
    suggestions: int = 3
    max_question_chars: int = 1000
    semantic: str = "auto"  # auto: use the sentence-embedding model when it is installed; on: require it; off
    model: str = ""  # the learned model file (talksbot train); "": the one shipped in bot/data


@dataclass(frozen=True)
class Vectors:
    """Unit-length sentence embeddings of every passage and of each of its sentences."""

    passages: npt.NDArray[np.float32]  # one row per passage
    sentences: npt.NDArray[np.float32]  # every passage's sentences, in passage order
    sentence_starts: npt.NDArray[np.int64]  # passage p's sentences: [sentence_starts[p], sentence_starts[p + 1])
    fingerprint: str  # the embedding model's


@dataclass(frozen=True)
class Knowledge:
    """Everything needed to answer, built from one corpus; never changed once built."""

    corpus: Corpus
    index: Index
    speller: Speller
    rarity: WordRarity
    model: Model | None  # None only while training a model (bot.learn)
    vectors: Vectors | None = None
    encoder: Encoder | None = None  # embeds questions; None when the semantic model is off or missing
    memory: Memory | None = None  # the model's labelled questions about this corpus (with the encoder)
    documents: Mapping[str, Document] = field(default_factory=dict)
    document_terms: Mapping[str, frozenset[str]] = field(default_factory=dict)
    document_numbers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sorted_stems: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        rarity: WordRarity,
        model: Model | None,
        index: Index | None = None,
        vectors: Vectors | None = None,
        encoder: Encoder | None = None,
    ) -> Knowledge:
        """Split the corpus into passages and index them (or take the index bot.cache saved for it).

        With an encoder and a model, the model's labelled questions about these documents are
        recalled too (bot.memory), with the embeddings the model file keeps when they are this
        encoder's."""
        if index is None:
            index = Index(split_all(corpus.documents))
        memory = None
        if encoder is not None and vectors is not None and model is not None:
            urls = {d.url: d.doc_id for d in corpus.documents}
            kept = model.memory_vectors if model.memory_encoder == encoder.fingerprint else None
            memory = build_memory(model.memory, index.passages, urls, encoder.embed, kept)
        return cls(
            corpus=corpus,
            index=index,
            speller=Speller.build(index.surface_words, rarity),
            rarity=rarity,
            model=model,
            vectors=vectors,
            encoder=encoder,
            memory=memory,
            documents={d.doc_id: d for d in corpus.documents},
            document_terms=DocumentTerms(index, corpus.documents),
            document_numbers=DocumentNumbers(corpus.documents),
            sorted_stems=tuple(sorted(index.vocabulary)),
        )


class DocumentTerms(Mapping[str, frozenset[str]]):
    """Each document's stems (its passages' and its title's), worked out when first asked for."""

    def __init__(self, index: Index, documents: Sequence[Document]) -> None:
        self._index = index
        self._titles = {d.doc_id: d.title for d in documents}
        self._ranges: dict[str, tuple[int, int]] = {}
        start = 0
        for position in range(1, len(index.passages) + 1):
            if position == len(index.passages) or index.passages[position].doc_id != index.passages[start].doc_id:
                self._ranges[index.passages[start].doc_id] = (start, position)
                start = position
        self._known: dict[str, frozenset[str]] = {}

    def __getitem__(self, doc_id: str) -> frozenset[str]:
        known = self._known.get(doc_id)
        if known is None:
            title = self._titles[doc_id]  # KeyError for a document not in the corpus
            start, end = self._ranges.get(doc_id, (0, 0))
            known = self._index.terms_in(start, end) | frozenset(cached_terms(title))
            self._known[doc_id] = known
        return known

    def __iter__(self) -> Iterator[str]:
        return iter(self._titles)

    def __len__(self) -> int:
        return len(self._titles)


class DocumentNumbers(Mapping[str, frozenset[str]]):
    """The numbers each document (title and text) writes in digits, worked out when first asked for."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self._documents = {d.doc_id: d for d in documents}
        self._known: dict[str, frozenset[str]] = {}

    def __getitem__(self, doc_id: str) -> frozenset[str]:
        known = self._known.get(doc_id)
        if known is None:
            doc = self._documents[doc_id]
            known = self._known[doc_id] = numbers_in(f"{doc.title}\n{doc.body}")
        return known

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)


def sentences_of(text: str) -> list[str]:
    """Return a passage's sentences (the whole text if it has no sentence break)."""
    return [text[a:b] for a, b in split_sentences(text)] or [text]


def embed_passages(passages: Sequence[Passage], encoder: Encoder) -> Vectors:
    """Embed every passage and each of its sentences (done once per corpus, kept in the index cache)."""
    sentences = [sentences_of(p.text) for p in passages]
    starts = np.zeros(len(passages) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(s) for s in sentences])
    return Vectors(
        passages=encoder.embed([p.text for p in passages]),
        sentences=encoder.embed([s for group in sentences for s in group]),
        sentence_starts=starts,
        fingerprint=encoder.fingerprint,
    )
