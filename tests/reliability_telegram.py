"""Reliability of the Telegram bot, measured: the real bot as a subprocess against the Bot API imitation.

Each scenario starts `talksbot telegram` (no mocks of our code) in a scratch folder, drives it
through tests/fake_bot_api.py under a fault, a load or hostile input, and returns rows of figures:
cases tried, answered, lost, duplicated, a note, and the problems it saw (a row is kept when it
saw none). tests/test_telegram_reliability.py runs these same functions and asserts on the rows,
so what the report says is what CI checks. `python -m tests.reliability_telegram` (or `python
tests/reliability_telegram.py`) runs them all and prints the table in Markdown.

"answered" counts cases that got the reply they should: an answer quoting the article with its
link, or, where the bot is meant to, a refusal or silence (each row's note says which).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import re
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge import Settings
from bot.library import Library
from tests.common import TOKEN, copy_corpus
from tests.fake_bot_api import BOT_USERNAME, DROPPED, Call, FakeBotAPI
from tests.scenarios import Row
from tests.telegram_harness import ADMIN_ID, BotProcess, check_answer, write_telegram_config
from tests.telegram_html import parse_telegram_html

SECOND_ADMIN = 4343
QUESTIONS = (
    "Who chaired the meeting?",
    "Who led the Russian delegation?",
    "What did NATO and Russia agree on?",
    "What did Wendy Sherman say about diplomacy?",
)
REFUSED = "Do you have a recipe for borscht?"
BULLETIN_QUESTION = "What did the Zebrograd quokka sanctuary open?"
BULLETIN = """---
title: Quokka sanctuary opens in Zebrograd
url: https://example.org/reliability/quokka-sanctuary
publisher: Reliability Test Wire
published: 2022-01-13
---
The Zebrograd quokka sanctuary opened a new marsupial nursery on Thursday, its keepers said.

Visitors to the quokka sanctuary can watch the keepers feed the animals every morning.
"""
BULLETIN_URL = "https://example.org/reliability/quokka-sanctuary"
# Broken corpus files for reloads: (file text, words the refusal must contain besides the file name).
BROKEN_FILES = (
    ("no front matter here\n", "front matter"),
    (BULLETIN.replace("url: https://example.org/reliability/quokka-sanctuary\n", ""), "missing 'url'"),
    (BULLETIN.replace("published: 2022-01-13", "published: next Tuesday"), "'published'"),
)
_user_ids = itertools.count(200_001)


Key = tuple[int, int]  # (chat id, message id) of a question


def key_of(message: dict[str, Any]) -> Key:
    """The key of a message the imitation queued."""
    return int(message["chat"]["id"]), int(message["message_id"])


def replied_to(call: Call) -> Key | None:
    """The key of the message a sendMessage call replies to, if any."""
    reply = call.params.get("reply_parameters") or {}
    chat_id, message_id = call.params.get("chat_id"), reply.get("message_id")
    if isinstance(chat_id, int) and isinstance(message_id, int):
        return chat_id, message_id
    return None


def delivered(api: FakeBotAPI, keys: set[Key]) -> dict[Key, list[Call]]:
    """The messages the imitation delivered (status 200) in reply to each of these questions."""
    found: dict[Key, list[Call]] = {key: [] for key in keys}
    for call in api.find("sendMessage", lambda c: c.ok):
        key = replied_to(call)
        if key in found:
            found[key].append(call)
    return found


def is_answer(text: str) -> bool:
    """A valid answer from the article: quoted excerpt (≤ 500 chars, article text), attribution, link."""
    try:
        check_answer(text)
    except AssertionError:
        return False
    return True


def new_user() -> int:
    """A user id no other case in this process uses."""
    return next(_user_ids)


def rss_kib(pid: int) -> int:
    """The resident memory of a process in KiB (0 where /proc is not available)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll a condition until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


# --- a bot and its imitation ---------------------------------------------------------------------------


class Session:
    """The Bot API imitation and the real bot long polling it, in a scratch folder (a context manager)."""

    def __init__(
        self,
        scratch: Path,
        *,
        admins: tuple[int, ...] = (ADMIN_ID,),
        rate_limit: int = 1000,
        messages_per_second: int = 1000,
        level: str = "DEBUG",
    ) -> None:
        """Prepare a private corpus copy and the config; __enter__ starts both."""
        self.scratch = scratch
        self.api = FakeBotAPI(TOKEN)
        self.corpus = copy_corpus(scratch)
        self.admins = admins
        self.rate_limit = rate_limit
        self.messages_per_second = messages_per_second
        self.level = level
        self.runs = 0
        self.bot: BotProcess | None = None

    def __enter__(self) -> Session:
        self.api.start()
        self.config = write_telegram_config(
            self.scratch,
            self.api,
            self.corpus,
            admins=self.admins,
            rate_limit_per_minute=self.rate_limit,
            messages_per_second=self.messages_per_second,
            level=self.level,
        )
        self.start_bot()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.bot is not None and self.bot.process.poll() is None:
                self.bot.stop()
        finally:
            self.api.stop()

    def start_bot(self) -> BotProcess:
        """Start (or start again) the bot, each run with its own output files; wait until it polls."""
        self.runs += 1
        folder = self.scratch / f"run{self.runs}"
        folder.mkdir()
        polls = len(self.api.find("getUpdates"))
        self.bot = BotProcess(self.config, TOKEN, folder)
        self.api.wait("getUpdates", count=polls + 1, timeout=30)
        return self.bot

    @property
    def output(self) -> str:
        """What the current bot run wrote so far."""
        assert self.bot is not None
        return self.bot.output

    def failed_replies(self) -> int:
        """How many replies the bot has given up on in this run (it logs each with reply=failed)."""
        return self.output.count("reply=failed")

    def ask_many(self, count: int, users: list[int], questions: tuple[str, ...] = QUESTIONS) -> list[dict[str, Any]]:
        """Queue `count` private questions, spread over the users and questions."""
        return [self.api.private(users[i % len(users)], questions[i % len(questions)]) for i in range(count)]

    def settle(self, keys: set[Key], timeout: float, failed_before: int = 0) -> dict[Key, list[Call]]:
        """Wait until every question has a reply, or the bot gave up on the rest; then catch late doubles.

        Gave up means: the bot logged reply=failed for at least as many questions as are still
        without a reply, and has made no call but long polls for a second (a question still being
        answered would show; a failure may also be logged for a reply that did arrive).
        """

        def done() -> bool:
            missing = sum(1 for calls in delivered(self.api, keys).values() if not calls)
            gave_up = self.failed_replies() - failed_before
            quiet = time.monotonic() - self.api.last_call_at() >= 1.0
            return missing == 0 or (gave_up >= missing and quiet and self.api.in_flight() == 0)

        wait_until(done, timeout)
        time.sleep(0.5)  # a second reply, were there one, would come now
        return delivered(self.api, keys)

    def command(self, user_id: int, text: str, timeout: float = 30.0) -> str:
        """Send a command in a private chat; return the visible text of the bot's reply to it."""
        message = self.api.private(user_id, text)
        key = key_of(message)
        calls = self.api.wait("sendMessage", lambda c: c.ok and replied_to(c) == key, timeout=timeout)
        return parse_telegram_html(calls[0].params["text"]).visible


