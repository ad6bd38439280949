"""From a question to an answer: query analysis, passage choice, refusal and the excerpt (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.corpus import Corpus, Document
from bot.index import Index
from bot.passages import split_all, split_sentences
from bot.text import Speller, WordRarity, fold, stem, terms, words

PUBLISHER_LIMIT = 500  # the publisher's reprint limit, in characters of article text
ELLIPSIS = "…"
# Synonym expansions count for less than the words the reader typed.
EXPANSION_WEIGHT = 0.5

_WANTS_NUMBER = re.compile(r"\bhow (many|much|long|often|old|far)\b|\bwhat (number|percentage|share)\b")
_WANTS_TIME = re.compile(r"^(when|what (year|date|day|month|time))\b|\bwhen (did|was|were|is|will|do)\b")
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|hundred|thousand|million|billion|dozen|dozens|half|once|twice|several|few)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\d|\b(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|month|year|yesterday|today"
    r"|tomorrow|spring|summer|fall|autumn|winter)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Settings:
    """How answers are shaped; see config.yaml's `answer` section."""

    excerpt_chars: int = PUBLISHER_LIMIT
    # Calibrated on the dev questions with `talksbot eval --calibrate` (see answer.calibrate).
    min_coverage: float = 0.5
    candidates: int = 10
    suggestions: int = 3
    max_question_chars: int = 1000


@dataclass(frozen=True)
class Knowledge:
    """Everything needed to answer, built from one corpus; never changed once built."""

    corpus: Corpus
    index: Index
    speller: Speller
    rarity: WordRarity
    documents: Mapping[str, Document] = field(default_factory=dict)

    @classmethod
    def build(cls, corpus: Corpus, rarity: WordRarity) -> Knowledge:
        """Split the corpus into passages and index them."""
        index = Index(split_all(corpus.documents))
        return cls(
            corpus=corpus,
            index=index,
            speller=Speller.build(index.surface_words, rarity),
            rarity=rarity,
            documents={d.doc_id: d for d in corpus.documents},
        )


@dataclass(frozen=True)
class QueryWord:
    """One content word of the question: what was typed, what it matches, how much it matters."""

    typed: str
    word: str
    stems: frozenset[str]
    weight: float


@dataclass(frozen=True)
class Query:
    """A question analysed against one corpus."""

    words: tuple[QueryWord, ...]
    wants: str | None  # "number" or "time" when the question asks for one

    def bm25_terms(self) -> dict[str, float]:
        """Return stem → weight for ranking: typed words 1, synonym expansions less."""
        weights: dict[str, float] = {}
        for qw in self.words:
            own = stem(qw.word)
            for s in qw.stems:
                w = 1.0 if s == own else EXPANSION_WEIGHT
                weights[s] = max(weights.get(s, 0.0), w)
        return weights

    def coverage(self, stems: frozenset[str]) -> float:
        """Return the rarity-weighted share of the question's words found among these stems."""
        total = sum(qw.weight for qw in self.words)
        found = sum(qw.weight for qw in self.words if qw.stems & stems)
        return found / total if total else 0.0


@dataclass(frozen=True)
class Answer:
    """What the bot replies: an excerpt with its source, or why it has none."""

    question: str
    found: bool
    excerpt: str = ""
    highlight: tuple[int, int] = (0, 0)  # the best-matching sentence, as a span of excerpt
    document: Document | None = None
    passage_id: str = ""
    score: float = 0.0
    coverage: float = 0.0
    reason: str = ""  # when not found: "empty", "too-long", "not-covered"
    suggestions: tuple[str, ...] = ()
    rank: int = 0  # 0 for the best passage, 1 for the next ("Another passage"), ...


def analyze(question: str, knowledge: Knowledge) -> Query:
    """Turn a question into weighted words, spelling-corrected and expanded with synonyms."""
    typed = words(question)
    corrected = [
        w if w in knowledge.index.surface_words else knowledge.speller.correct(w) for w in typed
    ]
    stems = [stem(w) for w in corrected]
    extra: dict[int, set[str]] = {}
    for position, s in knowledge.corpus.synonyms.expand(stems):
        extra.setdefault(position, set()).add(s)
    seen: set[str] = set()
    query_words = []
    for i, (t, w, s) in enumerate(zip(typed, corrected, stems, strict=True)):
        if s in seen:
            continue
        seen.add(s)
        query_words.append(QueryWord(t, w, frozenset({s, *extra.get(i, ())}), knowledge.rarity.weight(w)))
    text = fold(question).casefold()
    wants = "number" if _WANTS_NUMBER.search(text) else "time" if _WANTS_TIME.search(text) else None
    return Query(tuple(query_words), wants)


