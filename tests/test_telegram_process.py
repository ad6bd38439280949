"""The bot as a process: start-up errors, signals (SIGHUP reloads, SIGTERM and SIGINT stop), webhook mode."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.common import TOKEN, copy_corpus, fake_token, free_port
from tests.fake_bot_api import BOT_USERNAME, FakeBotAPI
from tests.telegram_harness import (
    ADMIN_ID,
    BotProcess,
    check_answer,
    run_bot_once,
    second_document,
    write_telegram_config,
)
from tests.telegram_html import parse_telegram_html

pytestmark = pytest.mark.timeout(120)



@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A fresh Bot API imitation for each test (these tests count every call a process makes)."""
    with FakeBotAPI(TOKEN) as fake:
        yield fake


def test_missing_token_stops_with_one_line_on_how_to_get_one(api: FakeBotAPI, tmp_path: Path) -> None:
    config = write_telegram_config(tmp_path, api, copy_corpus(tmp_path))
    code, stdout, stderr = run_bot_once(config, None, tmp_path)
    assert code == 1
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: TELEGRAM_BOT_TOKEN is not set")
    assert "@BotFather" in lines[0]
    assert not api.calls  # it never talked to the API


def test_rejected_token_stops_with_one_line_and_does_not_print_it(api: FakeBotAPI, tmp_path: Path) -> None:
    config = write_telegram_config(tmp_path, api, copy_corpus(tmp_path))
    wrong = fake_token("AAAnotherFakeTokenNotKnownToTheFake")
    code, stdout, stderr = run_bot_once(config, wrong, tmp_path)
    assert code == 1
    assert "Error: Telegram rejected the token in TELEGRAM_BOT_TOKEN" in stderr.strip().splitlines()[-1]
    assert wrong not in stdout + stderr
    assert wrong.split(":")[1] not in stdout + stderr


def test_webhook_mode_without_a_secret_is_refused(api: FakeBotAPI, tmp_path: Path) -> None:
    port = free_port()
    webhook = {"url": f"http://127.0.0.1:{port}/telegram", "listen": "127.0.0.1", "port": port}
    config = write_telegram_config(tmp_path, api, copy_corpus(tmp_path), webhook=webhook)
    code, _, stderr = run_bot_once(config, TOKEN, tmp_path)
    assert code == 1
    assert "secret token" in stderr and stderr.startswith("Error: ")


def test_sighup_reloads_and_sigterm_stops_cleanly(api: FakeBotAPI, tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    bot = BotProcess(write_telegram_config(tmp_path, api, corpus), TOKEN, tmp_path)
    try:
        api.wait("getUpdates", timeout=30)
        second_document(corpus)
        bot.signal(signal.SIGHUP)
        bot.wait_output(r"reloaded corpus: 1 document, \d+ passages -> 2 documents, \d+ passages")
        message = api.private(ADMIN_ID, "/stats")
        reply = api.wait("sendMessage", lambda c: c.ok and c.params["chat_id"] == ADMIN_ID)[0]
        assert reply.params["reply_parameters"]["message_id"] == message["message_id"]
        assert "Corpus: 2 documents" in parse_telegram_html(reply.params["text"]).visible
    finally:
        started = time.monotonic()
        bot.signal(signal.SIGTERM)
        code = bot.wait(10)
    assert code == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in bot.output
    assert TOKEN.split(":")[1] not in bot.output


def test_logs_one_line_per_question_and_never_the_token(api: FakeBotAPI, tmp_path: Path) -> None:
    bot = BotProcess(write_telegram_config(tmp_path, api, copy_corpus(tmp_path)), TOKEN, tmp_path)
    try:
        api.wait("getUpdates", timeout=30)
        group = api.group_chat(-1_000_000_000_777)
        asked = [
            api.private(61_001, "Who chaired the meeting?"),
            api.private(61_002, "recipe for borscht"),
            api.message(group, 61_003, f"@{BOT_USERNAME} Who chaired the meeting?"),
        ]
        for message in asked:
            api.wait("sendMessage", lambda c, m=message: c.params.get("chat_id") == m["chat"]["id"])
        query_id = api.inline(61_004, "Who chaired the meeting?")
        api.wait("answerInlineQuery", lambda c: c.params["inline_query_id"] == query_id)
        bot.wait_output(r"question chat=inline")
    finally:
        assert bot.stop() == 0
    output = bot.output
    assert re.search(r"question chat=private latency_ms=\d+ found=True", output)
    assert re.search(r"question chat=private latency_ms=\d+ found=False", output)
    assert re.search(r"question chat=supergroup latency_ms=\d+ found=True", output)
    assert re.search(r"question chat=inline latency_ms=\d+ found=True", output)
    assert "DEBUG" in output  # the most talkative level was on
    assert TOKEN not in output
    assert TOKEN.split(":", 1)[1] not in output
    assert "HTTP Request:" not in output  # httpx's request lines (with the URL) are silenced
    assert "Traceback" not in output


def _post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _update(update_id: int, user_id: int, text: str, message_id: int) -> dict[str, Any]:
    chat = {"id": user_id, "type": "private", "first_name": "Reader"}
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": user_id, "is_bot": False, "first_name": "Reader"},
        "text": text,
    }
    return {"update_id": update_id, "message": message}


def test_webhook_mode_answers_only_requests_with_the_secret(api: FakeBotAPI, tmp_path: Path) -> None:
    port = free_port()
    secret = "webhook-secret-for-tests_1"
    url = f"http://127.0.0.1:{port}/telegram"
    webhook = {"url": url, "listen": "127.0.0.1", "port": port, "path": "telegram", "secret_token": secret}
    bot = BotProcess(write_telegram_config(tmp_path, api, copy_corpus(tmp_path), webhook=webhook), TOKEN, tmp_path)
    try:
        registered = api.wait("setWebhook", timeout=30)[0]
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == secret
        assert set(registered.params["allowed_updates"]) == {"message", "callback_query", "inline_query"}
        deadline = time.monotonic() + 15
        while True:  # the server may start listening just after setWebhook
            try:
                status = _post(url, _update(1, 5001, "Who chaired the meeting?", 11), secret)
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 200
        answer = api.wait("sendMessage", lambda c: c.ok and c.params["chat_id"] == 5001)[0]
        assert answer.params["reply_parameters"]["message_id"] == 11
        assert "Stoltenberg chaired" in check_answer(answer.params["text"]).visible

        assert _post(url, _update(2, 5002, "Who chaired the meeting?", 12), "wrong-secret") == 403
        assert _post(url, _update(3, 5003, "Who chaired the meeting?", 13), None) == 403
        # A huge body without the secret is refused from its Content-Length, before it is sent.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(
                b"POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 99614720\r\n\r\n" + b"{" * 1024
            )
            raw.settimeout(3)
            assert raw.recv(1024) is not None  # closed (or answered) at once, not waiting for 95 MiB
        time.sleep(1.0)
        assert not api.find("sendMessage", lambda c: c.params["chat_id"] in (5002, 5003))
        assert not api.find("sendChatAction", lambda c: c.params["chat_id"] in (5002, 5003))
        assert not api.find("getUpdates")  # no polling in webhook mode
    finally:
        started = time.monotonic()
        bot.signal(signal.SIGINT)  # Ctrl-C
        code = bot.wait(10)
    assert code == 0
    assert time.monotonic() - started < 5
    assert secret not in bot.output  # the webhook secret is redacted from the logs too
    assert TOKEN.split(":")[1] not in bot.output