def count_row(
    name: str, replies: dict[Key, list[Call]], good: Callable[[str], bool], note: str, expect_lost: int = 0
) -> Row:
    """Count a row: answered (a good reply), lost (none, or only bad ones), duplicated (more than one)."""
    answered = sum(1 for calls in replies.values() if any(good(c.params["text"]) for c in calls))
    duplicated = sum(1 for calls in replies.values() if len(calls) > 1)
    lost = len(replies) - answered
    problems = []
    if lost != expect_lost:
        problems.append(f"{lost} lost, expected {expect_lost}")
    if duplicated:
        problems.append(f"{duplicated} answered more than once")
    bad = sum(1 for calls in replies.values() if calls and not any(good(c.params["text"]) for c in calls))
    if bad:
        problems.append(f"{bad} replies were not valid answers")
    return Row(name, len(replies), answered, lost, duplicated, note, tuple(problems))


# --- faults from Telegram ---------------------------------------------------------------------------------

FAULT_QUESTIONS = 20


@dataclass(frozen=True)
class FaultCase:
    """One fault of the matrix: how to plan it, which calls show it happened, what the reader gets."""

    slug: str  # a short id for test names
    name: str
    method: str  # the Bot API method the fault hits
    plan: Callable[[FakeBotAPI], None]
    status: int  # the status the imitation records for a faulted call
    times: int  # how many calls are faulted
    note: str
    expect_lost: int = 0
    before_questions: Callable[[FakeBotAPI], None] = lambda api: None  # e.g. wait for the first faulted poll


def _first_fault_taken(method: str, times: int) -> Callable[[FakeBotAPI], None]:
    """Wait until the bot made its first faulted call of a method (so the next questions meet the fault)."""

    def wait(api: FakeBotAPI) -> None:
        if not wait_until(lambda: api.pending_faults(method) < times, 10):
            raise AssertionError(f"the bot made no {method} call in 10 s")

    return wait


FAULT_CASES: tuple[FaultCase, ...] = (
    FaultCase(
        "429",
        "429 Too Many Requests (retry_after 1) on sendMessage, 3 calls",
        "sendMessage",
        lambda api: api.fail_next("sendMessage", 3, status=429, retry_after=1),
        429,
        3,
        "PTB's rate limiter waits retry_after and sends again; Telegram did not send a refused message",
    ),
    FaultCase(
        "500",
        "500 Internal Server Error on sendMessage, 10 calls",
        "sendMessage",
        lambda api: api.fail_next("sendMessage", 10, status=500),
        500,
        10,
        "an error status means Telegram did not send it: sent again with back-off",
    ),
    FaultCase(
        "502-html",
        "502 Bad Gateway (nginx HTML page) on sendMessage, 10 calls",
        "sendMessage",
        lambda api: api.fail_next("sendMessage", 10, status=502, kind="html"),
        502,
        10,
        "the front proxy's HTML page is not JSON, still an error status: sent again",
    ),
    FaultCase(
        "read-timeout-delivered",
        "read timeout on sendMessage (6 s > the bot's 5 s), Telegram did send it, 3 calls",
        "sendMessage",
        lambda api: api.fail_next("sendMessage", 3, kind="slow", hold=6.0),
        200,
        3,
        "the bot gives up waiting and, not knowing, does not send again: the reader has it once",
    ),
    FaultCase(
        "read-timeout-dropped",
        "read timeout on sendMessage (6 s > the bot's 5 s), Telegram dropped it, 3 calls",
        "sendMessage",
        lambda api: api.fail_next("sendMessage", 3, kind="drop", hold=6.0),
        DROPPED,
        3,
        "ambiguous by nature: a request with no response may or may not have been delivered, and the Bot "
        "API has no idempotency key; the adapter never resends after the request went out, trading these "
        "3 losses (the reader can ask again) for never answering twice (previous row)",
        expect_lost=3,
    ),
    FaultCase(
        "malformed-send",
        "malformed JSON (a cut 200 body) on sendMessage, 3 calls",
        "sendMessage",
        lambda api: api.fail_next("sendMessage", 3, kind="malformed"),
        200,
        3,
        "a 200 means it was sent: the bot cannot read the reply, logs it, does not send again",
    ),
    FaultCase(
        "malformed-poll",
        "malformed JSON (a cut 200 body) on getUpdates, 2 polls",
        "getUpdates",
        lambda api: api.fail_next("getUpdates", 2, kind="malformed"),
        200,
        2,
        "updates not read are not confirmed: the next poll fetches them again",
        before_questions=_first_fault_taken("getUpdates", 2),
    ),
    FaultCase(
        "409-poll",
        "409 Conflict on getUpdates, 3 polls",
        "getUpdates",
        lambda api: api.fail_next("getUpdates", 3, status=409),
        409,
        3,
        "the updates wait at Telegram; polling backs off (1 s, 1.5 s, 2.25 s) and resumes",
        before_questions=_first_fault_taken("getUpdates", 3),
    ),
)
OUTAGE_SECONDS = 3.0
OUTAGE_NAME = f"connection refused for {OUTAGE_SECONDS:.0f} s (the API goes away and comes back)"


