"""Hostile and odd questions, and what every reply to them must satisfy.

Shared by the property tests (tests/test_properties.py) and the reliability report
(reports/reliability.py), so the figures in RELIABILITY.md come from the very checks CI runs.
"""

from __future__ import annotations

import html
import json
import re
import string
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st

from bot.answer import ELLIPSIS, Answer
from bot.knowledge import PUBLISHER_LIMIT, Settings
from bot.library import Library
from bot.render import TELEGRAM_MAX_CHARS, to_html, to_json, to_plain
from bot.text import STOP_WORDS
from tests.common import CORPUS
from tests.telegram_html import telegram_html_problems

MAX_MESSAGE = 4096  # the longest text a Telegram user can send
REASONS = frozenset({"empty", "too-long", "not-covered", "no-more"})


@cache
def shared_library() -> Library:
    """The library over the repository's corpus, built once per process (it is never changed)."""
    return Library(CORPUS, Settings(), cache_dir=None)  # nothing written into corpus/


@cache
def article_words() -> tuple[str, ...]:
    """Every word of the article as written (with its case and punctuation-free)."""
    texts = [p.text for p in shared_library().knowledge.index.passages]
    return tuple(sorted({w for t in texts for w in re.findall(r"[\w’'-]+", t)}))


@cache
def article_sentences() -> tuple[str, ...]:
    """Sentences and example questions the article certainly answers."""
    knowledge = shared_library().knowledge
    sentences = [s.strip() for p in knowledge.index.passages for s in re.split(r"(?<=[.!?])\s+", p.text)]
    questions = [q for doc in knowledge.corpus.documents for q in doc.questions]
    return tuple(s for s in sentences + questions if s)


# --- input classes -------------------------------------------------------------------------------

# fmt: off
EMOJI = [
    "🙂", "🇺🇦", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🤷‍♀️", "🔥", "🪖", "🕊️", "#️⃣", "\U0001f9d1\u200d\U0001f680",
]
RTL = [
    "مرحبا", "الناتو", "روسيا", "שלום", "נאט\"ו", "\u202eevil\u202c", "\u202bنص\u202c", "\u200f", "\u200e", "\u061c",
]
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u2062", "\u2063", "\u2064",
    "\x00", "\x01", "\x07", "\x08", "\x1b[31m", "\x7f", "\x85", "\x9b", "\r", "\t", "\x0b", "\x0c",
    "\u2028", "\u2029", "\ufff9", "\ufffe", "\uffff",
]
MARKUP = [
    "<b>", "</b>", "<i>bold</i>", "</a>", "<a href=javascript:alert(1)>", '<a href="javascript:alert(1)">x</a>',
    "<a href='jav&#x09;ascript:alert(1)'>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "<tg-spoiler>", '<span class="tg-spoiler">', "<pre><code>", "<!-- c -->", "<![CDATA[x]]>", "<?xml?>",
    "&amp;", "&lt;", "&nbsp;", "&#0;", "&#xD800;", "&#1114112;", "&", "<", ">", '"', "'",
    "**bold**", "__under__", "*", "_", "`code`", "```\npre\n```", "[link](javascript:alert(1))",
    "[nato](https://evil.example)", "~~s~~", "||spoiler||", "\\", "> quote", "# heading", "${7*7}", "{{7*7}}",
    "%s%s%n", "'; DROP TABLE x; --", "/reload", "/start@otherbot",
]
# fmt: on
PUNCTUATION = [*string.punctuation, "…", "«", "»", "—", "–", "„", "“", "”", "¿", "¡", "·", "•", "‽", "。", "、"]
STOP = sorted(STOP_WORDS)

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
any_character = st.characters(codec=None)  # every code point Python allows, lone surrogates included


def _joined(
    pieces: st.SearchStrategy[str], separators: st.SearchStrategy[str], max_pieces: int
) -> st.SearchStrategy[str]:
    """Join a list of pieces with drawn separators, capped at MAX_MESSAGE characters."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        parts = draw(st.lists(pieces, min_size=1, max_size=max_pieces))
        out = ""
        for part in parts:
            out += part + draw(separators)
        return out[:MAX_MESSAGE]

    return build()


def _long(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Repeat a drawn text up to the 4,096-character message limit."""
    return st.tuples(text.filter(bool), st.integers(1, MAX_MESSAGE)).map(lambda t: (t[0] * t[1])[:MAX_MESSAGE])


def _article_word() -> st.SearchStrategy[str]:
    return st.sampled_from(article_words())


