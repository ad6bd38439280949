"""Question analysis: the words that matter, their weights, synonyms and what kind of fact is asked."""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from bot.corpus import Corpus
from bot.index import Index
from bot.passages import split_sentences
from bot.text import Speller, WordRarity, fold, numbers_in, proper_nouns, stem, terms, words


class Lexicon(Protocol):
    """What analysing a question reads of the corpus's knowledge (bot.knowledge.Knowledge is one)."""

    @property
    def corpus(self) -> Corpus:
        """The documents and their synonym rules."""
        ...

    @property
    def index(self) -> Index:
        """The passages' index: its vocabulary and surface words."""
        ...

    @property
    def speller(self) -> Speller:
        """Corrects misspelt question words."""
        ...

    @property
    def rarity(self) -> WordRarity:
        """Everyday English word frequencies."""
        ...

    @property
    def sorted_stems(self) -> tuple[str, ...]:
        """The index's stems in order, for prefix matches."""
        ...


# Synonym expansions count for less than the words the reader typed.
EXPANSION_WEIGHT = 0.5
# A word no passage has, rarer than this in everyday English (Zipf scale: 3 is once per million
# words), names something the article does not cover: "Lavrov", "borscht", "Zelensky".
RARE_ZIPF = 3.3
# In a question of at most SHORT_QUESTION content words, mostly unknown to the corpus, a missing
# word this rare already names the subject ("best pizza in brussels"): there is no chatter.
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

# What kind of fact a question asks for, tried in this order: the first that matches wins.
# These are general English question forms, not words of any article.
_WANTS = (
    ("age", re.compile(r"\bhow old\b|\bwhat age\b|\bage of\b|\bwhat is (his|her|their) age\b")),
    ("percent", re.compile(r"\b(what|which) (percentage|percent|proportion|share)\b|\bhow many percent\b|%")),
    (
        "money",
        re.compile(
            r"\bhow much (money|cash|funding)\b|\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|worth|fund|funded"
            r"|price|budget|fine|fined|invest|invested|earn|earned|owe|owed|raise|raised|lose|lost|charge|charged)\b"
            r"|\bwhat (is|was|will be) the (cost|price|budget|fine|bill)\b"
        ),
    ),
    ("count", re.compile(r"\bhow (many|much)\b|\bwhat number\b|\bnumber of\b")),
    ("duration", re.compile(r"\bhow long\b|\bfor how\b")),
    (
        "time",
        re.compile(r"^\W*when\b|\b(what|which) (year|date|day|month|time)\b|\bwhen (did|was|were|is|will|do|does)\b"),
    ),
    # "Who is Grushko?" asks for a role: a passage naming one beside the name fits.
    (
        "role",
        re.compile(
            r"^\W*who('s|\s+(is|was|are|were))\b|\b(role|job|position|title|post) of\b"
            r"|\bwhat (is|was|are|were) (his|her|their) (role|job|position|title)\b"
        ),
    ),
    ("person", re.compile(r"^\W*who\b|\bwhose\b|\b(which|what) (person|official|minister|man|woman|people)\b")),
    (
        "place",
        re.compile(r"^\W*where\b|\b(which|what|in what) (city|country|town|place|village|region|province|state)\b"),
    ),
)
_ROLE_WORDS = frozenset(
    "secretary general minister president chief spokesman spokeswoman spokesperson negotiator envoy ambassador "
    "director head leader deputy official commander chairman chair adviser advisor colonel admiral analyst "
    "prime governor mayor judge professor doctor dr mr ms mrs executive manager officer chairwoman councillor "
    "senator member founder owner editor lawyer spokesman captain king queen".split()
)
# The noun of "what day", "which year": it names the kind of answer, not something to look for.
_TYPE_NOUN = re.compile(r"\b(what|which)\s+(?:year|date|day|month|time|number|percentage|share)\b", re.IGNORECASE)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty"
    r"|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens|several|few|half"
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
_PERCENT = re.compile(r"\d\s*(%|percent\b|per cent\b)|\bpercentage points?\b|\b(half|third|quarter)\b", re.IGNORECASE)
_MONEY = re.compile(
    r"[$€£¥₴₽]\s*\d|\d[\d,.]*\s*(million|billion|bn|m|k)?\s*(dollars|euros?|pounds|crowns|francs|yen|roubles"
    r"|rubles|hryvnias?|kronor|krona|kroner|marks|rupees|pesos|usd|eur|gbp)\b",
    re.IGNORECASE,
)
_AGE = re.compile(r"\b\d{1,3}-year-old\b|\baged \d{1,3}\b|\b\d{1,3} years old\b|, \d{1,3},", re.IGNORECASE)
_PERSON = re.compile(
    r"\b(Mr|Ms|Mrs|Dr|Prof|Professor|Judge|Sir|Dame|President|Minister|Governor|Mayor)\.? [A-Z]"
    r"|\b[A-Z][a-z]+(-[A-Z][a-z]+)? [A-Z][a-z]+(-[A-Z][a-z]+)?\b"
)
_PLACE = re.compile(r"\b(in|at|from|near|to|outside|across)\s+(the\s+)?[A-Z][a-z]+")


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
    wants: str | None = None  # the kind of fact asked for: "count", "money", "time", "person"... (see _WANTS)
    missing: tuple[str, ...] = ()  # specific words (names, rare terms) that no passage has
    numbers: frozenset[str] = frozenset()  # the numbers it names ("2007", "3200"), see numbers_in
    names: frozenset[str] = frozenset()  # stems of the words it capitalises mid-sentence ("lavrov")

    def coverage(self, stems: frozenset[str]) -> float:
        """Return the weighted share of the question's words found among these stems.

        Rare words weigh more than common ones; words the whole corpus lacks weigh less
        (a paraphrase or chatter), unless they are specific, which `missing` handles.
        """
        total = found = 0.0
        for qw in self.words:
            weight = qw.weight if qw.known else qw.weight * UNKNOWN_DISCOUNT
            total += weight
            if qw.stems & stems:
                found += weight
        return found / total if total else 0.0