def fault_row(case: FaultCase, scratch: Path) -> Row:
    """Send FAULT_QUESTIONS questions while the bot meets one fault; count what the readers got."""
    with Session(scratch) as session:
        api = session.api
        api.idle()
        failed_before = session.failed_replies()
        case.plan(api)
        case.before_questions(api)
        users = [new_user() for _ in range(FAULT_QUESTIONS)]
        messages = session.ask_many(FAULT_QUESTIONS, users)
        replies = session.settle({key_of(m) for m in messages}, timeout=45, failed_before=failed_before)
        row = count_row(case.name, replies, is_answer, case.note, case.expect_lost)
        problems: list[str] = []
        if api.pending_faults(case.method):
            problems.append(f"{api.pending_faults(case.method)} planned faults were never met")
        if case.slug.startswith("malformed"):  # one WARNING line for the unreadable reply, no traceback
            if "Traceback" in session.output or "Can not load invalid JSON" in session.output:
                problems.append("the unreadable reply was logged with a traceback")
            if "not valid JSON" not in session.output:
                problems.append("the unreadable reply was not logged")
        faulted = api.find(case.method, lambda c: c.status == case.status)
        if case.status != 200 and len(faulted) < case.times:
            problems.append(f"only {len(faulted)} of {case.times} faulted calls recorded")
        return row.with_problems(problems)


def outage_row(scratch: Path) -> Row:
    """The API refuses connections for a few seconds while the bot has questions in hand."""
    with Session(scratch) as session:
        api = session.api
        api.idle()
        failed_before = session.failed_replies()
        back = api.outage(OUTAGE_SECONDS)  # the long poll in flight still returns the questions below
        users = [new_user() for _ in range(FAULT_QUESTIONS)]
        messages = session.ask_many(FAULT_QUESTIONS, users)
        back.join(OUTAGE_SECONDS + 10)
        replies = session.settle({key_of(m) for m in messages}, timeout=45, failed_before=failed_before)
        refused = session.output.count("sendMessage failed (httpx.ConnectError")
        note = (
            "nothing reached Telegram, so sending again is safe: sendMessage retries with back-off "
            "(0.5 s doubling, 6 tries over 15 s) and polling resumes"
        )
        row = count_row(OUTAGE_NAME, replies, is_answer, note)
        problems: list[str] = []
        if not refused:
            problems.append("no sendMessage met a refused connection")
        return row.with_problems(problems)


# --- reload under load --------------------------------------------------------------------------------------

LOAD_QUESTIONS = 1000
LOAD_USERS = 50
RELOADS = 20
LOAD_MIX = (*QUESTIONS, BULLETIN_QUESTION, REFUSED)


@dataclass(frozen=True)
class GoodCorpus:
    """What a complete index can quote: each document's URL and its passages' text (whitespace folded)."""

    passages: dict[str, list[str]]  # url -> passage texts
    sizes: dict[bool, str]  # bulletin present? -> Library size as the bot reports it

    @classmethod
    def build(cls, corpus: Path, scratch: Path) -> GoodCorpus:
        """Index the corpus without and with the bulletin (in scratch), as an oracle."""
        with_bulletin = copy_corpus(scratch, "oracle-corpus")
        (with_bulletin / "zz-bulletin.md").write_text(BULLETIN, encoding="utf-8")
        full = Library(with_bulletin, Settings())
        passages: dict[str, list[str]] = {}
        for passage in full.knowledge.index.passages:
            url = full.knowledge.documents[passage.doc_id].url
            passages.setdefault(url, []).append(" ".join(passage.text.split()))
        plain = Library(corpus, Settings(), full.rarity)
        return cls(passages, {False: str(plain.size), True: str(full.size)})

    def quotes(self, text: str) -> bool:
        """A valid reply from a complete index: a refusal, or an excerpt every piece of which is in a
        passage of the document it links to, with that document's URL."""
        parsed = parse_telegram_html(text)
        if parsed.errors:
            return False
        if not parsed.links:
            return "does not cover" in parsed.visible
        quoted = re.search(r"“(.*)”\n\n— ", parsed.visible, re.DOTALL)
        if quoted is None or len(quoted.group(1)) > 500 or len(parsed.links) != 1:
            return False
        passages = self.passages.get(parsed.links[0], [])
        pieces = [" ".join(p.split()) for p in quoted.group(1).split("…") if p.strip()]
        return bool(pieces) and all(any(piece in passage for passage in passages) for piece in pieces)


def _before_now(text: str) -> tuple[str, str] | None:
    match = re.search(r"Before: (.+)\nNow: (.+)", text)
    return (match.group(1).strip(), match.group(2).strip()) if match else None


def reload_under_load(scratch: Path) -> list[Row]:
    """1,000 questions from 50 users while an admin reloads 20 times (7 with a broken file); then two admins at once."""
    with Session(scratch, admins=(ADMIN_ID, SECOND_ADMIN)) as session:
        api, corpus = session.api, session.corpus
        good = GoodCorpus.build(corpus, scratch)
        users = [new_user() for _ in range(LOAD_USERS)]
        bulletin = corpus / "zz-bulletin.md"
        questions: list[dict[str, Any]] = []
        broken_ok = good_ok = 0
        problems: list[str] = []
        for i in range(RELOADS):
            batch = LOAD_QUESTIONS // RELOADS
            questions += [
                api.private(users[(len(questions) + j) % LOAD_USERS], LOAD_MIX[(len(questions) + j) % len(LOAD_MIX)])
                for j in range(batch)
            ]
            if i % 3 == 1:
                broken_ok += _broken_reload(session, i, problems)
            else:
                good_ok += _good_reload(session, good, bulletin, problems)
        replies = session.settle({key_of(m) for m in questions}, timeout=120)
        broken = len(range(1, RELOADS, 3))
        load = count_row(
            f"{LOAD_QUESTIONS:,} questions from {LOAD_USERS} users during {RELOADS} reloads",
            replies,
            good.quotes,
            "each reply a refusal or an excerpt found in a passage of the document it links to, "
            "never from a half-built index",
        )
        rows = [
            load,
            Row(
                f"broken reloads ({len(BROKEN_FILES)} kinds of bad file) under load",
                broken,
                broken_ok,
                broken - broken_ok,
                note="each refused, naming the file and the problem; the old corpus kept serving",
                problems=tuple(p for p in problems if p.startswith("broken")),
            ),
            Row(
                "good reloads under load (adding or removing a document)",
                RELOADS - broken,
                good_ok,
                RELOADS - broken - good_ok,
                note="sizes before/after as expected, and a question only the new document answers follows",
                problems=tuple(p for p in problems if p.startswith("good")),
            ),
            _two_admins(session, good, bulletin),
        ]
        return rows


def _broken_reload(session: Session, i: int, problems: list[str]) -> int:
    """Reload with a broken file in the corpus; 1 if the reply names the file and the problem."""
    text, problem = BROKEN_FILES[i % len(BROKEN_FILES)]
    name = f"zz-broken-{i}.md"
    path = session.corpus / name
    path.write_text(text, encoding="utf-8")
    try:
        reply = session.command(ADMIN_ID, "/reload")
    finally:
        path.unlink()
    if "Reload failed" in reply and name in reply and problem in reply and "Still serving" in reply:
        return 1
    problems.append(f"broken reload {i}: {reply!r}")
    return 0


