"""Shared parts of the Telegram end-to-end tests: the fake token, configs, the bot subprocess, checks."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fake_bot_api import FakeBotAPI, ParsedHTML, parse_telegram_html

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
ARTICLE_URL = "https://euromaidanpress.com/2022/01/12/nato-and-russia-agreed-to-talk-more-at-brussels-talks/"
ADMIN_ID = 4242
PUBLISHER_LIMIT = 500


def fake_token(secret: str = "AAFakeTokenForTestsOnly") -> str:
    """A token shaped like a real one, assembled at run time (the repository must hold none)."""
    return "123456789" + ":" + (secret + "_abcdefghijklmnopqrstuvwxyz")[:35]


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_corpus(target: Path) -> Path:
    """A private copy of corpus/ that a test may break and mend."""
    shutil.copytree(CORPUS, target)
    return target


def second_document(corpus: Path) -> Path:
    """Add a second article (the first one under another title and address); return its path."""
    first = next(p for p in sorted(corpus.glob("*.md")))
    text = first.read_text(encoding="utf-8")
    text = text.replace("url: https://euromaidanpress.com/", "url: https://example.org/copy/", 1)
    text = text.replace("title: ", "title: Copy of ", 1)
    path = corpus / "zz-second.md"
    path.write_text(text, encoding="utf-8")
    return path


def write_config(
    folder: Path,
    api: FakeBotAPI,
    corpus: Path,
    admins: tuple[int, ...] = (ADMIN_ID,),
    level: str = "DEBUG",
    **telegram: Any,
) -> Path:
    """Write a config.yaml for a bot talking to the imitation, logging at DEBUG (sending at 1,000
    messages a second unless messages_per_second is given)."""
    telegram.setdefault("messages_per_second", 1000)
    lines = [
        "corpus:",
        f"  path: {corpus}",
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
        """Wait until the output matches a regular expression."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the bot's output:\n{self.output[-3000:]}")

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
