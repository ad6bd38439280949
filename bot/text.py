"""Text analysis: folding, words, stems, word rarity and spelling tolerance (pure functions)."""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import snowballstemmer  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

# Typographic characters folded to their plain forms before anything else looks at the text.
_FOLD_TABLE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_WORD = re.compile(r"[^\W_]+(?:['][^\W_]+)*(?:-[^\W_]+)*")

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each few for from further had hadn't has hasn't have haven't having
    he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've
    if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off
    on once only or other ought our ours ourselves out over own same shan't she she'd she'll she's
    should shouldn't so some such than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've this those through to too under until up
    very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's
    which while who who's whom why why's will with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves
    also just really actually please tell me know want wanted like get got give us thing things
    anything something whether whats whos wheres hows im u ur pls plz thx thanks hi hello hey
    isnt doesnt didnt dont wasnt werent arent cant wont
    many much might even though
    """.split()
)


# Chat and phone abbreviations, read as the words they stand for (in questions and articles).
ABBREVIATIONS = {
    "abt": "about", "bc": "because", "b4": "before", "bcz": "because", "cuz": "because",
    "govt": "government", "gov": "government", "intl": "international", "mil": "military",
    "mtg": "meeting", "mtgs": "meetings", "negs": "negotiations", "pres": "president",
    "ppl": "people", "sec": "secretary", "wk": "week", "yr": "year", "yrs": "years", "2day": "today",
    "tmrw": "tomorrow", "pm": "prime minister", "dept": "department",
    "u": "you", "r": "are", "y": "why", "n": "and",
    "wht": "what", "wat": "what", "wen": "when", "hw": "how", "goin": "going", "gonna": "going to",
    "wanna": "want to", "gotta": "have to", "bout": "about", "tho": "though", "thru": "through",
}


def fold(text: str) -> str:
    """Return text in one canonical form: NFKC, plain quotes and hyphens, no control characters."""
    return " ".join(fold_chunks(text))


def fold_chunks(text: str) -> list[str]:
    """Return fold(text) split at its spaces: no word (see raw_tokens) spans two chunks."""
    if text.isascii():  # NFKC leaves ASCII as it is, and the only ASCII character folded is the backtick
        text = text.replace("`", "'")
    else:
        text = _SURROGATE.sub("", text)
        text = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    return _CONTROL.sub(" ", text).split()


def words(text: str) -> list[str]:
    """Split text into lower-case content words: possessives trimmed, stop words dropped.

    A hyphenated compound yields its parts and the joined form ("build-up" → build, up, buildup),
    so "buildup" and "build-up" meet. An acronym that spells a stop word ("US", "IT") is kept,
    unless the whole text is in capitals.
    """
    folded = fold(text)
    found: list[str] = []
    shouting: bool | None = None
    for raw in raw_tokens(folded):
        if shouting is None and depends_on_shouting(raw):
            shouting = is_shouting(folded)
        found.extend(token_words(raw, bool(shouting)))
    return found


def raw_tokens(folded: str) -> list[str]:
    """Return the word-like stretches of a folded text, as written."""
    return _WORD.findall(folded)


def depends_on_shouting(raw: str) -> bool:
    """Say whether token_words(raw, …) depends on the whole text being in capitals (an acronym like "US")."""
    return len(raw) >= 2 and raw.isupper()


def token_words(raw: str, shouting: bool) -> list[str]:
    """Return the content words of one raw token of a folded text (see words); `shouting`: the text is in capitals."""
    token = raw.casefold()
    if token.endswith("'s"):
        token = token[:-2]
    if "-" in token:
        parts = [p for p in token.split("-") if p]
        found = [p for p in parts if p not in STOP_WORDS]
        joined = "".join(parts)
        if joined not in STOP_WORDS:
            found.append(joined)
        return found
    if token in ABBREVIATIONS:
        return words(ABBREVIATIONS[token])
    if token and (token not in STOP_WORDS or (len(raw) >= 2 and raw.isupper() and not shouting)):
        return [token.replace("'", "")]
    return []


def matchable(text: str) -> str:
    """Return text as gold fragments are compared: folded, '…' as '...', case and white space ignored."""
    return " ".join(fold(text).replace("…", "...").casefold().split())


@lru_cache(maxsize=8192)
def numbers_in(text: str) -> frozenset[str]:
    """Return the numbers a text writes in digits, without separators: "3,200 workers in 2007" → {3200, 2007}."""
    return frozenset(m.group().replace(",", "").rstrip(".") for m in _DIGITS.finditer(text))


def proper_nouns(text: str) -> set[str]:
    """Return the lower-cased words written with a capital inside a sentence ("What did Lavrov say").

    Sentence-initial words and Title Case or all-capital texts tell nothing, so they yield none.
    """
    folded = fold(text)
    matches = list(_WORD.finditer(folded))
    capitalised = [m for m in matches if m.group()[0].isupper()]
    if len(capitalised) > 0.6 * len(matches):
        return set()
    found = set()
    for match in capitalised:
        before = folded[: match.start()].rstrip(" \"'(")
        if before and before[-1] not in ".!?:":
            token = match.group().casefold()
            found.add(token[:-2] if token.endswith("'s") else token)
    return found


def is_shouting(text: str) -> bool:
    """Return True for a text written mostly in capitals ("WHO CHAIRED THE MEETING")."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters)


