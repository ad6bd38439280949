"""Fair sending on Telegram: whom the per-sender limit counts, and each group's sending budget.

Telegram lets a bot send about 20 messages a minute into one group. PTB's AIORateLimiter waits
for that budget inside the send, so a handler answering a busy group held one of the
application's concurrent-update slots for minutes and every other chat queued behind it.
ChatBudgets keeps the group budget here instead: a send the budget allows goes out at once,
one it does not is scheduled for when it will, and waits in the background, holding nothing
that other chats need. Nothing here talks to Telegram by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Update

# Telegram's limit for one group: about 20 messages a minute.
GROUP_MESSAGES_PER_MINUTE = 20
# The longest a group's answer may be scheduled ahead (two minutes of its budget); questions
# beyond that backlog are not answered, as Telegram would refuse the answers anyway.
GROUP_MAX_WAIT = 120.0


def sender_key(update: Update) -> int | None:
    """The id the per-sender limit counts for an update: the chat a message speaks for (an anonymous
    group admin, a channel), else the user who sent it, pressed the button or typed the inline query."""
    message = update.message or update.edited_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    user = update.effective_user
    if user is not None:
        return user.id
    return message.chat_id if message is not None else None


class ChatBudgets:
    """Each group's sending budget as a leaky bucket (a burst of `rate`, then one every period/rate).

    reserve() books the next free moment for a send and says how long to wait for it; private
    chats (positive ids) have no budget here (only the bot's overall rate, in PTB's limiter).
    Memory is bounded: buckets that have drained are forgotten, and at most `max_chats` are kept.
    """

    def __init__(
        self,
        rate: int = GROUP_MESSAGES_PER_MINUTE,
        period: float = 60.0,
        max_wait: float = GROUP_MAX_WAIT,
        max_chats: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Set the budget: `rate` messages per `period` seconds per group, booked at most max_wait ahead."""
        self.interval = period / rate
        self.burst = (rate - 1) * self.interval
        self.max_wait = max_wait
        self.max_chats = max_chats
        self._clock = clock
        self._due: OrderedDict[int, float] = OrderedDict()  # chat id -> theoretical arrival time
        self._closing: asyncio.Event | None = None

    def __len__(self) -> int:
        return len(self._due)

    def reserve(self, chat_id: int, *, keep: int = 0) -> float | None:
        """Book a send to a chat: seconds to wait before sending (0: now), or None if it would have to
        wait longer than max_wait (with keep=n: unless n more sends could still go at once)."""
        if chat_id > 0:
            return 0.0
        now = self._clock()
        due = max(self._due.get(chat_id, now), now)
        wait = max(0.0, due + keep * self.interval - self.burst - now)
        limit = 0.0 if keep else self.max_wait
        if wait > limit:
            return None
        self._due.pop(chat_id, None)
        self._due[chat_id] = due + self.interval
        self._forget(now)
        return max(0.0, due - self.burst - now)

    def _forget(self, now: float) -> None:
        """Drop drained buckets (the oldest first) and keep at most max_chats."""
        while self._due and (len(self._due) > self.max_chats or next(iter(self._due.values())) <= now):
            self._due.popitem(last=False)

    def close(self) -> None:
        """The bot is stopping: sends waiting for a budget give up now (see wait)."""
        self._event().set()

    async def wait(self, seconds: float) -> bool:
        """Sleep until a booked send may go; False if the bot began stopping meanwhile."""
        closing = self._event()
        if closing.is_set():
            return False
        try:
            await asyncio.wait_for(closing.wait(), seconds)
        except TimeoutError:
            return True
        return False

    def _event(self) -> asyncio.Event:
        if self._closing is None:
            self._closing = asyncio.Event()
        return self._closing
