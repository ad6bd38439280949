"""The model's memory: labelled questions, recalled by meaning (pure but for the embedding).

A new question close in meaning to a labelled one is likely answered by the same passage, or,
close to one the article does not answer, likely not answered either. The labelled questions
travel in the model file; for a corpus, the ones about its documents are embedded once (and
kept in the index cache) and tied to the passages that hold their gold fragments.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.passages import Passage
from bot.text import fold, matchable


@dataclass(frozen=True)
class Recollection:
    """One labelled question the model remembers."""

    question: str
    answers: tuple[str, ...]  # gold fragments; () when the documents do not answer it
    urls: tuple[str, ...]  # the documents it is about
    group: str  # the question set it came from

    def to_json(self) -> dict[str, Any]:
        """Return plain JSON values."""
        return {"question": self.question, "answers": list(self.answers), "urls": list(self.urls), "set": self.group}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Recollection:
        """Read one written by to_json."""
        return cls(str(raw["question"]), tuple(map(str, raw["answers"])), tuple(map(str, raw["urls"])), str(raw["set"]))


@dataclass(frozen=True)
class Memory:
    """The recollections about one corpus, embedded and tied to its passages."""

    vectors: npt.NDArray[np.float32]  # one row per recollection
    groups: tuple[str, ...]
    answered: tuple[bool, ...]  # whether each recollection has an answer in the corpus
    documents: tuple[frozenset[str], ...]  # the ids of the documents each recollection is about
    by_passage: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # passage → recollections it answers


@dataclass(frozen=True)
class Recall:
    """How close a question comes to what the memory holds, for its candidates."""

    passage: npt.NDArray[np.float64]  # per candidate: the closest recollection it answers (0: none)
    known: npt.NDArray[np.float64]  # per candidate: 1 if it answers any recollection
    unanswered: npt.NDArray[np.float64]  # per candidate: the closest recollection its document does not answer


def relevant(recollections: Sequence[Recollection], urls: Collection[str]) -> list[Recollection]:
    """Return the recollections whose documents are all in a corpus with these URLs."""
    return [r for r in recollections if r.urls and all(u in urls for u in r.urls)]


def recall(
    memory: Memory,
    question: npt.NDArray[np.float64],
    positions: Sequence[int],
    documents: Sequence[str],
    allowed: Collection[str] | None = None,
) -> Recall:
    """Return the question's closeness to the memory for candidates at `positions` in `documents`.

    Only recollections of `allowed` groups count (None: all)."""
    similarity = memory.vectors.astype(np.float64) @ question if len(memory.groups) else np.zeros(0)
    usable = [allowed is None or g in allowed for g in memory.groups]
    refused = [n for n, answered in enumerate(memory.answered) if usable[n] and not answered]
    passage, known, unanswered = np.zeros(len(positions)), np.zeros(len(positions)), np.zeros(len(positions))
    for i, (position, document) in enumerate(zip(positions, documents, strict=True)):
        entries = [n for n in memory.by_passage.get(position, ()) if usable[n]]
        if entries:
            passage[i] = float(similarity[entries].max())
            known[i] = 1.0
        about = [n for n in refused if document in memory.documents[n]]
        if about:
            unanswered[i] = float(similarity[about].max())
    return Recall(passage, known, unanswered)


def build_memory(
    recollections: Sequence[Recollection],
    passages: Sequence[Passage],
    urls: Mapping[str, str],
    embed: Callable[[Sequence[str]], npt.NDArray[np.float32]],
    vectors: npt.NDArray[np.float32] | None = None,
) -> Memory:
    """Tie the recollections about this corpus to its passages, with their embeddings.

    `urls` maps each document's URL to its id. `vectors` are the recollections' embeddings, row by
    row, as the model file keeps them; without them, `embed` (the encoder's) makes them.
    """
    chosen = [n for n, r in enumerate(recollections) if r.urls and all(u in urls for u in r.urls)]
    kept = [recollections[n] for n in chosen]
    tied: dict[int, list[int]] = {}
    by_document: dict[str, list[int]] = {}
    for position, passage in enumerate(passages):
        by_document.setdefault(passage.doc_id, []).append(position)
    for n, recollection in enumerate(kept):
        fragments = [matchable(a) for a in recollection.answers]
        for url in recollection.urls:
            for position in by_document.get(urls[url], ()):
                if fragments and any(f in matchable(passages[position].text) for f in fragments):
                    tied.setdefault(position, []).append(n)
    if vectors is not None and len(vectors) == len(recollections):
        rows = vectors[chosen]
    else:
        rows = embed([fold(r.question) for r in kept]) if kept else np.zeros((0, 0), dtype=np.float32)
    return Memory(
        vectors=rows,
        groups=tuple(r.group for r in kept),
        answered=tuple(bool(r.answers) for r in kept),
        documents=tuple(frozenset(urls[u] for u in r.urls) for r in kept),
        by_passage={position: tuple(entries) for position, entries in tied.items()},
    )


def merge(recalls: Sequence[Recall], count: int) -> Recall:
    """Return what the union of several groups' recollections recalls (each feature is a maximum)."""
    if not recalls:
        return Recall(np.zeros(count), np.zeros(count), np.zeros(count))
    return Recall(
        np.max([r.passage for r in recalls], axis=0),
        np.max([r.known for r in recalls], axis=0),
        np.max([r.unanswered for r in recalls], axis=0),
    )