@lru_cache(maxsize=1)
def _snowball() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Return the Snowball (Porter 2) stem of one lower-case word."""
    return str(_snowball().stemWord(word))


def stem_all(words: Sequence[str]) -> list[str]:
    """Return the stems of many words at once, as stem gives them one by one."""
    return [str(s) for s in _snowball().stemWords(list(words))]


def terms(text: str) -> list[str]:
    """Return the index terms of a text: the stems of its content words, in order."""
    return [stem(w) for w in words(text)]


@lru_cache(maxsize=8192)
def cached_terms(text: str) -> tuple[str, ...]:
    """Return terms(text) as a tuple, remembered: passages and sentences are analysed again and again."""
    return tuple(terms(text))


@dataclass(frozen=True)
class WordRarity:
    """How surprising a word is in everyday English, from a Zipf-frequency table.

    Zipf 7 is "the", 3 is one per million words; a word missing from the table counts as rare.
    """

    zipf: Mapping[str, float]
    unknown: float = 1.5

    @classmethod
    def load(cls) -> WordRarity:
        """Read the table shipped in bot/data (see scripts/make_word_frequencies.py)."""
        raw = resources.files("bot").joinpath("data/english-zipf.tsv.gz").read_bytes()
        table: dict[str, float] = {}
        for line in gzip.decompress(raw).decode().splitlines():
            word, _, value = line.partition("\t")
            table[word] = int(value) / 100
        return cls(table)

    def zipf_of(self, word: str) -> float:
        """Return the word's Zipf frequency (higher is more common)."""
        return self.zipf.get(word, self.unknown)

    def weight(self, word: str) -> float:
        """Return how much a question word matters: common words little, rare words much."""
        return max(0.5, 7.0 - self.zipf_of(word))


@dataclass(frozen=True)
class Speller:
    """Maps a misspelt word to the closest word of the corpus vocabulary ("stoltenburg").

    Only words that are themselves rare in English are corrected, so a real word the corpus
    lacks ("weather") stays what it is and can make the question unanswerable.
    """

    vocabulary: frozenset[str]
    rarity: WordRarity
    by_initial: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_zipf: float = 3.2

    @classmethod
    def build(cls, vocabulary: Iterable[str], rarity: WordRarity) -> Speller:
        """Index the vocabulary by first letter for quick look-ups."""
        vocab = frozenset(w for w in vocabulary if len(w) >= 3 and not w.isdigit())
        groups: dict[str, list[str]] = {}
        for word in vocab:
            groups.setdefault(word[0], []).append(word)
        return cls(vocab, rarity, {k: tuple(sorted(v)) for k, v in groups.items()})

    def is_misspelt_stop_word(self, word: str) -> bool:
        """Return True for a rare word one edit away from a stop word ("wher", "whta")."""
        if len(word) < 3 or word in self.vocabulary or self.rarity.zipf_of(word) >= self.max_zipf:
            return False
        return process.extractOne(word, STOP_WORDS, scorer=DamerauLevenshtein.distance, score_cutoff=1) is not None

    def correct(self, word: str) -> str:
        """Return the vocabulary word the input most likely meant, or the input unchanged."""
        if len(word) < 4 or word in self.vocabulary or word.isdigit():
            return word
        if self.rarity.zipf_of(word) >= self.max_zipf:
            return word
        allowed = 1 if len(word) < 7 else 2
        candidates: list[str] = []
        for initial in {word[0], *(word[1:2] if len(word) > 5 else "")}:
            candidates.extend(self.by_initial.get(initial, ()))
        best = process.extractOne(
            word,
            candidates,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=allowed,
        )
        if best is not None:
            return str(best[0])
        # Longer names misspelt by a prefix or suffix ("shermann", "ukrainee").
        if len(word) >= 6:
            near = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=88)
            if near is not None:
                return str(near[0])
        return word
