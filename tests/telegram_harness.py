"""Shared parts of the Telegram end-to-end tests: configs, the bot in this process or as a subprocess, checks.

InProcessBot runs the real python-telegram-bot Application on a thread of the test process, so
handler logic is tested without starting a process; BotProcess runs `talksbot telegram` for what
only a real process shows (signals, start-up, exit codes, everything the process prints)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.common import ARTICLE_URL, CORPUS
from tests.common import fake_token as fake_token  # benchmarks/telegram.py imports it from here
from tests.fake_bot_api import FakeBotAPI
from tests.telegram_html import ParsedHTML, parse_telegram_html

ADMIN_ID = 4242
PUBLISHER_LIMIT = 500


def second_document(corpus: Path) -> Path:
    """Add a second article (the first one under another title and address); return its path."""
    first = next(p for p in sorted(corpus.glob("*.md")))
    text = first.read_text(encoding="utf-8")
    text = text.replace("url: https://euromaidanpress.com/", "url: https://example.org/copy/", 1)
    text = text.replace("title: ", "title: Copy of ", 1)
    path = corpus / "zz-second.md"
    path.write_text(text, encoding="utf-8")
    return path


def write_telegram_config(
    folder: Path,
    api: FakeBotAPI,
    corpus: Path,
    admins: tuple[int, ...] = (ADMIN_ID,),
    level: str = "DEBUG",
    cache: str | None = None,
    **telegram: Any,
) -> Path:
    """Write a config.yaml for a bot talking to the imitation, logging at DEBUG (sending at 1,000
    messages a second unless messages_per_second is given); cache="" turns the index cache off."""
    telegram.setdefault("messages_per_second", 1000)
    lines = [
        "corpus:",
        f"  path: {corpus}",
        *([f"  cache: '{cache}'"] if cache is not None else []),
        "telegram:",
        f"  api_base_url: {api.base_url}",
        f"  admins: [{', '.join(str(a) for a in admins)}]",
        f"  feedback_path: {folder / 'feedback.jsonl'}",
    ]
    webhook = telegram.pop("webhook", None)
    lines += [f"  {key}: {value}" for key, value in telegram.items()]
    if webhook:
        lines.append("  webhook:")
        lines += [f"    {key}: {value}" for key, value in webhook.items()]
    lines += ["logging:", f"  level: {level}"]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bot_env(token: str | None) -> dict[str, str]:
    """The environment for the bot: the token (or none), no proxies for 127.0.0.1, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")}
    env.pop("TALKSBOT_CONFIG", None)
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    return env


def wait_for_output(
    output: Callable[[], str], pattern: str, timeout: float, running: Callable[[], bool]
) -> re.Match[str]:
    """Wait until a bot's output matches a regular expression; fail with its tail if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, output())
        if match:
            return match
        if not running():
            break
        time.sleep(0.05)
    raise AssertionError(f"no {pattern!r} in the bot's output:\n{output()[-3000:]}")


class BotProcess:
    """`talksbot --config CONFIG telegram` as a subprocess, its stdout and stderr captured to files."""

    def __init__(self, config: Path, token: str | None, folder: Path) -> None:
        self.stdout_path = folder / "bot.stdout"
        self.stderr_path = folder / "bot.stderr"
        self._stdout = self.stdout_path.open("wb")
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "telegram"],
            cwd=folder,
            env=bot_env(token),
            stdout=self._stdout,
            stderr=self._stderr,
        )

    @property
    def output(self) -> str:
        """Everything the bot wrote so far, stdout then stderr."""
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def wait_output(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until the output matches a regular expression (failing at once if the process exits)."""
        return wait_for_output(lambda: self.output, pattern, timeout, lambda: self.process.poll() is None)

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit; return its code (kill it and fail if it does not)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"the bot did not exit within {timeout} s:\n{self.output[-3000:]}") from None
        finally:
            self._stdout.close()
            self._stderr.close()

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait(timeout)


class InProcessBot:
    """The bot's real PTB Application in this process, on its own thread and event loop, long polling
    the Bot API imitation over HTTP on 127.0.0.1, as `talksbot telegram` does (its command menus set
    by post_init, its replies through the same rate limiter and retries). It starts in a fraction of
    the time a process takes, and a handler's failure shows its traceback in the test's log.

    `output` holds the log lines of the bot's own loggers (bot.*), formatted "LEVEL name: message".
    """

    def __init__(self, config: Path, token: str) -> None:
        from bot.config import load_config
        from bot.library import Library
        from bot.telegram.app import build_application

        settings = load_config(config)
        self.library = Library(settings.corpus.path, settings.answer, cache_dir=settings.corpus.cache_dir)
        self.application = build_application(settings, token, self.library)
        self._lines: list[str] = []
        self._handler = _Collector(self._lines)
        self._logger = logging.getLogger("bot")
        self._level = self._logger.level
        self._logger.addHandler(self._handler)
        self._logger.setLevel(logging.DEBUG)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="talksbot-in-process", daemon=True)
        self._thread.start()
        if not self._ready.wait(60) or self._failure is not None:
            self.stop()
            raise AssertionError(f"the in-process bot did not start: {self._failure!r}")

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by __init__ or stop()
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        """Start as Application.run_polling does (initialize, post_init, poll, start), wait, stop."""
        from bot.telegram.app import ALLOWED_UPDATES

        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        application = self.application
        updater = application.updater
        assert updater is not None
        await application.initialize()
        try:
            if application.post_init is not None:
                await application.post_init(application)
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
            await application.start()
            self._ready.set()
            await self._stopping.wait()
            await updater.stop()
            await application.stop()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
        finally:
            await application.shutdown()

    @property
    def output(self) -> str:
        """The bot's log lines so far."""
        return "\n".join(list(self._lines)) + "\n"

    def wait_output(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until the log matches a regular expression."""
        return wait_for_output(lambda: self.output, pattern, timeout, self._thread.is_alive)

    def stop(self, timeout: float = 30.0) -> int:
        """Stop polling and shut the application down; 0 if it stopped cleanly."""
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._level)
        if self._thread.is_alive():
            raise AssertionError("the in-process bot did not stop")
        return 0 if self._failure is None else 1


class _Collector(logging.Handler):
    """Keeps formatted log lines in a list."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def run_bot_once(config: Path, token: str | None, folder: Path, timeout: float = 30.0) -> tuple[int, str, str]:
    """Run the bot to completion (for start-up failures); return (code, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "telegram"],
        cwd=folder,
        env=bot_env(token),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr


def article_text() -> str:
    """The story text of the article (after its front matter)."""
    text = next(CORPUS.glob("*.md")).read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1]


def check_answer(text: str) -> ParsedHTML:
    """Assert a reply is a valid Telegram HTML answer: a quoted excerpt from the article, at most
    500 characters, then the attribution as a link to the article; return what it shows."""
    parsed = parse_telegram_html(text)
    assert not parsed.errors, parsed.errors
    assert len(parsed.visible) <= 4096
    assert ARTICLE_URL in parsed.links
    quoted = re.search(r"“(.*)”\n\n— ", parsed.visible, re.DOTALL)
    assert quoted, parsed.visible
    excerpt = quoted.group(1)
    assert len(excerpt) <= PUBLISHER_LIMIT
    article = " ".join(article_text().split())
    for piece in excerpt.split("…"):
        assert " ".join(piece.split()) in article, piece
    assert "Euromaidan Press, 12 January 2022" in parsed.visible
    return parsed


def buttons(call_params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (text, callback_data) of every inline button of a sent message."""
    markup = call_params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]