_spaces = st.sampled_from([" ", " ", " ", "", "  ", "\t", "\n", "\u00a0", "\u3000", "\u200b"])


def input_classes() -> dict[str, st.SearchStrategy[str]]:
    """Each class of hostile or odd question, as a strategy for its texts (≤ 4,096 characters)."""
    article = _article_word()
    noise = st.sampled_from(EMOJI + RTL + INVISIBLE + MARKUP + PUNCTUATION)
    return {
        "any Unicode text": st.text(any_character, max_size=MAX_MESSAGE),
        "emoji": _joined(st.sampled_from(EMOJI), _spaces, 60) | _long(st.sampled_from(EMOJI)),
        "right-to-left text": _joined(st.sampled_from(RTL) | article, _spaces, 40),
        "zero-width and control characters": _joined(st.sampled_from(INVISIBLE) | article, _spaces, 60)
        | st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"]), max_size=MAX_MESSAGE),
        "lone surrogates": _joined(st.text(surrogates, min_size=1, max_size=3) | article, _spaces, 40),
        "HTML and Markdown syntax": _joined(st.sampled_from(MARKUP) | article, _spaces | st.just(""), 60),
        "very long words": _long(st.sampled_from(string.ascii_letters) | article).map(lambda t: t.replace(" ", ""))
        | st.text(st.sampled_from(string.ascii_lowercase), min_size=40, max_size=MAX_MESSAGE),
        "only punctuation": _joined(st.sampled_from(PUNCTUATION), _spaces, 200) | _long(st.sampled_from(PUNCTUATION)),
        "only stop words": _joined(st.sampled_from(STOP), _spaces, 300),
        "article words with noise": _joined(article | noise, _spaces, 30),
        "article sentences, garbled": st.tuples(st.sampled_from(article_sentences()), st.lists(noise, max_size=4)).map(
            lambda t: " ".join([t[0], *t[1]])
        ),
        "up to 4,096 characters": _long(st.sampled_from(article_sentences()) | noise | article),
    }


def hostile_questions() -> st.SearchStrategy[tuple[str, str]]:
    """(input class, question) pairs drawn from every class."""
    return st.one_of([st.tuples(st.just(name), s) for name, s in input_classes().items()])


# Hand-picked cases that always run first (as @example) and make the cheap report rows. A bug
# Hypothesis finds gets its input added here, so it stays fixed without an example database.
FIXED_CASES: list[tuple[str, str]] = [
    ("empty and blank", ""),
    ("empty and blank", " "),
    ("empty and blank", "\n\t \u3000\u200b"),
    ("emoji", "🇺🇦🙂 who chaired the meeting? 👨‍👩‍👧‍👦"),
    ("emoji", "🔥" * 4096),
    ("right-to-left text", "\u202ewho chaired the meeting\u202c"),
    ("right-to-left text", "من ترأس الاجتماع؟ NATO"),
    ("zero-width and control characters", "Stolten\u200bberg\x00 chaired\x1b[31m?"),
    ("zero-width and control characters", "\x00" * 4096),
    ("lone surrogates", "\ud800who\udfff chaired the \udcffmeeting"),
    ("lone surrogates", "\udcff" * 4096),
    ("HTML and Markdown syntax", '<a href="javascript:alert(1)">Who chaired the meeting?</a>'),
    ("HTML and Markdown syntax", "<a href=javascript:alert(document.cookie)>Sherman</a> & <b>Grushko</b>"),
    ("HTML and Markdown syntax", "**Who** _led_ the `Russian` [delegation](javascript:x)?"),
    ("HTML and Markdown syntax", "&lt;script&gt; &amp;&#0; &nbsp; Stoltenberg"),
    ("very long words", "Stoltenberg" * 372),
    ("very long words", "a" * 4096),
    ("only punctuation", "?!…" * 1365),
    ("only punctuation", "¿¡«»—–„“”"),
    ("only stop words", "what is the of and to who"),
    ("only stop words", " ".join(["the"] * 1365)),
    ("article sentences, garbled", "WHO CHAIRED THE MEETING???"),
    ("article sentences, garbled", "who chaired the meeting " * 170),
    ("article sentences, garbled", "Wendy Sherman diplomacy 🕊️"),
    ("article sentences, garbled", "stoltenburg grushko fomin"),
    ("up to 4,096 characters", ("what did Sherman say about diplomacy? " * 108)[:4096]),
]


# --- what every reply must satisfy ---------------------------------------------------------------


@dataclass(frozen=True)
class Replies:
    """An answer in all three renderings."""

    html: str
    plain: str
    json_line: str