def _good_reload(session: Session, good: GoodCorpus, bulletin: Path, problems: list[str]) -> int:
    """Add or remove the bulletin and reload; 1 if the sizes and a probe question show the change."""
    had = bulletin.exists()
    if had:
        bulletin.unlink()
    else:
        bulletin.write_text(BULLETIN, encoding="utf-8")
    reply = session.command(ADMIN_ID, "/reload")
    probe = session.command(new_user(), BULLETIN_QUESTION)
    expected = (good.sizes[had], good.sizes[not had])
    probe_ok = "Reliability Test Wire" in probe if not had else "does not cover" in probe
    if "Reloaded" in reply and _before_now(reply) == expected and probe_ok:
        return 1
    problems.append(f"good reload: {reply!r}, probe {probe[:80]!r}")
    return 0


def _two_admins(session: Session, good: GoodCorpus, bulletin: Path, rounds: int = 3) -> Row:
    """Two admins send /reload at the same moment, after the corpus changed: the reloads must not interleave."""
    api = session.api
    consistent = 0
    seen = []
    for _ in range(rounds):
        had = bulletin.exists()
        if had:
            bulletin.unlink()
        else:
            bulletin.write_text(BULLETIN, encoding="utf-8")
        old, new = good.sizes[had], good.sizes[not had]
        sent = [api.private(admin, "/reload") for admin in (ADMIN_ID, SECOND_ADMIN)]
        pairs = []
        for message in sent:
            key = key_of(message)
            call = api.wait("sendMessage", lambda c, k=key: c.ok and replied_to(c) == k, timeout=30)[0]
            pairs.append(_before_now(parse_telegram_html(call.params["text"]).visible))
        seen.append(pairs)
        # Coalesced: both asked before a reload started, so one reload served both (old → new each);
        # or the second asked while the first ran and got the next one (old → new, then new → new).
        shared = pairs == [(old, new), (old, new)]
        serialised = sorted(pairs, key=str) == sorted([(old, new), (new, new)], key=str)
        consistent += 2 if shared or serialised else 0
    return Row(
        "two admins reload at the same moment",
        2 * rounds,
        consistent,
        2 * rounds - consistent,
        note="both replies say old → new (one reload served both requests), or one old → new and the "
        "other new → new (the second came while the first ran): reloads coalesce and never interleave",
        problems=() if consistent == 2 * rounds else (f"interleaved or wrong sizes: {seen}",),
    )


# --- abuse and access --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A hostile update and what must follow: a reply matching the `expect` pattern, or silence (None).

    A reply is a sendMessage quoting the case's message (or, when not `quoted`, any message sent
    to its chat after it), or the answer to its callback or inline query.
    """

    label: str
    send: Callable[[FakeBotAPI], dict[str, Any] | str]  # a queued message, or a callback/inline query id
    expect: str | None
    quoted: bool = True


def _outcome(api: FakeBotAPI, case: Case, sent: dict[str, Any] | str, at: float) -> list[str]:
    """The visible texts the bot sent in response to one case."""
    if isinstance(sent, str):  # a callback or inline query id
        answers = api.find(
            "answerCallbackQuery", lambda c: c.ok and c.params.get("callback_query_id") == sent
        ) + api.find("answerInlineQuery", lambda c: c.ok and c.params.get("inline_query_id") == sent)
        return [str(c.params.get("text", "inline results")) for c in answers]
    key = key_of(sent)

    def ours(call: Call) -> bool:
        if not call.ok or call.at < at:
            return False
        if replied_to(call) == key:
            return True
        return not case.quoted and replied_to(call) is None and call.params.get("chat_id") == key[0]

    return [parse_telegram_html(c.params["text"]).visible for c in api.find("sendMessage", ours)]


def run_cases(session: Session, name: str, cases: list[Case], note: str) -> Row:
    """Send every case, wait for the replies expected, check the silent ones stayed silent."""
    api = session.api
    sent = []
    for case in cases:
        at = time.monotonic()
        sent.append((case, case.send(api), at))
    expected = [(case, s, at) for case, s, at in sent if case.expect is not None]
    wait_until(lambda: all(_outcome(api, case, s, at) for case, s, at in expected), 30)
    time.sleep(1.0)  # the silent cases: anything they caused would have come by now
    answered = duplicated = 0
    problems = []
    for case, s, at in sent:
        texts = _outcome(api, case, s, at)
        duplicated += len(texts) > 1
        ok = not texts if case.expect is None else bool(texts) and re.search(case.expect, texts[0]) is not None
        answered += ok
        if not ok:
            problems.append(f"{case.label}: {texts}")
    return Row(name, len(cases), answered, len(cases) - answered, duplicated, note, tuple(problems))


def _log_problems(output: str) -> tuple[str, ...]:
    """ERROR lines and tracebacks in the bot's output (there must be none for hostile input)."""
    bad = [line for line in output.splitlines() if " ERROR " in line or " CRITICAL " in line or "Traceback" in line]
    return tuple(f"log: {line[:160]}" for line in bad[:5])


def abuse_and_access(scratch: Path) -> list[Row]:
    """Admin commands from anyone else, and hostile or odd updates: a sensible reply or silence, never an error."""
    with Session(scratch) as session:
        return [_access_row(session, session.corpus), _hostile_row(session, session.corpus)]


REFUSE = "only the bot's admins"


