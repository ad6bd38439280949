"""From a question to an answer: query analysis, passage choice, refusal and the excerpt (pure)."""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bot.corpus import Corpus, Document, human_date
from bot.index import Index
from bot.passages import split_all, split_sentences
from bot.text import Speller, WordRarity, fold, proper_nouns, stem, terms, words

PUBLISHER_LIMIT = 500  # the publisher's reprint limit, in characters of article text
ELLIPSIS = "…"
# Synonym expansions count for less than the words the reader typed.
EXPANSION_WEIGHT = 0.5
# A word no passage has, rarer than this in everyday English (Zipf scale: 3 is once per million
# words), names something the article does not cover: "Lavrov", "borscht", "Zelensky".
RARE_ZIPF = 3.3
# In a question of at most SHORT_QUESTION content words, a missing word this rare already names
# the subject ("best pizza in brussels"): there is no chatter to discount.
SHORT_QUESTION = 3
RARE_ZIPF_SHORT = 4.5
# How much a common word that no passage has counts toward coverage (chatter, paraphrase).
UNKNOWN_DISCOUNT = 0.5
# Shortest shared stem prefix that lets an unknown word stand for a known one (european → europ).
MIN_PREFIX = 5
MAX_EXTENSION = 3
# How much the words of a long question's scene-setting sentences count (see question_parts).
CONTEXT_WEIGHT = 0.5
# Questions made only of these words ask about the article itself: "What is the headline?",
# "When was the article published?". They are answered with the headline and dateline.
ABOUT_THE_ARTICLE = frozenset(
    stem(w)
    for w in "headline title article story piece report published publish publication publisher author wrote "
    "written write writer byline source link url outlet newspaper name called date".split()
)
_ASKING = re.compile(
    r"\?|^\W*(who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could"
    r"|will|would|should|has|have|had|tell|explain|describe|list)\b",
    re.IGNORECASE,
)
# How much the closeness of the matched words (see proximity) lifts a passage's score.
PROXIMITY_WEIGHT = 0.5

_WANTS_COUNT = re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|share)\b")
_WANTS_DURATION = re.compile(r"\bhow long\b|\bfor how\b")
_WANTS_TIME = re.compile(r"^(when|what (year|date|day|month|time))\b|\bwhen (did|was|were|is|will|do)\b")
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty"
    r"|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens|several|few"
)
# A count: a number that is not a year ("30 member countries", "two days", "10,000 troops").
_COUNT = re.compile(rf"\b(?!(1[89]|20)\d\d\b)\d[\d,.]*\b|\b({_NUMBER_WORDS})\b", re.IGNORECASE)
_DURATION = re.compile(
    rf"\b(\d[\d,.]*|{_NUMBER_WORDS}|a|an)\s+(more\s+)?(seconds?|minutes?|hours?|days?|weeks?|months?|years?"
    r"|decades?)\b|\bsince\b",
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
    # The refusal threshold on question coverage. Calibrated, not guessed: `talksbot eval
    # QUESTIONS --calibrate` sweeps it from 0 to 1 over a question file. On
    # shared/eval/dev-questions.yaml and tests/data/extra-questions.yaml together the best
    # plateau runs from 0.00 to 0.45 (most refusals come from missing specific words and answer
    # types); 0.25 sits inside it, leaning to refusing rather than quoting something unrelated.
    min_coverage: float = 0.25
    unknown_discount: float = UNKNOWN_DISCOUNT
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
    sorted_stems: tuple[str, ...] = ()

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
            sorted_stems=tuple(sorted(index.vocabulary)),
        )

    def prefix_matches(self, word_stem: str) -> set[str]:
        """Return corpus stems that extend, or are extended by, this stem (european ~ europ)."""
        if len(word_stem) < MIN_PREFIX:
            return set()
        found = set()
        stems = self.sorted_stems
        for size in range(MIN_PREFIX, len(word_stem) + 1):
            head = word_stem[:size]
            at = bisect.bisect_left(stems, head)
            if at < len(stems) and stems[at] == head:
                found.add(head)  # a corpus stem that is a prefix of this one
        at = bisect.bisect_left(stems, word_stem)
        while at < len(stems) and stems[at].startswith(word_stem) and len(found) < 5:
            extension = stems[at][len(word_stem) :]
            if len(extension) <= MAX_EXTENSION and extension.isalpha():
                found.add(stems[at])  # corpus stems that extend this one (ukrain → ukrainian)
            at += 1
        return found


@dataclass(frozen=True)
class QueryWord:
    """One content word of the question: what was typed, what it matches, how much it matters."""

    typed: str
    word: str
    stems: frozenset[str]
    weight: float
    known: bool  # the corpus has the word or one of its synonyms


