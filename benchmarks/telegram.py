"""The Telegram path: questions through the loopback Bot API imitation, beside a bare echo bot.

Both bots run as their own processes against tests/fake_bot_api.py (an HTTP server on 127.0.0.1
that talks like Telegram). Per-update latency is the time from an update being queued to the
bot's sendMessage for it, one question at a time; answers per second come from a burst of all
the questions at once. Without the imitation (or python-telegram-bot) the section is skipped and
says so.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import ROOT, Latency, percentiles, python_env

FAKE_BOT_API = ROOT / "tests" / "fake_bot_api.py"
UPDATES = 300
WARM_UP = 5
START_TIMEOUT = 60.0
REPLY_TIMEOUT = 30.0


@dataclass(frozen=True)
class TelegramResult:
    """Answers per second and per-update latency of talksbot and of a bare python-telegram-bot echo bot."""

    updates: int
    answers_per_s: float
    update: Latency
    echo_answers_per_s: float
    echo_update: Latency

    @property
    def ratio(self) -> float:
        """talksbot's p50 per-update time over the echo bot's (target: at most 1.2)."""
        return self.update.p50 / self.echo_update.p50


def measure_telegram(questions: Sequence[str], updates: int = UPDATES) -> TelegramResult | str:
    """Send `updates` questions through the imitation to talksbot and to an echo bot; or say why not."""
    if not FAKE_BOT_API.exists():
        return f"skipped: {FAKE_BOT_API.relative_to(ROOT)} is absent (it comes with the Telegram adapter)"
    try:
        import telegram  # noqa: F401  (the echo bot needs it; talksbot's telegram command too)
    except ImportError:
        return "skipped: python-telegram-bot is not installed"
    from tests.fake_bot_api import FakeBotAPI
    from tests.telegram_harness import fake_token

    asked = [questions[i % len(questions)] for i in range(updates)]
    token = fake_token()
    with tempfile.TemporaryDirectory(prefix="talksbot-telegram-bench-") as scratch:
        folder = Path(scratch)
        corpus = folder / "corpus"
        shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns(".*"))
        with FakeBotAPI(token) as api:
            config = _write_config(folder, api.base_url, corpus)
            command = [sys.executable, "-m", "bot", "--config", str(config), "telegram"]
            ours = _drive(api, command, token, folder / "talksbot.log", asked, first_user=1_000_000)
        with FakeBotAPI(token) as api:
            command = [sys.executable, "-m", "benchmarks.echo_bot", api.base_url]
            echo = _drive(api, command, token, folder / "echo.log", asked, first_user=2_000_000)
    return TelegramResult(updates, ours[1], ours[0], echo[1], echo[0])


def _write_config(folder: Path, base_url: str, corpus: Path) -> Path:
    """A config for talksbot against the imitation: production logging, no per-reader or sending limits."""
    path = folder / "config.yaml"
    path.write_text(
        f"corpus:\n  path: {corpus}\n"
        f"telegram:\n  api_base_url: {base_url}\n  feedback_path: {folder / 'feedback.jsonl'}\n"
        "  rate_limit_per_minute: 1000000\n  messages_per_second: 1000\n"
        "logging:\n  level: INFO\n",
        encoding="utf-8",
    )
    return path


def _drive(
    api: Any, command: list[str], token: str, log: Path, questions: Sequence[str], first_user: int
) -> tuple[Latency, float]:
    """Start a bot, ask the questions one at a time, then all at once; return its latency and answers/s."""
    env = python_env()
    env.update(TELEGRAM_BOT_TOKEN=token, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=log.parent, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            api.wait("getUpdates", timeout=START_TIMEOUT)
            user = first_user
            samples: list[int] = []
            for n, question in enumerate([*questions[:WARM_UP], *questions]):
                started = time.monotonic()
                api.private(user, question)
                reply = _replies(api, {user}, 1)[0]
                if n >= WARM_UP:
                    samples.append(round((reply.at - started) * 1e9))
                user += 1
            burst = set(range(user, user + len(questions)))
            started = time.monotonic()
            for reader, question in zip(sorted(burst), questions, strict=True):
                api.private(reader, question)
            replies = _replies(api, burst, len(burst))
            answers_per_s = len(burst) / max(max(r.at for r in replies) - started, 1e-9)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
    return percentiles(samples), answers_per_s


def _replies(api: Any, chats: set[int], count: int) -> list[Any]:
    """Wait for `count` sendMessage calls to these chats."""

    def to_them(call: Any) -> bool:
        return call.ok and int(call.params.get("chat_id", 0)) in chats

    try:
        return list(api.wait("sendMessage", where=to_them, count=count, timeout=REPLY_TIMEOUT + count * 0.2))
    except AssertionError as exc:
        raise RuntimeError(f"the bot did not answer: {exc}") from None