def _access_row(session: Session, corpus: Path) -> Row:
    """/reload and /stats from non-admins, anonymous group admins, channel posts and edits: refused or ignored."""
    api = session.api
    bulletin = corpus / "zz-bulletin.md"
    bulletin.write_text(BULLETIN, encoding="utf-8")  # any reload that slipped through would pick it up
    group = {"id": -1_002_000_000_001, "type": "supergroup", "title": "Readers"}
    api.group_chat(group["id"])
    old = [api.private(ADMIN_ID, "Who chaired the meeting?") for _ in range(2)]
    user = new_user()
    old.append(api.private(user, "Who chaired the meeting?"))
    cases = [
        Case("non-admin /reload", lambda a: a.private(new_user(), "/reload"), REFUSE),
        Case("non-admin /stats", lambda a: a.private(new_user(), "/stats"), REFUSE),
        Case("anonymous group admin /reload", lambda a: a.as_group(group, "/reload"), REFUSE),
        Case("anonymous group admin /stats", lambda a: a.as_group(group, "/stats"), REFUSE),
        Case(
            "anonymous group admin /reload@bot",
            lambda a: a.as_group(group, f"/reload@{BOT_USERNAME}"),
            REFUSE,
        ),
        Case("channel post /reload", lambda a: a.channel_post(-1_003_000_000_001, "/reload"), None),
        Case("channel post /stats", lambda a: a.channel_post(-1_003_000_000_001, "/stats"), None),
        Case("admin edits an old message into /reload", lambda a: a.edit(old[0], "/reload"), None),
        Case("admin edits an old message into /stats", lambda a: a.edit(old[1], "/stats"), None),
        Case("non-admin edits a message into /reload", lambda a: a.edit(old[2], "/reload"), None),
        Case(
            "non-admin forwards the admin's /reload",
            lambda a: a.forwarded(a.private_chat(user), user, "/reload", ADMIN_ID),
            REFUSE,
        ),
        Case("non-admin /reload in a group", lambda a: a.message(group, new_user(), "/reload"), REFUSE),
        Case(
            "admin /reload@otherbot",
            lambda a: a.private(ADMIN_ID, "/reload@some_other_bot"),
            "I do not know",
            quoted=False,
        ),
    ]
    api.wait("sendMessage", lambda c: c.ok and replied_to(c) in {key_of(m) for m in old}, count=len(old))
    row = run_cases(
        session,
        "admin commands from others (non-admins, anonymous group admins, channel posts, edits, forwards)",
        cases,
        "refused with a reply, or ignored (channel posts and edits never run commands); no reload happened",
    )
    problems: list[str] = []
    stats = session.command(ADMIN_ID, "/stats")
    if "Corpus: 1 document" not in stats or "reloaded corpus" in session.output:
        problems.append(f"a reload slipped through: {stats!r}")
    bulletin.unlink()
    return row.with_problems(problems)


def _hostile_row(session: Session, corpus: Path) -> Row:
    """Odd updates and forged or stale buttons: a sensible reply or silence, and no ERROR in the log."""
    api = session.api
    group = {"id": -1_002_000_000_002, "type": "supergroup", "title": "Chatters"}
    api.group_chat(group["id"])
    reader = new_user()
    # An answer from the bulletin, whose passage the admin then removes with a reload.
    bulletin = corpus / "zz-bulletin.md"
    bulletin.write_text(BULLETIN, encoding="utf-8")
    session.command(ADMIN_ID, "/reload")
    asked = api.private(reader, BULLETIN_QUESTION)
    stale = api.wait("sendMessage", lambda c: c.ok and replied_to(c) == key_of(asked))[0]
    bulletin.unlink()
    session.command(ADMIN_ID, "/reload")
    data = {b["text"]: b["callback_data"] for row in stale.params["reply_markup"]["inline_keyboard"] for b in row}
    key = data["Another passage"].split(":")[2]
    answered = api.private(reader, "Who chaired the meeting?")
    api.wait("sendMessage", lambda c: c.ok and replied_to(c) == key_of(answered))
    log_from = len(session.output)
    place = {"latitude": 50.8798, "longitude": 4.4262}
    cases = [
        Case("edited question", lambda a: a.edit(answered, "Who led the Russian delegation?"), None),
        Case("location, no text (private)", lambda a: a.private(new_user(), None, location=place), "only read text"),
        Case("message with neither text nor media (private)", lambda a: a.private(new_user(), None), "only read text"),
        Case(
            "photo with a question as caption (private)",
            lambda a: a.captioned(a.private_chat(reader), reader, "Who chaired the meeting?"),
            "only read text",
        ),
        Case(
            "photo captioned /reload by the admin",
            lambda a: a.captioned(a.private_chat(ADMIN_ID), ADMIN_ID, "/reload"),
            "only read text",
        ),
        Case("photo captioned @bot (group)", lambda a: a.captioned(group, reader, f"@{BOT_USERNAME} who?"), None),
        Case(
            "forwarded question (private)",
            lambda a: a.forwarded(a.private_chat(reader), reader, "Who chaired the meeting?", 777),
            "Stoltenberg",
        ),
        Case("channel post question", lambda a: a.channel_post(-1_003_000_000_002, "Who chaired the meeting?"), None),
        Case("/ask@otherbot (group)", lambda a: a.message(group, reader, "/ask@some_other_bot Who chaired?"), None),
        Case(
            "/ask@otherbot (private)",
            lambda a: a.private(new_user(), "/ask@some_other_bot Who chaired?"),
            "I do not know",
            quoted=False,
        ),
        Case("4,096-character message", lambda a: a.private(new_user(), ("Stoltenberg " * 400)[:4096]), "too long"),
        Case("sticker (group)", lambda a: a.sticker(group, reader), None),
        Case("button data with an unknown key", lambda a: a.press(reader, stale.result, "m:1:AAAAAAAA"), "expired"),
        Case("button data that is not ours", lambda a: a.press(reader, stale.result, "x" * 64), "no longer works"),
        Case("button data with a forged rank", lambda a: a.press(reader, stale.result, f"m:7:{key}"), "no longer"),
        Case(
            "Another passage, its document removed by a reload",
            lambda a: a.press(reader, stale.result, data["Another passage"]),
            "no other passage|Passage 2",
        ),
        Case("👍 on a passage removed by a reload", lambda a: a.press(reader, stale.result, data["👍"]), "Thank you"),
        Case("inline query of control characters", lambda a: a.inline(new_user(), "\u202e\u200b\x07<b>&"), "inline"),
    ]
    row = run_cases(
        session,
        "hostile updates (edits, no text, captions, forwards, channel posts, @otherbot, forged or stale buttons)",
        cases,
        "a sensible reply, or silence for edits, channel posts, other bots' commands and group noise; "
        "no ERROR or traceback in the log",
    )
    return row.with_problems(_log_problems(session.output[log_from:]))


FLOOD = 300
FLOOD_LIMIT = 20  # per user and minute, the default
MAX_GROWTH_MIB = 50