@dataclass(frozen=True)
class Query:
    """A question analysed against one corpus."""

    words: tuple[QueryWord, ...]
    wants: str | None = None  # "count", "duration" or "time" when the question asks for one
    missing: tuple[str, ...] = ()  # specific words (names, rare terms) that no passage has
    unknown_discount: float = UNKNOWN_DISCOUNT

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
        """Return the weighted share of the question's words found among these stems.

        Rare words weigh more than common ones; words the whole corpus lacks weigh less
        (a paraphrase or chatter), unless they are specific, which `missing` handles.
        """
        total = found = 0.0
        for qw in self.words:
            weight = qw.weight if qw.known else qw.weight * self.unknown_discount
            total += weight
            if qw.stems & stems:
                found += weight
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


def analyze(question: str, knowledge: Knowledge, unknown_discount: float = UNKNOWN_DISCOUNT) -> Query:
    """Turn a question into weighted words: spelling corrected, expanded with synonyms, and
    marked known or unknown to the corpus."""
    vocabulary = knowledge.index.vocabulary
    capitalised = proper_nouns(question)
    typed: list[str] = []
    corrected: list[str] = []
    scale: list[float] = []
    for part, part_scale in question_parts(question):
        for word in words(part):
            fixed = word if word in knowledge.index.surface_words else knowledge.speller.correct(word)
            if fixed == word and knowledge.speller.is_misspelt_stop_word(word):
                continue
            typed.append(word)
            corrected.append(fixed)
            scale.append(part_scale)
    stems = [stem(w) for w in corrected]
    extra: dict[int, set[str]] = {}
    for position, s in knowledge.corpus.synonyms.expand(stems):
        extra.setdefault(position, set()).add(s)
    chosen: dict[str, int] = {}
    for i, s in enumerate(stems):
        if s not in chosen or scale[i] > scale[chosen[s]]:
            chosen[s] = i  # a word in both the context and the question counts as asked
    query_words: list[QueryWord] = []
    missing: list[str] = []
    for i, (t, w, s) in enumerate(zip(typed, corrected, stems, strict=True)):
        if chosen[s] != i:
            continue
        own = {s, *extra.get(i, ())}
        if not own & vocabulary:
            own |= knowledge.prefix_matches(s)
        known = bool(own & vocabulary)
        if not known and len(w) >= 4 and (knowledge.rarity.zipf_of(w) < RARE_ZIPF or t in capitalised):
            missing.append(t)
        elif not known and len(set(stems)) <= SHORT_QUESTION and knowledge.rarity.zipf_of(w) < RARE_ZIPF_SHORT:
            missing.append(t)  # in "best pizza in brussels" every word is the subject
        query_words.append(QueryWord(t, w, frozenset(own), knowledge.rarity.weight(w) * scale[i], known))
    text = fold(question).casefold()
    wants = None
    for kind, pattern in (("count", _WANTS_COUNT), ("duration", _WANTS_DURATION), ("time", _WANTS_TIME)):
        if pattern.search(text):
            wants = kind
            break
    return Query(tuple(query_words), wants, tuple(missing), unknown_discount)


def question_parts(question: str) -> list[tuple[str, float]]:
    """Split a question into sentences, each with how much its words count.

    In "I only saw the headline. What did the two sides agree on?" the sentence that asks
    counts fully and the scene-setting one at CONTEXT_WEIGHT.
    """
    text = fold(question)
    sentences = [text[a:b] for a, b in split_sentences(text)] or [text]
    asking = [bool(_ASKING.search(s)) for s in sentences]
    if len(sentences) < 2 or all(asking) or not any(asking):
        return [(text, 1.0)]
    return [(s, 1.0 if a else CONTEXT_WEIGHT) for s, a in zip(sentences, asking, strict=True)]


def answer(question: str, knowledge: Knowledge, settings: Settings, rank: int = 0) -> Answer:
    """Answer one question from the corpus, or say why not (never raises for any text)."""
    clean = fold(question)
    if len(clean) > settings.max_question_chars:
        return _refusal(question, knowledge, settings, "too-long")
    query = analyze(clean, knowledge, settings.unknown_discount)
    if not query.words:
        return _refusal(question, knowledge, settings, "empty")
    if all(stem(qw.word) in ABOUT_THE_ARTICLE for qw in query.words):
        return _headline(question, knowledge, settings, rank)
    if query.missing:
        return _refusal(question, knowledge, settings, "not-covered")
    scores = rank_scores(query, knowledge.index)
    order = np.lexsort((np.arange(len(scores)), -scores))[: settings.candidates]
    ranked = []
    for position in (int(i) for i in order if scores[i] > 0):
        passage = knowledge.index.passages[position]
        if not _has_wanted(passage.text, query):
            continue
        coverage = query.coverage(knowledge.index.terms_of(position))
        closeness = 1.0 + PROXIMITY_WEIGHT * proximity(passage.text, query)
        ranked.append((float(scores[position]) * coverage * closeness, coverage, position))
    ranked.sort(key=lambda item: (-item[0], item[2]))
    if rank >= len(ranked) or ranked[rank][1] < settings.min_coverage:
        return _refusal(question, knowledge, settings, "not-covered" if rank == 0 else "no-more")
    combined, coverage, position = ranked[rank]
    passage = knowledge.index.passages[position]
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


