"""Property-based tests: any text a user can send gets a reply that keeps every promise.

Each property runs CI_EXAMPLES (2,000) derandomized examples under the default profile (see
conftest.py), after the hand-picked FIXED_CASES. The checks are tests.hostile.reply_problems:
raises nothing; valid Telegram HTML of at most 4,096 characters; an excerpt of at most 500
characters that is a contiguous stretch of the article apart from its "…" marks; a found answer
always links its article.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

from hypothesis import example, given
from hypothesis import strategies as st

from bot.answer import Answer, answer
from bot.corpus import Document
from bot.knowledge import PUBLISHER_LIMIT, Settings
from bot.render import TELEGRAM_MAX_CHARS, to_html, to_json, to_plain
from tests.hostile import FIXED_CASES, REASONS, TALLY, check_question, hostile_questions, shared_library
from tests.telegram_html import telegram_html_problems


def with_fixed_cases(test: Callable[..., None]) -> Callable[..., None]:
    """Run every FIXED_CASES question first, as an explicit @example."""
    for case in reversed(FIXED_CASES):
        test = example(case)(test)
    return test


@with_fixed_cases
@given(hostile_questions())
def test_library_ask_keeps_its_promises(case: tuple[str, str]) -> None:
    """Library.ask with the shipped settings, rendered three ways."""
    kind, question = case
    library = shared_library()
    problems, found = check_question(question, library.ask, library.settings, library)
    TALLY.record(kind, problems, found, prop="Library.ask")
    assert not problems, problems


answer_settings = st.builds(
    Settings,
    excerpt_chars=st.integers(50, PUBLISHER_LIMIT),
    candidates=st.sampled_from([1, 5, 20, 50]),
    suggestions=st.integers(1, 10),
    max_question_chars=st.sampled_from([1000, 4096]),
)


@given(hostile_questions(), answer_settings, st.integers(0, 3))
def test_answer_keeps_its_promises_under_any_settings(case: tuple[str, str], settings: Settings, rank: int) -> None:
    """answer() with any valid `answer:` settings and "another passage" ranks; up to 4,096 chars answered."""
    kind, question = case
    library = shared_library()
    knowledge = library.knowledge
    problems, found = check_question(question, lambda q: answer(q, knowledge, settings, rank), settings, library)
    TALLY.record(kind, problems, found, prop="answer()")
    assert not problems, problems


# --- rendering of any answer, whatever the corpus holds (titles, URLs and questions with markup) ---

_text = st.text(st.characters(codec="utf-8"), max_size=200)
_line = _text.map(lambda s: " ".join(s.split())).filter(bool)
_url = st.builds(
    lambda scheme, host, rest: f"{scheme}{host}.{rest}",
    st.sampled_from(["http://", "https://", "HTTPS://"]),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=60),
).filter(lambda url: re.fullmatch(r"https?://\S+\.\S+", url, re.IGNORECASE) is not None)
_documents = st.builds(
    Document,
    doc_id=st.just("doc"),
    title=_line,
    url=_url,
    publisher=_line,
    published=st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat),
    body=st.just("body"),
)
_excerpts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=PUBLISHER_LIMIT)
_found = st.builds(
    lambda excerpt, a, b, doc: Answer(question="q", found=True, excerpt=excerpt, highlight=(a, b), document=doc),
    _excerpts,
    st.integers(-5, PUBLISHER_LIMIT + 5),
    st.integers(-5, PUBLISHER_LIMIT + 5),
    _documents,
)
# Example questions from front matter: any text, or markup repeated to a great length.
_suggestion = st.text(st.characters(codec="utf-8"), min_size=1, max_size=600) | st.builds(
    lambda piece, times: piece * times, st.sampled_from(["&", "<b>", '"', "x&", "'", "é"]), st.integers(1, 600)
)
_refused = st.builds(
    lambda reason, suggestions: Answer(question="q", found=False, reason=reason, suggestions=tuple(suggestions)),
    st.sampled_from(sorted(REASONS)),
    st.lists(_suggestion, max_size=10),
)


RENDERING_CLASS = "any answer a corpus could give (rendering)"


@given(_found | _refused, st.integers(1, 10_000))
def test_any_answer_renders_as_valid_telegram_html(result: Answer, max_question_chars: int) -> None:
    """to_html is valid Telegram HTML within the length limit for any answer the engine could make."""
    problems: list[str] = []
    try:
        text = to_html(result, max_question_chars)
        problems.extend(telegram_html_problems(text))
        if not result.found and len(text) > TELEGRAM_MAX_CHARS:
            problems.append(f"refusal of {len(text)} characters")
        if result.found and (result.document is None or to_json(result)["url"] != result.document.url):
            problems.append("to_json lacks the article's URL")
        if not to_plain(result, max_question_chars):
            problems.append("to_plain is empty")
        json.loads(json.dumps(to_json(result), ensure_ascii=False))
    except Exception as exc:
        problems.append(f"raised {type(exc).__name__}: {exc}")
    TALLY.record(RENDERING_CLASS, problems, result.found, prop="to_html(any Answer)")
    assert not problems, problems
