"""Reloads requested from Telegram (/reload, SIGHUP), coalesced: one runs, at most one waits.

Each reload used to take a worker of the event loop's default thread pool and wait there for the
library's lock, so 30 SIGHUPs filled the pool and questions queued behind them. Here a reload
runs in a thread of its own; requests made while one runs share the single reload that follows
it (it sees every change made before they asked), and all its requesters get its result.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from bot.library import Library, ReloadResult

logger = logging.getLogger(__name__)


class Reloader:
    """Runs the library's reloads one at a time, off the event loop and off its default thread pool."""

    def __init__(self, library: Library) -> None:
        """Reload this library; the worker thread starts with the first reload."""
        self.library = library
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="talksbot-reload")
        self._next: asyncio.Future[ReloadResult] | None = None
        self._worker: asyncio.Task[None] | None = None
        self.runs = 0  # reloads actually carried out

    async def reload(self) -> ReloadResult:
        """Reload (or join the reload about to start) and return its result; logs it once."""
        return await asyncio.shield(self.request())

    def request(self) -> asyncio.Future[ReloadResult]:
        """Book a reload (or join the one booked) without waiting; its result is logged."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())
        return self._next

    async def _work(self) -> None:
        """Carry out the booked reloads until none is waiting."""
        loop = asyncio.get_running_loop()
        while self._next is not None:
            booked, self._next = self._next, None
            self.runs += 1
            try:
                result = await loop.run_in_executor(self._executor, self.library.reload)
            except Exception as exc:  # not a corpus problem (those come back as a result): report it
                logger.error("reload failed: %s", exc, exc_info=exc)
                booked.set_exception(exc)
                booked.exception()  # retrieved: a SIGHUP has nobody waiting for it
                continue
            if result.ok:
                logger.info("reloaded corpus: %s -> %s", result.before, result.after)
            else:
                logger.warning("reload refused, still serving %s: %s", result.before, result.error)
            booked.set_result(result)

    def close(self) -> None:
        """Let the worker thread go once its reload (if any) is done."""
        self._executor.shutdown(wait=False)


class StartupSignals:
    """Catches SIGHUP from before the corpus loads until the event loop takes over (see take()).

    Without it, a SIGHUP during start-up (`systemctl reload` during a restart) would kill the bot:
    the default action of SIGHUP is to terminate.
    """

    def __init__(self) -> None:
        """Install the catcher now (where the platform has SIGHUP)."""
        self.caught = False
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._catch)

    def _catch(self, signum: int, frame: FrameType | None) -> None:
        self.caught = True

    def take(self) -> bool:
        """Whether a SIGHUP came since the last take()."""
        caught, self.caught = self.caught, False
        return caught