def analyze(question: str, knowledge: Lexicon) -> Query:
    """Turn a question into weighted words: spelling corrected, expanded with synonyms, and
    marked known or unknown to the corpus."""
    vocabulary = knowledge.index.vocabulary
    capitalised = proper_nouns(question)
    typed: list[str] = []
    corrected: list[str] = []
    scale: list[float] = []
    for part, part_scale in question_parts(question):
        for word in words(_TYPE_NOUN.sub(r"\1", part)):
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
            own |= prefix_matches(knowledge.sorted_stems, s)
        known = bool(own & vocabulary)
        if not known and len(w) >= 4 and (knowledge.rarity.zipf_of(w) < RARE_ZIPF or t in capitalised):
            missing.append(t)
        query_words.append(QueryWord(t, w, frozenset(own), knowledge.rarity.weight(w) * scale[i], known))
    unknown = [qw for qw in query_words if not qw.known]
    if len(query_words) <= SHORT_QUESTION and len(unknown) > len(query_words) / 2:
        # In "best pizza in brussels" the words the corpus lacks are the subject, not chatter.
        missing.extend(qw.typed for qw in unknown if knowledge.rarity.zipf_of(qw.word) < RARE_ZIPF_SHORT)
    text = fold(question).casefold()
    wants = next((kind for kind, pattern in _WANTS if pattern.search(text)), None)
    names = frozenset(stem(n) for n in capitalised)
    return Query(tuple(query_words), wants, tuple(missing), numbers_in(question), names)



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


def prefix_matches(sorted_stems: Sequence[str], word_stem: str) -> set[str]:
    """Return corpus stems that extend, or are extended by, this stem (european ~ europ)."""
    if len(word_stem) < MIN_PREFIX:
        return set()
    found = set()
    stems = sorted_stems
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


def holds_wanted(text: str, query: Query) -> bool:
    """Check a passage holds the kind of fact the question asks for (a count, a sum, a date, a name...)."""
    wants = query.wants
    if wants == "count":
        stems = frozenset(s for qw in query.words for s in qw.stems)
        for match in _COUNT.finditer(text):
            clause = re.split(r"[.,;:!?()]", text[match.end() :], maxsplit=1)[0]
            if stems.intersection(terms(" ".join(clause.split()[:3]))):
                return True
        return bool(_MONEY.search(text) or _PERCENT.search(text))
    if wants == "role":
        return _names_a_role(text, query)
    if wants == "person":
        return bool(_PERSON.search(text)) or _names_a_role(text, query)
    patterns = {
        "age": _AGE,
        "percent": _PERCENT,
        "money": _MONEY,
        "duration": _DURATION,
        "time": _TIME,
        "place": _PLACE,
    }
    pattern = patterns.get(wants or "")
    return True if pattern is None else bool(pattern.search(text))


def proximity(where: Mapping[str, Sequence[int]], query: Query) -> float:
    """Return how tightly the question's matched words sit together in a passage, from 0 to 1.

    `where` maps each of the passage's terms to its positions. 1 means the matched words are
    adjacent; a keyword question ("Fomin military rank") prefers the passage where its words
    stand side by side.
    """
    positions: list[list[int]] = []
    for qw in query.words:
        spots = sorted(i for s in qw.stems for i in where.get(s, ()))
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


@lru_cache(maxsize=4096)
def _plain_tokens(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[bool, ...]]:
    """Return a text's lower-case words with their punctuation stripped, their stems, and which
    were written with a capital (names)."""
    raw = [t.strip(".,;:!?\"'()“”‘’") for t in fold(text).split()]
    tokens = tuple(t.casefold() for t in raw)
    names = tuple(bool(t) and t[0].isupper() for t in raw)
    return tokens, tuple(stem(t.removesuffix("'s")) for t in tokens), names


def _names_a_role(text: str, query: Query) -> bool:
    """Check a name the question asks about stands next to a title: "NATO Secretary-General Jens Stoltenberg"."""
    tokens, stems, names = _plain_tokens(text)
    for i, token_stem in enumerate(stems):
        if not names[i] or not any(token_stem in qw.stems for qw in query.words):
            continue
        nearby = tokens[max(0, i - 4) : i] + tokens[i + 1 : i + 4]
        if any(part in _ROLE_WORDS for word in nearby for part in word.split("-")):
            return True
    return False