def flood(scratch: Path) -> list[Row]:
    """50 users ask while one user sends 300 messages: the 50 are answered; the flooder hears "slow down" once."""
    with Session(scratch, rate_limit=FLOOD_LIMIT) as session:
        api = session.api
        api.idle()
        rss_before = rss_kib(session.bot.process.pid) if session.bot else 0
        flooder = new_user()
        users = [new_user() for _ in range(50)]
        readers: list[dict[str, Any]] = []
        floods: list[dict[str, Any]] = []
        for i in range(FLOOD):
            floods.append(api.private(flooder, QUESTIONS[i % len(QUESTIONS)]))
            if i % 3 == 0:
                readers.append(api.private(users[len(readers) % 50], QUESTIONS[len(readers) % len(QUESTIONS)]))
        replies = session.settle({key_of(m) for m in readers}, timeout=60)
        flood_keys = {key_of(m) for m in floods}
        wait_until(lambda: len(_flooder_replies(api, flooder, flood_keys)) >= FLOOD_LIMIT + 1, 30)
        time.sleep(1.0)
        rss_after = rss_kib(session.bot.process.pid) if session.bot else 0
        got = _flooder_replies(api, flooder, flood_keys)
        slow = [c for c in got if "faster than I can keep up" in c.params["text"]]
        answers = [c for c in got if is_answer(c.params["text"])]
        readers_row = count_row(
            "50 readers (100 questions) while one user floods 300 messages",
            replies,
            is_answer,
            "every reader answered once: the flood cannot starve them",
        )
        grown = (rss_after - rss_before) / 1024
        problems = []
        if len(answers) != FLOOD_LIMIT or len(slow) != 1 or len(got) != FLOOD_LIMIT + 1:
            problems.append(f"flooder got {len(answers)} answers, {len(slow)} 'slow down', {len(got)} in all")
        if grown > MAX_GROWTH_MIB:
            problems.append(f"the bot grew by {grown:.0f} MiB")
        flooder_row = Row(
            f"the flooder's {FLOOD} messages (limit {FLOOD_LIMIT} a minute)",
            FLOOD,
            len(answers) + len(slow),
            0,
            sum(1 for count in Counter(replied_to(c) for c in got).values() if count > 1),
            f"{len(answers)} answered, then one 'slow down', then silence for the other "
            f"{FLOOD - len(answers) - len(slow)} (by design); the bot's memory grew by less than "
            f"{MAX_GROWTH_MIB} MiB",
            tuple(problems),
        )
        return [readers_row, flooder_row]


def _flooder_replies(api: FakeBotAPI, flooder: int, keys: set[Key]) -> list[Call]:
    return api.find("sendMessage", lambda c: c.ok and c.params.get("chat_id") == flooder and replied_to(c) in keys)


# --- fairness: busy chats and flooding users cannot hold back anyone else ------------------------------------

FAIR_RATE = 20  # questions per sender and minute, the default
FAIR_SEND_RATE = 30  # messages_per_second, the default (Telegram's limit)
# Seconds: a quiet reader's answer while others flood. Under a group's send budget (one message every
# 3 s), so a reader queued behind even one rate-limited message fails; typically about 0.4 s, the rest
# is room for a loaded machine (at 1 s the check failed now and then on a busy 2-core machine).
QUIET_TARGET = 2.5
GROUP_ASKERS = 40
GROUP_HELPS = 80
FLOOD_COMMANDS = 200
FLOOD_INLINE = 200
FLOOD_PRESSES = 100
THROUGHPUT_QUESTIONS = 300
THROUGHPUT_SHARE = 0.9  # of messages_per_second


def _quiet_reader(session: Session, questions: int = 5, gap: float = 0.2) -> tuple[list[float], int]:
    """A reader who asks now and then: the seconds each answer took (from the update to the reply), and
    how many were not answered within 10 s."""
    api = session.api
    reader = new_user()
    latencies, missing = [], 0
    for i in range(questions):
        asked_at = time.monotonic()
        message = api.private(reader, QUESTIONS[i % len(QUESTIONS)])
        key = key_of(message)
        try:
            call = api.wait("sendMessage", lambda c, k=key: c.ok and replied_to(c) == k, timeout=10)[0]
        except AssertionError:
            missing += 1
            continue
        latencies.append(call.at - asked_at)
        time.sleep(gap)
    return latencies, missing


def _quiet_row(name: str, latencies: list[float], missing: int, tried: int) -> Row:
    slowest = max(latencies, default=float("inf"))
    problems = [f"{missing} never answered"] if missing else []
    if slowest > QUIET_TARGET:
        problems.append(f"slowest answer {slowest:.2f} s > {QUIET_TARGET:.1f} s")
    note = (
        f"slowest answer {slowest:.2f} s, median {sorted(latencies)[len(latencies) // 2]:.2f} s "
        f"(target ≤ {QUIET_TARGET:.1f} s)"
        if latencies
        else "no answer"
    )
    return Row(name, tried, len(latencies), missing, 0, note, tuple(problems))


def fairness(scratch: Path) -> list[Row]:
    """Busy groups, a user flooding commands, inline queries and buttons, anonymous admins in two groups,
    and private throughput, at Telegram's real rates: no one holds back anyone else."""
    # At INFO, as in production: at DEBUG, PTB writes every one of the flood's updates out in full.
    with Session(scratch, rate_limit=FAIR_RATE, messages_per_second=FAIR_SEND_RATE, level="INFO") as session:
        rows = [*_group_flood(session), *_user_flood(session), _anonymous_admins(session), _throughput(session)]
        rows.append(_stop_with_a_backlog(session))
        return rows


def _group_flood(session: Session) -> list[Row]:
    """40 members of one group each ask once with /ask, one member of another sends 80 /help."""
    api = session.api
    api.idle()
    busy = {"id": -1_004_000_000_001, "type": "supergroup", "title": "Busy"}
    noisy = {"id": -1_004_000_000_002, "type": "supergroup", "title": "Noisy"}
    api.group_chat(busy["id"])
    api.group_chat(noisy["id"])
    helper = new_user()
    asks = [api.message(busy, new_user(), f"/ask {QUESTIONS[i % len(QUESTIONS)]}") for i in range(GROUP_ASKERS)]
    for _ in range(GROUP_HELPS):
        api.message(noisy, helper, "/help")
    latencies, missing = _quiet_reader(session)
    quiet = _quiet_row(
        f"a quiet reader while {GROUP_ASKERS} members of a group each /ask and one member of another sends "
        f"{GROUP_HELPS} /help",
        latencies,
        missing,
        len(latencies) + missing,
    )
    # The busy group gets a burst of its budget at once, the rest one every 3 s (Telegram's 20 a minute).
    wait_until(lambda: len(delivered_in(api, busy["id"])) >= GROUP_MESSAGES, 10)
    wait_until(lambda: len(delivered_in(api, noisy["id"])) >= FAIR_RATE + 1, 10)  # the 21st waits 3 s
    first = delivered(api, {key_of(m) for m in asks})
    got = sum(1 for calls in first.values() if calls)
    noisy_sent = delivered_in(api, noisy["id"])
    helps = [c for c in noisy_sent if "How to ask" in c.params["text"]]
    slow = [c for c in noisy_sent if "faster than I can keep up" in c.params["text"]]
    problems = []
    if got < GROUP_MESSAGES:
        problems.append(f"only {got} answers in the busy group's first burst")
    if len(helps) != FAIR_RATE or len(slow) != 1:
        problems.append(f"the /help flood got {len(helps)} helps and {len(slow)} 'slow down'")
    groups = Row(
        "the two groups meanwhile (Telegram lets a bot send 20 messages a minute into a group)",
        GROUP_ASKERS + GROUP_HELPS,
        got + len(helps) + len(slow),
        0,
        0,
        f"the busy group got {got} answers in its first seconds, the rest follow one every 3 s (its budget); "
        f"the /help flooder got {len(helps)} helps, one 'slow down', then silence (the per-user limit)",
        tuple(problems),
    )
    return [quiet, groups]