def render_all(answer: Answer, settings: Settings) -> Replies:
    """Render an answer as the Telegram bot, the console and `ask --json` do."""
    return Replies(
        html=to_html(answer, settings.max_question_chars),
        plain=to_plain(answer, settings.max_question_chars),
        json_line=json.dumps(to_json(answer), ensure_ascii=False),
    )


def strip_marks(excerpt: str) -> str:
    """Remove the "…" marks shape_excerpt puts where it cut the passage."""
    if excerpt.startswith(ELLIPSIS + " "):
        excerpt = excerpt[len(ELLIPSIS) + 1 :]
    if excerpt.endswith(" " + ELLIPSIS):
        excerpt = excerpt[: -len(ELLIPSIS) - 1]
    return excerpt


def reply_problems(question: str, answer: Answer, settings: Settings, replies: Replies, library: Library) -> list[str]:
    """Return every way this reply breaks the bot's promises (an empty list: it keeps them all)."""
    problems: list[str] = []
    if answer.question != question:
        problems.append("the answer is for another question")
    problems.extend(f"to_html: {p}" for p in telegram_html_problems(replies.html))
    if len(replies.html) > TELEGRAM_MAX_CHARS:
        problems.append(f"to_html is {len(replies.html)} characters long")
    if not replies.plain.strip():
        problems.append("to_plain is empty")
    data: dict[str, Any] = json.loads(replies.json_line)
    if "\n" in replies.json_line or data["found"] != answer.found:
        problems.append("to_json is not one line describing the answer")
    if answer.found:
        doc = answer.document
        if doc is None:
            return [*problems, "found answer without its document"]
        excerpt = answer.excerpt
        if not excerpt or len(excerpt) > min(settings.excerpt_chars, PUBLISHER_LIMIT):
            problems.append(f"excerpt of {len(excerpt)} characters (limit {settings.excerpt_chars})")
        article = " ".join(doc.body.split())
        passages = {p.passage_id: p.text for p in library.knowledge.index.passages}
        body = strip_marks(excerpt)
        if answer.passage_id == f"{doc.doc_id}#title":  # a question about the article: its headline
            if body not in doc.title:
                problems.append(f"headline answer is not the headline: {excerpt[:60]!r}")
        elif body not in passages.get(answer.passage_id, "") or body not in article:
            problems.append(f"excerpt is not a contiguous stretch of {answer.passage_id}: {excerpt[:60]!r}")
        start, end = answer.highlight
        if not 0 <= start < end <= len(excerpt):
            problems.append(f"highlight {answer.highlight} outside the excerpt")
        if f'href="{html.escape(doc.url, quote=True)}"' not in replies.html:
            problems.append("to_html lacks the link to the article")
        if doc.url not in replies.plain:
            problems.append("to_plain lacks the article's URL")
        if data["url"] != doc.url or data["excerpt"] != excerpt:
            problems.append("to_json lacks the URL or the excerpt")
    else:
        if answer.reason not in REASONS:
            problems.append(f"unknown refusal reason {answer.reason!r}")
        if answer.excerpt or data["excerpt"] or data["url"]:
            problems.append("a refusal carries article text")
    return problems


def check_question(
    question: str, ask: Callable[[str], Answer], settings: Settings, library: Library
) -> tuple[list[str], bool]:
    """Ask, render and check one question: (its problems, whether an excerpt was found).

    An exception anywhere is itself a problem, reported with its traceback's last line.
    """
    try:
        answer = ask(question)
        return reply_problems(question, answer, settings, render_all(answer, settings), library), answer.found
    except Exception as exc:  # the property is precisely that nothing raises
        return [f"raised {type(exc).__name__}: {exc}"], False


# --- counting, for the report --------------------------------------------------------------------


@dataclass
class Tally:
    """Per input class: questions tried, replies that kept every promise, answers found, failures."""

    tried: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    properties: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, problems: list[str], found: bool, prop: str = "") -> None:
        """Count one question of this class (tried by the property `prop`)."""
        with self.lock:
            self.tried[kind] += 1
            self.properties[prop] += 1
            if problems:
                self.lost[kind] += 1
                self.examples.setdefault(kind, "; ".join(problems)[:200])
            else:
                self.answered[kind] += 1
                self.found[kind] += found

    def reset(self) -> None:
        """Forget all counts."""
        with self.lock:
            for counter in (self.tried, self.answered, self.found, self.lost, self.properties):
                counter.clear()
            self.examples.clear()


TALLY = Tally()
