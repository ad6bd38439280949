"""Synthetic newsroom archives in the corpus format: Zipfian English text, passages and questions.

Words are drawn from bot/data's table of English word frequencies (a Zipfian vocabulary of ~59,000
words, stop words included), so passages have the length and term statistics of real prose. Each
document is a Markdown file with YAML front matter like corpus/*.md; each paragraph holds 60-120
words and becomes one passage. Questions hold 3-8 content words, most taken from one passage.
Everything follows from the seed: the same arguments write the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import shutil
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.passages import MAX_PASSAGE_CHARS
from bot.text import STOP_WORDS

GENERATOR_VERSION = 1
DEFAULT_SEED = 20220112
PASSAGE_WORDS = (60, 120)
SENTENCE_WORDS = (6, 18)
DOCUMENT_PASSAGES = (5, 15)
QUERY_WORDS = (3, 8)
OFF_TOPIC_SHARE = 0.2  # a question word drawn from the whole vocabulary instead of the passage
FILES_PER_FOLDER = 1000
PUBLISHER = "Synthetic Archive Press"


@dataclass(frozen=True)
class Archive:
    """A generated archive on disk: its corpus folder and its question file."""

    folder: Path
    passages: int
    documents: int
    queries: int
    seed: int

    @property
    def corpus(self) -> Path:
        """The corpus folder (the format of corpus/)."""
        return self.folder / "corpus"

    @property
    def questions(self) -> Path:
        """One question per line."""
        return self.folder / "questions.txt"

    def read_questions(self) -> list[str]:
        """Return the archive's questions."""
        return self.questions.read_text(encoding="utf-8").splitlines()


@dataclass(frozen=True)
class Vocabulary:
    """English words and the cumulative probabilities to draw them by."""

    words: tuple[str, ...]
    cumulative: npt.NDArray[np.float64]

    @classmethod
    def load(cls) -> Vocabulary:
        """Read bot/data/english-zipf.tsv.gz; a word's probability is 10 ** its Zipf value."""
        raw = resources.files("bot").joinpath("data/english-zipf.tsv.gz").read_bytes()
        words, zipf = [], []
        for line in gzip.decompress(raw).decode().splitlines():
            word, _, value = line.partition("\t")
            words.append(word)
            zipf.append(int(value) / 100)
        weights = np.power(10.0, np.array(zipf))
        cumulative = np.cumsum(weights / weights.sum())
        cumulative[-1] = 1.0
        return cls(tuple(words), cumulative)

    def draw(self, rng: np.random.Generator, count: int) -> list[str]:
        """Return `count` words drawn by frequency."""
        picks = np.searchsorted(self.cumulative, rng.random(count), side="right")
        return [self.words[i] for i in picks]


def write_archive(folder: Path, passages: int, queries: int = 1000, seed: int = DEFAULT_SEED) -> Archive:
    """Write (or reuse, when already written with the same arguments) an archive of `passages` passages."""
    archive = Archive(folder, passages, 0, queries, seed)
    marker = folder / "archive.json"
    wanted = {"generator": GENERATOR_VERSION, "passages": passages, "queries": queries, "seed": seed}
    if marker.exists():
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if {k: recorded.get(k) for k in wanted} == wanted:
            return Archive(folder, passages, int(recorded["documents"]), queries, seed)
    if folder.exists():
        shutil.rmtree(folder)
    archive.corpus.mkdir(parents=True)
    vocabulary = Vocabulary.load()
    rng = np.random.default_rng(seed)
    asked = np.sort(rng.choice(passages, size=min(queries, passages), replace=passages < queries))
    wanted_words: dict[int, list[str]] = {}
    written = documents = 0
    next_asked = 0
    while written < passages:
        size = min(passages - written, int(rng.integers(DOCUMENT_PASSAGES[0], DOCUMENT_PASSAGES[1] + 1)))
        paragraphs = []
        for position in range(written, written + size):
            text, drawn = _paragraph(rng, vocabulary)
            paragraphs.append(text)
            while next_asked < len(asked) and asked[next_asked] == position:
                wanted_words[position] = drawn
                next_asked += 1
        _write_document(archive.corpus, documents, paragraphs, vocabulary.draw(rng, 6))
        written += size
        documents += 1
    lines = [_question(rng, vocabulary, wanted_words[int(p)]) for p in rng.permutation(asked)]
    archive.questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    marker.write_text(json.dumps({**wanted, "documents": documents}, indent=1) + "\n", encoding="utf-8")
    return Archive(folder, passages, documents, queries, seed)


def draw_passages(passages: int, queries: int, seed: int = DEFAULT_SEED) -> tuple[list[str], list[str]]:
    """Return passage texts and questions as write_archive draws them, in memory (for tests)."""
    vocabulary = Vocabulary.load()
    rng = np.random.default_rng(seed)
    drawn = [_paragraph(rng, vocabulary) for _ in range(passages)]
    asked = rng.integers(passages, size=queries)
    return [text for text, _ in drawn], [_question(rng, vocabulary, drawn[int(p)][1]) for p in asked]


def _paragraph(rng: np.random.Generator, vocabulary: Vocabulary) -> tuple[str, list[str]]:
    """Return one paragraph of sentences and the words drawn for it."""
    count = int(rng.integers(PASSAGE_WORDS[0], PASSAGE_WORDS[1] + 1))
    drawn = vocabulary.draw(rng, count)
    sentences = []
    start = 0
    while start < count:
        end = min(count, start + int(rng.integers(SENTENCE_WORDS[0], SENTENCE_WORDS[1] + 1)))
        if count - end < SENTENCE_WORDS[0]:
            end = count
        sentence = " ".join(drawn[start:end])
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        start = end
    text = " ".join(sentences)
    if len(text) > MAX_PASSAGE_CHARS:  # never with 120 common words; a guard against a table change
        raise ValueError(f"a generated paragraph of {len(text)} characters would split into two passages")
    return text, drawn


def _write_document(corpus: Path, number: int, paragraphs: list[str], title_words: list[str]) -> None:
    folder = corpus / f"{number // FILES_PER_FOLDER:04d}"
    folder.mkdir(exist_ok=True)
    published = dt.date(2010, 1, 1) + dt.timedelta(days=number % 5000)
    title = " ".join(title_words).capitalize()
    front = (
        f'---\ntitle: "{title}"\nurl: https://archive.example.org/{number:07d}\n'
        f"publisher: {PUBLISHER}\npublished: {published.isoformat()}\n---\n"
    )
    (folder / f"{number:07d}.md").write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def _question(rng: np.random.Generator, vocabulary: Vocabulary, passage_words: list[str]) -> str:
    """Return 3-8 content words, most from the passage, some from anywhere."""
    content = list(dict.fromkeys(w for w in passage_words if w not in STOP_WORDS))
    count = int(rng.integers(QUERY_WORDS[0], QUERY_WORDS[1] + 1))
    chosen: list[str] = []
    while len(chosen) < count:
        if content and rng.random() >= OFF_TOPIC_SHARE:
            chosen.append(content.pop(int(rng.integers(len(content)))))
        else:
            word = vocabulary.draw(rng, 1)[0]
            if word not in STOP_WORDS and word not in chosen:
                chosen.append(word)
    return " ".join(chosen) + "?"


def main() -> None:
    """Write one archive: python -m benchmarks.generate FOLDER PASSAGES."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", type=Path)
    parser.add_argument("passages", type=int)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    print(asdict(write_archive(args.folder, args.passages, args.queries, args.seed)))


if __name__ == "__main__":
    main()