GROUP_MESSAGES = 20


def delivered_in(api: FakeBotAPI, chat_id: int) -> list[Call]:
    """The messages delivered into a chat."""
    return api.find("sendMessage", lambda c: c.ok and c.params.get("chat_id") == chat_id)


def _user_flood(session: Session) -> list[Row]:
    """One user sends 200 /help, 200 inline queries and 100 button presses while a quiet reader asks."""
    api = session.api
    api.idle()
    flooder = new_user()
    asked = api.private(flooder, "Who chaired the meeting?")
    answer = api.wait("sendMessage", lambda c: c.ok and replied_to(c) == key_of(asked))[0]
    buttons = {b["text"]: b["callback_data"] for row in answer.params["reply_markup"]["inline_keyboard"] for b in row}
    inline_ids, press_ids = [], []
    for i in range(FLOOD_COMMANDS):
        api.private(flooder, "/help")
        if i < FLOOD_INLINE:
            inline_ids.append(api.inline(flooder, "Who chaired the meeting?"))
        if i < FLOOD_PRESSES:
            press_ids.append(api.press(flooder, answer.result, buttons["👍" if i % 2 else "Another passage"]))
    latencies, missing = _quiet_reader(session)
    tried = FLOOD_COMMANDS + FLOOD_INLINE + FLOOD_PRESSES
    quiet = _quiet_row(
        f"a quiet reader while one user sends {FLOOD_COMMANDS} /help, {FLOOD_INLINE} inline queries and "
        f"{FLOOD_PRESSES} button presses",
        latencies,
        missing,
        len(latencies) + missing,
    )
    time.sleep(1.0)
    helps = [c for c in delivered_in(api, flooder) if "How to ask" in c.params["text"]]
    slow_messages = [c for c in delivered_in(api, flooder) if "faster than I can keep up" in c.params["text"]]
    inline = api.find("answerInlineQuery", lambda c: c.ok and c.params.get("inline_query_id") in inline_ids)
    inline_results = [c for c in inline if c.params.get("results")]
    presses = api.find("answerCallbackQuery", lambda c: c.ok and c.params.get("callback_query_id") in press_ids)
    served = len(helps) + len(inline_results) + sum(1 for c in presses if c.params.get("text") not in (None, SLOW_TEXT))
    warned = len(slow_messages) + (len(inline) - len(inline_results)) + sum(
        1 for c in presses if c.params.get("text") == SLOW_TEXT
    )
    problems = []
    if served != FAIR_RATE - 1 or warned != 1:  # the question before the flood counted too
        problems.append(f"served {served}, warned {warned}")
    if len(presses) != FLOOD_PRESSES:
        problems.append(f"{FLOOD_PRESSES - len(presses)} button presses left spinning (callback never answered)")
    flooder_row = Row(
        f"the flooder's {tried} commands, inline queries and presses (one limit of {FAIR_RATE} a minute)",
        tried,
        served + warned,
        0,
        0,
        f"{served} served (with the question before, {FAIR_RATE}), one 'slow down', the rest silent; "
        "every press still gets its callback answered",
        tuple(problems),
    )
    return [quiet, flooder_row]


SLOW_TEXT = "You are asking faster than I can keep up with; please wait a minute and ask again."


def _anonymous_admins(session: Session) -> Row:
    """Anonymous admins of two groups (both appear as GroupAnonymousBot): one over its limit, the other not."""
    api = session.api
    first = {"id": -1_004_000_000_003, "type": "supergroup", "title": "First"}
    second = {"id": -1_004_000_000_004, "type": "supergroup", "title": "Second"}
    api.group_chat(first["id"])
    api.group_chat(second["id"])
    for _ in range(FAIR_RATE + 1):
        api.as_group(first, "/ask Who chaired the meeting?")
    wait_until(lambda: any(SLOW_TEXT in c.params["text"] for c in delivered_in(api, first["id"])), 10)
    other = api.as_group(second, "/ask Who chaired the meeting?")
    replies = session.settle({key_of(other)}, timeout=10)
    row = count_row(
        "anonymous admins of two groups (both sent as GroupAnonymousBot), the first over its limit",
        replies,
        is_answer,
        "the limit counts the group an anonymous admin speaks for, not GroupAnonymousBot: "
        "the second group's admin is answered",
    )
    return row


def _throughput(session: Session) -> Row:
    """300 readers ask once each: answers per second against messages_per_second, after the first burst."""
    api = session.api
    api.idle()
    messages = [api.private(new_user(), QUESTIONS[i % len(QUESTIONS)]) for i in range(THROUGHPUT_QUESTIONS)]
    replies = session.settle({key_of(m) for m in messages}, timeout=60)
    times = sorted(calls[0].at for calls in replies.values() if calls)
    steady = times[FAIR_SEND_RATE:]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 and steady[-1] > steady[0] else 0.0
    row = count_row(
        f"private throughput: {THROUGHPUT_QUESTIONS} readers at once, messages_per_second {FAIR_SEND_RATE}",
        replies,
        is_answer,
        f"{rate:.1f} answers a second after the first burst of {FAIR_SEND_RATE} "
        f"({rate / FAIR_SEND_RATE:.0%} of messages_per_second; target ≥ {THROUGHPUT_SHARE:.0%})",
    )
    if rate < THROUGHPUT_SHARE * FAIR_SEND_RATE:
        row = row.with_problems([f"{rate:.1f} answers a second"])
    return row