def answer(question: str, knowledge: Knowledge, settings: Settings, rank: int = 0) -> Answer:
    """Answer one question from the corpus, or say why not (never raises for any text)."""
    clean = fold(question)
    if len(clean) > settings.max_question_chars:
        return _refusal(question, knowledge, settings, "too-long")
    query = analyze(clean, knowledge)
    if not query.words:
        return _refusal(question, knowledge, settings, "empty")
    accepted = []
    for hit in knowledge.index.search(query.bm25_terms(), settings.candidates):
        passage = knowledge.index.passages[hit.position]
        coverage = query.coverage(knowledge.index.terms_of(hit.position))
        if coverage < settings.min_coverage or not _has_wanted(passage.text, query.wants):
            continue
        accepted.append((hit.score * coverage, coverage, hit))
    accepted.sort(key=lambda item: (-item[0], item[2].position))
    if rank >= len(accepted):
        return _refusal(question, knowledge, settings, "not-covered" if rank == 0 else "no-more")
    combined, coverage, hit = accepted[rank]
    passage = knowledge.index.passages[hit.position]
    excerpt, highlight = shape_excerpt(passage.text, query, settings.excerpt_chars)
    return Answer(
        question=question,
        found=True,
        excerpt=excerpt,
        highlight=highlight,
        document=knowledge.documents[passage.doc_id],
        passage_id=passage.passage_id,
        score=round(combined, 4),
        coverage=round(coverage, 4),
        rank=rank,
    )


def shape_excerpt(text: str, query: Query, limit: int) -> tuple[str, tuple[int, int]]:
    """Cut a passage to at most `limit` characters around its best-matching sentence.

    Whole sentences are kept, the best one first, then its neighbours while they fit (the
    better-matching neighbour first); "…" marks text cut at either end and counts to the limit.
    Returns the excerpt and the span of the best sentence in it.
    """
    spans = split_sentences(text) or [(0, len(text))]
    values = [query.coverage(frozenset(terms(text[a:b]))) for a, b in spans]
    best = max(range(len(spans)), key=lambda i: (values[i], -i))
    lo = hi = best

    def length(first: int, last: int) -> int:
        size = spans[last][1] - spans[first][0]
        return size + (len(ELLIPSIS) + 1 if first > 0 else 0) + (len(ELLIPSIS) + 1 if last < len(spans) - 1 else 0)

    if length(lo, hi) > limit:
        return _cut_words(text[spans[best][0] : spans[best][1]], query, limit)
    while True:
        options = []
        if lo > 0 and length(lo - 1, hi) <= limit:
            options.append((values[lo - 1], 0, lo - 1, hi))
        if hi < len(spans) - 1 and length(lo, hi + 1) <= limit:
            options.append((values[hi + 1], 1, lo, hi + 1))
        if not options:
            break
        _, _, lo, hi = max(options)
    prefix = ELLIPSIS + " " if lo > 0 else ""
    suffix = " " + ELLIPSIS if hi < len(spans) - 1 else ""
    body = text[spans[lo][0] : spans[hi][1]]
    start = len(prefix) + spans[best][0] - spans[lo][0]
    return prefix + body + suffix, (start, start + spans[best][1] - spans[best][0])


def _cut_words(sentence: str, query: Query, limit: int) -> tuple[str, tuple[int, int]]:
    """Cut one over-long sentence at word boundaries around its best-matching words."""
    tokens = sentence.split(" ")
    hits = [bool(query.coverage(frozenset(terms(t)))) for t in tokens]
    room = limit - 2 * (len(ELLIPSIS) + 1)
    best_start, best_value = 0, -1
    for start in range(len(tokens)):
        size, value, end = -1, 0, start
        while end < len(tokens) and size + 1 + len(tokens[end]) <= room:
            size += 1 + len(tokens[end])
            value += hits[end]
            end += 1
        if end > start and value > best_value:
            best_start, best_value = start, value
    size, end = -1, best_start
    while end < len(tokens) and size + 1 + len(tokens[end]) <= room:
        size += 1 + len(tokens[end])
        end += 1
    body = " ".join(tokens[best_start:end]) or sentence[:room]
    prefix = ELLIPSIS + " " if best_start > 0 else ""
    suffix = " " + ELLIPSIS if end < len(tokens) else ""
    return prefix + body + suffix, (len(prefix), len(prefix) + len(body))


def suggest(knowledge: Knowledge, count: int) -> tuple[str, ...]:
    """Return up to `count` example questions the corpus answers (from front matter)."""
    pool = [q for doc in knowledge.corpus.documents for q in doc.questions]
    if not pool:
        pool = [f"What does “{doc.title}” report?" for doc in knowledge.corpus.documents]
    return tuple(pool[:count])


def _refusal(question: str, knowledge: Knowledge, settings: Settings, reason: str) -> Answer:
    return Answer(question=question, found=False, reason=reason, suggestions=suggest(knowledge, settings.suggestions))


def _has_wanted(text: str, wants: str | None) -> bool:
    if wants == "number":
        return bool(_NUMBER.search(text))
    if wants == "time":
        return bool(_TIME.search(text))
    return True
