"""The Telegram adapter's small parts: per-user rate limit, button data, feedback, resends.

Nothing here talks to Telegram by itself; the handlers of this package use them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from telegram import Message, MessageEntity
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.library import fold

logger = logging.getLogger(__name__)

T = TypeVar("T")


# --- per-user rate limit --------------------------------------------------------------------------


Verdict = Literal["ok", "warn", "silent"]


@dataclass
class _Bucket:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False


class UserRateLimiter:
    """At most `limit` questions per user in any `window` seconds; memory bounded by `max_users`.

    check() says "ok" (count it), "warn" (the first refusal: say "slow down" once) or "silent"
    (ignore until the oldest question leaves the window). Refused questions are not counted, so
    a reader who keeps typing is not locked out for longer.
    """

    def __init__(
        self, limit: int, window: float = 60.0, max_users: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Set the limit; the least recently seen users are forgotten beyond max_users."""
        self.limit = limit
        self.window = window
        self.max_users = max_users
        self._clock = clock
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, user_id: int) -> Verdict:
        """Record a question from this user if allowed and say what to do with it."""
        now = self._clock()
        bucket = self._buckets.pop(user_id, None) or _Bucket()
        self._buckets[user_id] = bucket
        while len(self._buckets) > self.max_users:
            self._buckets.popitem(last=False)
        while bucket.times and bucket.times[0] <= now - self.window:
            bucket.times.popleft()
        if len(bucket.times) < self.limit:
            bucket.times.append(now)
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "silent"
        bucket.warned = True
        return "warn"


# --- what the buttons under an answer refer to ------------------------------------------------------


@dataclass
class Asked:
    """A question the bot answered, kept so its buttons can work: passages shown, votes, suggestions."""

    question: str
    chat_type: str
    passages: dict[int, str] = field(default_factory=dict)  # rank -> passage id shown
    suggestions: tuple[str, ...] = ()
    shown: bool = False  # the reply shows the question (asked by a button, not typed)
    voters: set[tuple[int, int]] = field(default_factory=set)  # (user id, rank)


class QuestionStore:
    """A bounded LRU of recent questions, keyed by a short random id that goes into callback data."""

    def __init__(self, capacity: int = 5000) -> None:
        """Keep at most `capacity` questions; the least recently used are forgotten first."""
        self.capacity = capacity
        self._items: OrderedDict[str, Asked] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, asked: Asked) -> str:
        """Store a question and return its key (8 URL-safe characters)."""
        key = secrets.token_urlsafe(6)
        while key in self._items:  # pragma: no cover - 48 random bits
            key = secrets.token_urlsafe(6)
        self._items[key] = asked
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Asked | None:
        """Return the question stored under key (marking it recently used), or None if forgotten."""
        asked = self._items.get(key)
        if asked is not None:
            self._items.move_to_end(key)
        return asked


Action = Literal["more", "up", "down", "ask"]
_CODES: dict[Action, str] = {"more": "m", "up": "u", "down": "d", "ask": "a"}
_ACTIONS = {code: action for action, code in _CODES.items()}
_DATA = re.compile(r"([muda]):(\d{1,2}):([A-Za-z0-9_-]{8})")


@dataclass(frozen=True)
class ButtonData:
    """What a button asks for: the action, a number (rank or suggestion) and the question's key."""

    action: Action
    number: int
    key: str

    def encode(self) -> str:
        """Return the callback data, e.g. 'm:1:Ab3dE_gH' (well under Telegram's 64 bytes)."""
        return f"{_CODES[self.action]}:{self.number}:{self.key}"

    @classmethod
    def parse(cls, data: str | None) -> ButtonData | None:
        """Return the button data, or None if it is not ours (tampered, old format, empty)."""
        match = _DATA.fullmatch(data or "")
        if match is None:
            return None
        return cls(_ACTIONS[match.group(1)], int(match.group(2)), match.group(3))