def _stop_with_a_backlog(session: Session) -> Row:
    """SIGTERM while a busy group's answers wait for its budget: the bot stops at once, saying so."""
    assert session.bot is not None
    api = session.api
    busy = {"id": -1_004_000_000_005, "type": "supergroup", "title": "Backlog"}
    api.group_chat(busy["id"])
    asks = [api.message(busy, new_user(), "/ask Who chaired the meeting?") for _ in range(GROUP_ASKERS)]
    wait_until(lambda: len(delivered_in(api, busy["id"])) >= GROUP_MESSAGES, 10)
    started = time.monotonic()
    session.bot.signal(signal.SIGTERM)
    code = session.bot.wait(20)
    took = time.monotonic() - started
    logged = session.output.count("not sent: the bot is stopping")
    sent = sum(1 for calls in delivered(api, {key_of(m) for m in asks}).values() if calls)
    problems = []
    if code != 0 or took > 5:
        problems.append(f"exit code {code} after {took:.1f} s")
    if logged < GROUP_ASKERS - sent:
        problems.append(f"{GROUP_ASKERS - sent} not sent, {logged} logged as such")
    return Row(
        f"SIGTERM while {GROUP_ASKERS - GROUP_MESSAGES} answers wait for a busy group's budget",
        GROUP_ASKERS,
        sent,
        GROUP_ASKERS - sent,
        0,
        f"stopped in {took:.1f} s: answers still waiting for the group's budget (minutes away) are dropped "
        "and logged, rather than holding the shutdown",
        tuple(problems),
    )


# --- shutdown and restart ----------------------------------------------------------------------------------

BEFORE_SIGTERM = 150
WHILE_STOPPED = 50


def shutdown_restart(scratch: Path) -> list[Row]:
    """SIGTERM while answering, then a restart against the same Telegram: nothing twice, nothing lost."""
    with Session(scratch) as session:
        api = session.api
        assert session.bot is not None
        users = [new_user() for _ in range(30)]
        first = session.ask_many(BEFORE_SIGTERM, users)
        keys = {key_of(m) for m in first}
        wait_until(lambda: sum(1 for c in delivered(api, keys).values() if c) >= 30, 30)
        answering = sum(1 for c in delivered(api, keys).values() if c)
        session.bot.signal(signal.SIGTERM)
        code = session.bot.wait(20)
        at_exit = delivered(api, keys)
        acknowledged = api.confirmed_offset  # PTB's last getUpdates on the way out confirms what it fetched
        update_of = api.update_ids()
        dropped = [k for k, calls in at_exit.items() if not calls and update_of[k] < acknowledged]
        unconfirmed = [k for k, calls in at_exit.items() if calls and update_of[k] >= acknowledged]
        late = session.ask_many(WHILE_STOPPED, users)  # readers keep asking while the bot is down
        session.start_bot()
        replies = session.settle(keys | {key_of(m) for m in late}, timeout=60)
        row = count_row(
            "SIGTERM while answering, then a restart",
            replies,
            is_answer,
            f"SIGTERM came mid-way through {BEFORE_SIGTERM} answers: every update fetched was answered and "
            f"acknowledged before exit; {WHILE_STOPPED} asked while it was down were answered after the "
            "restart, none twice",
        )
        problems: list[str] = []
        if code != 0:
            problems.append(f"exit code {code}")
        if dropped:
            problems.append(f"{len(dropped)} updates acknowledged on exit but never answered")
        if unconfirmed:
            problems.append(f"{len(unconfirmed)} updates answered but not acknowledged on exit")
        if answering >= BEFORE_SIGTERM:
            problems.append("all were answered before SIGTERM: nothing was in flight")
        return [row.with_problems(problems)]


# --- the table ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A group of rows and the function that measures them in a scratch folder."""

    group: str
    name: str
    run: Callable[[Path], list[Row]]


def _fault(case: FaultCase) -> Callable[[Path], list[Row]]:
    return lambda scratch: [fault_row(case, scratch)]


SCENARIOS: tuple[Scenario, ...] = (
    *(Scenario("Faults from Telegram", case.name, _fault(case)) for case in FAULT_CASES),
    Scenario("Faults from Telegram", OUTAGE_NAME, lambda scratch: [outage_row(scratch)]),
    Scenario("Reload under load", "reload under load", reload_under_load),
    Scenario("Abuse and access", "admin commands and hostile updates", abuse_and_access),
    Scenario("Abuse and access", "rate-limit flood", flood),
    Scenario("Fairness", "busy groups, flooding users, anonymous admins, throughput", fairness),
    Scenario("Shutdown and restart", "SIGTERM while answering", shutdown_restart),
)


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="talksbot-telegram-reliability-") as folder:
        yield Path(folder)


def in_scratch(run: Callable[[Path], list[Row]]) -> Callable[[], list[Row]]:
    """A scenario as a function of nothing: it runs in a fresh scratch folder."""

    def go() -> list[Row]:
        with _scratch() as folder:
            return run(folder)

    return go


def scenarios() -> list[tuple[str, Callable[[], list[Row]]]]:
    """Every scenario as (table section, a function that runs it and returns its rows)."""
    return [(s.group, in_scratch(s.run)) for s in SCENARIOS]


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


HEADER = "| fault or input class | cases tried | answered | lost | duplicated | kept | note |"


def table(groups: list[tuple[str, list[Row]]]) -> str:
    """The rows as a Markdown table, by section."""
    lines = []
    for group, rows in itertools.groupby(groups, key=lambda g: g[0]):
        lines += ["", f"## {group}", "", HEADER, "|---|---:|---:|---:|---:|:---:|---|"]
        for _, batch in rows:
            for row in batch:
                kept = "yes" if row.kept else "**NO**: " + _cell("; ".join(row.problems))[:300]
                lines.append(
                    f"| {_cell(row.name)} | {row.tried:,} | {row.answered:,} | {row.lost:,} | {row.duplicated:,} "
                    f"| {kept} | {_cell(row.note)} |"
                )
    return "\n".join(lines).lstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios (all, or those whose name contains --only) and print the table; 1 if a row failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this text")
    args = parser.parse_args(argv)
    results = []
    for scenario in SCENARIOS:
        if args.only.casefold() in scenario.name.casefold():
            results.append((scenario.group, in_scratch(scenario.run)()))
    print(table(results), end="")
    return 0 if all(row.kept for _, rows in results for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
