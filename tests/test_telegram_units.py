"""Unit tests of the Telegram adapter's parts: redaction, rate limit, button data, groups, resends, config."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot import render
from bot.answer import Answer
from bot.config import file_url_for, load_config
from bot.errors import ConfigError, TalksbotError
from bot.logsafety import RedactingFilter, install_redaction
from bot.telegram.admin import duration
from bot.telegram.app import bot_token, on_error, webhook_secret
from bot.telegram.support import (
    Asked,
    ButtonData,
    FeedbackLog,
    QuestionStore,
    UserRateLimiter,
    addressed_text,
    deliver,
    safe_to_resend,
)
from tests.common import TOKEN

# --- redaction ----------------------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go to a string through a handler with the redaction filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter([TOKEN, "hook-secret"]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL])
def test_token_is_redacted_at_every_level(captured: tuple[logging.Logger, io.StringIO], level: int) -> None:
    logger, stream = captured
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    logger.log(level, f"HTTP Request: POST {url}")
    logger.log(level, "HTTP Request: POST %s %r", url, {"secret": "hook-secret"})
    logger.log(level, "only the secret half: %s", TOKEN.split(":")[1])
    try:
        raise ValueError(f"failed on {url}")
    except ValueError:
        logger.log(level, "with a traceback", exc_info=True, stack_info=True)
    text = stream.getvalue()
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert "hook-secret" not in text
    assert text.count("[REDACTED]") >= 5
    assert "https://api.telegram.org/bot[REDACTED]/getUpdates" in text
    assert "ValueError: failed on https://api.telegram.org/bot[REDACTED]/getUpdates" in text


def test_broken_format_strings_are_still_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("two %s %s but one argument", TOKEN)
    assert TOKEN not in stream.getvalue()
    assert "[REDACTED]" in stream.getvalue()


def test_install_redaction_covers_root_handlers_and_quiets_httpx() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        install_redaction(TOKEN)
        httpx_logger = logging.getLogger("httpx")
        httpx_logger.info("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
        httpx_logger.warning("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
        logging.getLogger("telegram.ext").debug("token %s", TOKEN)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        if logging.lastResort is not None:
            logging.lastResort.filters.clear()
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        logging.getLogger("httpcore").setLevel(logging.NOTSET)
    text = stream.getvalue()
    assert TOKEN not in text
    assert text.count("sendMessage") == 1  # the INFO line was silenced, the WARNING one redacted
    assert text.count("[REDACTED]") == 2


# --- rate limit ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_warns_once_then_is_silent_until_the_window_passes() -> None:
    clock = Clock()
    limiter = UserRateLimiter(3, window=60, clock=clock)
    assert [limiter.check(1) for _ in range(3)] == ["ok", "ok", "ok"]
    assert limiter.check(1) == "warn"
    assert limiter.check(1) == "silent"
    assert limiter.check(2) == "ok"  # other readers are not affected
    clock.now += 30
    assert limiter.check(1) == "silent"  # refused questions do not extend the wait
    clock.now += 30.5
    assert limiter.check(1) == "ok"
    assert limiter.check(1) == "ok"
    assert limiter.check(1) == "ok"
    assert limiter.check(1) == "warn"


def test_rate_limit_memory_is_bounded() -> None:
    limiter = UserRateLimiter(2, max_users=100)
    for user in range(10_000):
        limiter.check(user)
    assert len(limiter) == 100


# --- questions behind buttons -------------------------------------------------------------------------


def test_question_store_is_a_bounded_lru() -> None:
    store = QuestionStore(capacity=3)
    keys = [store.add(Asked(f"q{i}", "private")) for i in range(3)]
    assert store.get(keys[0]) is not None  # now the most recently used
    store.add(Asked("q3", "private"))
    assert len(store) == 3
    assert store.get(keys[1]) is None
    assert store.get(keys[0]) is not None and store.get(keys[2]) is not None


def test_button_data_round_trips_and_rejects_anything_else() -> None:
    key = QuestionStore().add(Asked("q", "private"))
    for action in ("more", "up", "down", "ask"):
        data = ButtonData(action, 12, key)  # type: ignore[arg-type]
        encoded = data.encode()
        assert len(encoded.encode()) <= 64
        assert ButtonData.parse(encoded) == data
    for bad in (None, "", "m:1", "x:1:abcdefgh", "m:-1:abcdefgh", "m:1:abc", "m:123:abcdefgh", "m:1:abcdefgh:x",
                "m:1:abcd<fgh", "more:1:abcdefgh", "m:1:abcdefgh\n"):
        assert ButtonData.parse(bad) is None, bad


# --- groups ------------------------------------------------------------------------------------------


def _message(text: str, entities: list[dict[str, Any]] | None = None, reply_from: int | None = None) -> Message:
    data: dict[str, Any] = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": -100, "type": "supergroup", "title": "G"},
        "from": {"id": 1, "is_bot": False, "first_name": "A"},
        "text": text,
        "entities": entities or [],
    }
    if reply_from is not None:
        data["reply_to_message"] = {
            "message_id": 4,
            "date": 0,
            "chat": data["chat"],
            "from": {"id": reply_from, "is_bot": reply_from == 99, "first_name": "B"},
            "text": "earlier",
        }
    return Message.de_json(data, None)


def test_group_messages_are_addressed_by_mention_text_mention_or_reply() -> None:
    def mention(offset: int, length: int) -> dict[str, Any]:
        return {"type": "mention", "offset": offset, "length": length}

    assert addressed_text(_message("who chaired?"), "talks_bot", 99) is None
    assert addressed_text(_message("@talks_bot who chaired?", [mention(0, 10)]), "talks_bot", 99) == "who chaired?"
    assert addressed_text(_message("@Talks_Bot who?", [mention(0, 10)]), "talks_bot", 99) == "who?"
    assert addressed_text(_message("@other_bot who?", [mention(0, 10)]), "talks_bot", 99) is None
    # offsets count UTF-16 units: the emoji takes two
    assert addressed_text(_message("😀 @talks_bot who?", [mention(3, 10)]), "talks_bot", 99) == "😀 who?"
    text_mention = {"type": "text_mention", "offset": 0, "length": 4, "user": {"id": 99, "is_bot": True,
                                                                             "first_name": "Talk"}}
    assert addressed_text(_message("Talk, who?", [text_mention]), "talks_bot", 99) == ", who?"
    assert addressed_text(_message("who?", reply_from=99), "talks_bot", 99) == "who?"
    assert addressed_text(_message("who?", reply_from=7), "talks_bot", 99) is None
    assert addressed_text(_message("@talks_bot", [mention(0, 10)]), "talks_bot", 99) == ""


# --- feedback ------------------------------------------------------------------------------------------


def test_feedback_log_appends_json_lines_without_the_reader(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    log.append(user_id=123456789, chat_type="private", question="Who “chaired”?", passage_id="doc#3", vote="up")
    log.append(user_id=987654321, chat_type="group", question="q", passage_id="doc#4", vote="down")
    log.append(user_id=123456789, chat_type="private", question="q2", passage_id="doc#5", vote="up")
    text = log.path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["vote"] for line in lines] == ["up", "down", "up"]
    assert lines[0]["question"] == 'Who "chaired"?'
    assert set(lines[0]) == {"time", "voter", "chat_type", "question", "passage_id", "vote"}
    assert "123456789" not in text and "987654321" not in text
    assert lines[0]["voter"] == lines[2]["voter"] != lines[1]["voter"]
    assert FeedbackLog(tmp_path / "other.jsonl")._key != log._key  # not linkable across restarts


def test_feedback_log_caps_questions_and_rotates(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "feedback.jsonl", max_bytes=2_000)
    padded = "Who chaired" + "\u200b" * 4000 + " the meeting?" + "x" * 5000
    for n in range(20):
        log.append(user_id=n, chat_type="private", question=padded, passage_id="doc#1", vote="up")
    kept = json.loads(log.path.read_text(encoding="utf-8").splitlines()[0])["question"]
    assert kept.startswith("Who chaired the meeting?") and len(kept) == 300
    assert log.path.stat().st_size <= 2_000
    assert (tmp_path / "feedback.jsonl.1").stat().st_size <= 2_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback.jsonl", "feedback.jsonl.1"]


# --- resending ------------------------------------------------------------------------------------------


def _caused(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


def test_which_failures_are_safe_to_send_again() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/")
    assert safe_to_resend(NetworkError("Internal Server Error"))  # Telegram answered 500: not sent
    assert safe_to_resend(NetworkError("Bad Gateway"))
    assert safe_to_resend(_caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused", request=request)))
    assert safe_to_resend(_caused(TimedOut("Pool timeout"), httpx.PoolTimeout("busy", request=request)))
    assert safe_to_resend(_caused(TimedOut(), httpx.ConnectTimeout("slow", request=request)))
    # ambiguous: the request went out, Telegram may have delivered it
    assert not safe_to_resend(_caused(TimedOut(), httpx.ReadTimeout("slow", request=request)))
    assert not safe_to_resend(_caused(NetworkError("x"), httpx.RemoteProtocolError("closed", request=request)))
    # not network trouble at all
    assert not safe_to_resend(BadRequest("can't parse entities"))
    assert not safe_to_resend(Forbidden("bot was blocked by the user"))


async def test_deliver_retries_only_safe_failures() -> None:
    outcomes: list[Exception | str] = [NetworkError("Internal Server Error"), NetworkError("Bad Gateway"), "sent"]
    calls = 0

    async def send() -> str:
        nonlocal calls
        calls += 1
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await deliver(send, "sendMessage", delay=0) == "sent"
    assert calls == 3

    calls = 0
    outcomes[:] = [BadRequest("can't parse entities"), "sent"]
    with pytest.raises(BadRequest):
        await deliver(send, "sendMessage", delay=0)
    assert calls == 1

    calls = 0
    outcomes[:] = [NetworkError("500")] * 3 + ["sent"]
    with pytest.raises(NetworkError):
        await deliver(send, "sendMessage", attempts=3, delay=0)
    assert calls == 3


# --- small things -------------------------------------------------------------------------------------------


def test_duration_is_short_and_human() -> None:
    assert duration(42.7) == "42 s"
    assert duration(303) == "5 min 03 s"
    assert duration(2 * 3600 + 7 * 60) == "2 h 07 min"
    assert duration(3 * 86400 + 4 * 3600 + 5) == "3 d 4 h"


def test_file_url_follows_the_api_url() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


def test_shorten_and_preview() -> None:
    assert render.shorten("a  b\nc", 10) == "a b c"
    assert render.shorten("word " * 50, 20) == "word word word word…"
    assert len(render.shorten("x" * 50, 20)) == 20
    refusal = Answer(question="q", found=False, reason="not-covered")
    assert render.preview(refusal) == "The article does not cover that."


def test_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(TalksbotError, match="BotFather"):
        bot_token()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not a token")
    with pytest.raises(TalksbotError, match="does not look like a bot token") as caught:
        bot_token()
    assert "not a token" not in str(caught.value)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", f"  {TOKEN}\n")
    assert bot_token() == TOKEN


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_webhook_needs_a_secret_from_config_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    config = load_config(_config(tmp_path, "telegram:\n  webhook:\n    url: https://bot.example.org/telegram\n"))
    with pytest.raises(TalksbotError, match="secret token"):
        webhook_secret(config)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "from-env_1")
    assert webhook_secret(config) == "from-env_1"
    polling = load_config(_config(tmp_path, "telegram:\n  admins: [1]\n"))
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    assert webhook_secret(polling) == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("telegram:\n  messages_per_second: 0\n", "messages_per_second"),
        ("telegram:\n  messages_per_second: 5000\n", "messages_per_second"),
        ("telegram:\n  webhook:\n    secret_token: 'has spaces'\n", "secret_token"),
        ("telegram:\n  webhook:\n    path: '/a b'\n", "path"),
        ("telegram:\n  webhook:\n    colour: blue\n", "telegram.webhook.colour"),
    ],
)
def test_telegram_config_is_validated(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_config(tmp_path, text))


# --- the error handler, with a fake bot -----------------------------------------------------------------


class _RecordingBot:
    """Stands in for the Bot behind a Message: records what would be sent."""

    defaults = None

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_message(self, *args: Any, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def _update(chat_type: str) -> tuple[Update, _RecordingBot]:
    chat = {"id": 5 if chat_type == "private" else -5, "type": chat_type, "title": "G", "first_name": "A"}
    data = {
        "update_id": 77,
        "message": {"message_id": 1, "date": 0, "chat": chat, "from": {"id": 5, "is_bot": False, "first_name": "A"},
                    "text": "question"},
    }
    update = Update.de_json(data, None)
    fake = _RecordingBot()
    assert update.message is not None
    update.message.set_bot(fake)  # type: ignore[arg-type]
    return update, fake


async def test_error_handler_logs_once_and_never_shows_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    update, fake = _update("private")
    caplog.set_level(logging.DEBUG, logger="bot.telegram.app")
    await on_error(update, SimpleNamespace(error=RuntimeError("boom")))  # type: ignore[arg-type]
    records = [r for r in caplog.records if r.name == "bot.telegram.app"]
    # The operator gets the traceback (as redacted text once the log filter has formatted it).
    assert len(records) == 1
    assert records[0].exc_info is not None or "RuntimeError: boom" in (records[0].exc_text or "")
    assert [m["text"] for m in fake.sent] == ["Sorry, something went wrong on my side; please try again."]

    caplog.clear()
    group_update, group_fake = _update("supergroup")
    await on_error(group_update, SimpleNamespace(error=RuntimeError("boom")))  # type: ignore[arg-type]
    assert not group_fake.sent  # groups are not disturbed

    caplog.clear()
    update, fake = _update("private")
    await on_error(update, SimpleNamespace(error=BadRequest("can't parse entities")))  # type: ignore[arg-type]
    records = [r for r in caplog.records if r.name == "bot.telegram.app"]
    assert len(records) == 1 and records[0].exc_info is None and "can't parse entities" in records[0].getMessage()
    assert not fake.sent  # sending failed: trying again to apologise would fail too