# --- groups: is the bot addressed? -------------------------------------------------------------------


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """Return the question in a group message addressed to the bot, or None if it is not addressed.

    Addressed means: it mentions @bot_username (the mention is removed from the question), names the
    bot by a text mention, or replies to one of the bot's messages.
    """
    text = message.text or ""
    mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    ours = [
        entity
        for entity, value in mentions.items()
        if (entity.type == MessageEntity.MENTION and value.casefold() == f"@{bot_username}".casefold())
        or (entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id)
    ]
    replied = message.reply_to_message
    if not ours and not (replied and replied.from_user and replied.from_user.id == bot_id):
        return None
    for entity in ours:
        text = text.replace(mentions[entity], " ")
    return " ".join(text.split())


# --- feedback --------------------------------------------------------------------------------------


# The question as kept with a vote: folded (no invisible padding) and cut to this many characters.
FEEDBACK_QUESTION_CHARS = 300
# When the log grows past this, it is renamed to FILE.1 (replacing the older one) and begun anew:
# at most about twice this on disk.
FEEDBACK_MAX_BYTES = 5_000_000


class FeedbackLog:
    """Appends one JSON object per vote to a JSON Lines file (thread-safe; call it off the loop).

    A record keeps what training needs (`talksbot train --feedback`): the question, the passage
    and the vote, plus the chat type and the time. The reader is not recorded: `voter` is a keyed
    hash of their id whose key lives only in this process, so votes can be told apart but not
    traced to a Telegram account, nor linked across restarts.
    """

    def __init__(self, path: Path, max_bytes: int = FEEDBACK_MAX_BYTES) -> None:
        """Write to `path`; its folder is created on the first vote."""
        self.path = path
        self.max_bytes = max_bytes
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()

    def append(self, *, user_id: int, chat_type: str, question: str, passage_id: str, vote: str) -> None:
        """Append one vote; raises OSError if the file cannot be written."""
        record: dict[str, Any] = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "voter": hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16],
            "chat_type": chat_type,
            "question": fold(question)[:FEEDBACK_QUESTION_CHARS],
            "passage_id": passage_id[:200],
            "vote": vote,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                if self.path.stat().st_size + len(line) > self.max_bytes:
                    self.path.replace(self.path.with_name(self.path.name + ".1"))
            except FileNotFoundError:
                pass
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)


# --- sending without losing or doubling an answer -------------------------------------------------


_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def safe_to_resend(exc: TelegramError) -> bool:
    """Say whether a failed request surely did not reach Telegram's chat, so sending again is safe.

    - The server answered with an error status such as 500 or 502 (a NetworkError with no httpx
      cause): Telegram did not send the message, so resending cannot double it.
    - The connection never carried the request (connect error or timeout, no free connection).
    Not resent: BadRequest (sending again fails again), Forbidden, RetryAfter (PTB's AIORateLimiter
    already waited and retried), and read timeouts or broken connections after the request went
    out: Telegram may well have delivered it, and a reader seeing the answer twice is worse than
    the rare lost answer, which the reader can ask again.
    """
    if not isinstance(exc, NetworkError) or isinstance(exc, BadRequest):
        return False
    cause = exc.__cause__
    return cause is None or isinstance(cause, (TelegramError, *_NEVER_SENT))


# Six tries, 0.5 s apart and doubling: a send rides out about 15 s of the API being away (a
# restart of Telegram's front or of a local Bot API server) instead of giving up after 1.5 s.
SEND_ATTEMPTS = 6


async def deliver(send: Callable[[], Awaitable[T]], what: str, attempts: int = SEND_ATTEMPTS, delay: float = 0.5) -> T:
    """Run a send, retrying it (up to `attempts` in all, backing off) only when safe_to_resend says so."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except NetworkError as exc:
            if attempt == attempts or not safe_to_resend(exc):
                raise
            logger.warning("%s failed (%s); sending again in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
