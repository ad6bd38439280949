"""Question analysis: the words that matter, their weights, synonyms and what kind of fact is asked."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.passages import split_sentences
from bot.text import fold, proper_nouns, stem, terms, words

if TYPE_CHECKING:
    from bot.answer import Knowledge

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

_WANTS_COUNT = re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|share)\b")
_WANTS_DURATION = re.compile(r"\bhow long\b|\bfor how\b")
_WANTS_TIME = re.compile(
    r"^\W*when\b|\b(what|which) (year|date|day|month|time)\b|\bwhen (did|was|were|is|will|do|does)\b"
)
# "Who is Grushko?" asks for a role: a passage naming one beside the name is preferred.
_WANTS_ROLE = re.compile(r"^\W*(who|what)('s|\s+(is|was|are|were))\b|\b(role|job|position|title|post) of\b")
_ROLE_WORDS = frozenset(
    "secretary general minister president chief spokesman spokeswoman spokesperson negotiator envoy ambassador "
    "director head leader deputy official commander chairman chair adviser advisor colonel admiral analyst "
    "prime foreign defense defence state".split()
)
# Kinds of answer a passage must hold to be used at all; the others ("role") are preferences.
HARD_WANTS = frozenset({"count", "duration", "time"})
# The noun of "what day", "which year": it names the kind of answer, not something to look for.
_TYPE_NOUN = re.compile(r"\b(what|which)\s+(?:year|date|day|month|time|number|percentage|share)\b", re.IGNORECASE)
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
    wants: str | None = None  # "count", "duration", "time" or "role" when the question asks for one
    missing: tuple[str, ...] = ()  # specific words (names, rare terms) that no passage has
    unknown_discount: float = UNKNOWN_DISCOUNT

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


def analyze(question: str, knowledge: Knowledge, unknown_discount: float = UNKNOWN_DISCOUNT) -> Query:
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
    wants = None
    kinds = (("count", _WANTS_COUNT), ("duration", _WANTS_DURATION), ("time", _WANTS_TIME), ("role", _WANTS_ROLE))
    for kind, pattern in kinds:
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


def wants_met(text: str, query: Query) -> bool:
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
    if query.wants == "role":
        return _names_a_role(text, query)
    return True


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