def proximity(text: str, query: Query) -> float:
    """Return how tightly the question's matched words sit together in a text, from 0 to 1.

    1 means the matched words are adjacent; a keyword question ("Fomin military rank") prefers
    the passage where its words stand side by side.
    """
    positions: list[list[int]] = []
    tokens = terms(text)
    for qw in query.words:
        spots = [i for i, t in enumerate(tokens) if t in qw.stems]
        if spots:
            positions.append(spots)
    if len(positions) < 2:
        return 0.0
    # The smallest window holding one occurrence of every matched word (a k-way merge).
    heap = [(spots[0], n, 0) for n, spots in enumerate(positions)]
    heapq.heapify(heap)
    right = max(spots[0] for spots in positions)
    best = right - heap[0][0]
    while True:
        left, n, at = heapq.heappop(heap)
        best = min(best, right - left)
        if at + 1 == len(positions[n]):
            break
        nxt = positions[n][at + 1]
        right = max(right, nxt)
        heapq.heappush(heap, (nxt, n, at + 1))
    return (len(positions) - 1) / max(best, 1)


def rank_scores(query: Query, index: Index) -> np.ndarray:
    """Score every passage: the sum over question words of each word's best BM25 score.

    A word counts once whichever of its forms matches: its own stem at full weight, a synonym at
    EXPANSION_WEIGHT, so a word with ten synonyms cannot outweigh a word with none.
    """
    vocabulary = index.vocabulary
    total = np.zeros(len(index))
    for qw in query.words:
        own = stem(qw.word)
        best: np.ndarray | None = None
        for s in sorted(qw.stems & vocabulary):
            part = index.scores({s: 1.0 if s == own else EXPANSION_WEIGHT})
            best = part if best is None else np.maximum(best, part)
        if best is not None:
            total += best
    return total


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


def _headline(question: str, knowledge: Knowledge, settings: Settings, rank: int) -> Answer:
    """Answer a question about the article itself (its title, publisher, date) with its headline."""
    documents = knowledge.corpus.documents
    if rank >= len(documents):
        return _refusal(question, knowledge, settings, "no-more")
    doc = documents[rank]
    excerpt = f"{doc.title} ({doc.publisher}, {human_date(doc.published)})"
    if len(excerpt) > settings.excerpt_chars:
        excerpt = doc.title[: settings.excerpt_chars - 2].rsplit(" ", 1)[0] + " " + ELLIPSIS
    return Answer(
        question=question,
        found=True,
        excerpt=excerpt,
        highlight=(0, min(len(doc.title), len(excerpt))),
        document=doc,
        passage_id=f"{doc.doc_id}#title",
        score=0.0,
        coverage=1.0,
        rank=rank,
    )


def suggest(knowledge: Knowledge, count: int) -> tuple[str, ...]:
    """Return up to `count` example questions the corpus answers (from front matter)."""
    pool = [q for doc in knowledge.corpus.documents for q in doc.questions]
    if not pool:
        pool = [f"What does “{doc.title}” report?" for doc in knowledge.corpus.documents]
    return tuple(pool[:count])


def _refusal(question: str, knowledge: Knowledge, settings: Settings, reason: str) -> Answer:
    return Answer(question=question, found=False, reason=reason, suggestions=suggest(knowledge, settings.suggestions))


def _has_wanted(text: str, query: Query) -> bool:
    """Check a passage holds the kind of fact the question asks for (a count, a span, a date)."""
    if query.wants == "count":
        stems = frozenset(s for qw in query.words for s in qw.stems)
        for match in _COUNT.finditer(text):
            clause = re.split(r"[.,;:!?()]", text[match.end() :], maxsplit=1)[0]
            if stems.intersection(terms(" ".join(clause.split()[:3]))):
                return True
        return False
    if query.wants == "duration":
        return bool(_DURATION.search(text))
    if query.wants == "time":
        return bool(_TIME.search(text))
    return True
