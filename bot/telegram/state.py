"""What the Telegram handlers share: the State kept in bot_data, and the handlers' types."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final

from telegram.ext import Application, ContextTypes

from bot.config import Config
from bot.library import Library
from bot.telegram.fairness import ChatBudgets
from bot.telegram.reload import Reloader, StartupSignals
from bot.telegram.support import FeedbackLog, QuestionStore, UserRateLimiter

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE
Notify = Callable[..., Awaitable[bool]]  # CallbackQuery.answer: a short text for the pressing reader
Spawn = Callable[[Coroutine[Any, Any, None]], object]  # Application.create_task: stop() waits for these
Done = Callable[[bool], None]  # told whether a reply went out, once it did or did not

Send = Callable[[], Awaitable[object]]

STATE_KEY: Final = "talksbot"
# The ways a reader asks, as /stats counts them (Library.ask and Library.rank take them as `via`).
ASKED_WAYS: Final = ("message", "another passage", "inline")


@dataclass
class State:
    """Everything the handlers share, kept in bot_data: the library and the adapter's own memory."""

    config: Config
    library: Library
    store: QuestionStore = field(default_factory=QuestionStore)
    limiter: UserRateLimiter = field(default_factory=lambda: UserRateLimiter(20))
    feedback: FeedbackLog | None = None
    votes: Counter[str] = field(default_factory=Counter)
    username: str = ""
    bot_id: int = 0
    budgets: ChatBudgets = field(default_factory=ChatBudgets)
    spawn: Spawn | None = None  # runs a send that waits for a group's budget, outside the update's slot
    reloader: Reloader | None = None
    startup_signals: StartupSignals | None = None  # SIGHUPs caught before the event loop ran

    @property
    def max_question_chars(self) -> int:
        """The longest question the answer engine takes."""
        return self.library.settings.max_question_chars

    def examples(self) -> tuple[str, ...]:
        """Questions the corpus answers, for /start, /help and empty inline queries (at most ten)."""
        documents = self.library.documents
        wanted = min(max(self.library.settings.suggestions, 1), 10)
        return tuple(q for doc in documents for q in doc.questions)[:wanted]

    def example(self) -> str:
        """One question the corpus answers."""
        return next(iter(self.examples()), "Who chaired the meeting?")


def state_of(context: Context) -> State:
    """The handlers' shared State, kept in bot_data."""
    state = context.bot_data[STATE_KEY]
    assert isinstance(state, State)
    return state


def reloader_of(state: State) -> Reloader:
    """The state's reload coordinator (made on first use)."""
    if state.reloader is None:
        state.reloader = Reloader(state.library)
    return state.reloader
