"""The bot token never reaches a log line, at any level, from any library (bot.logsafety)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import telegram
from telegram.request import HTTPXRequest

from bot.logsafety import REDACTED, RedactingFilter, install_redaction
from tests.faults import cli_env

TOKEN = "987654321:" + "AAFakeToken" + "ForTestsOnly-xyz_0123456789"  # split: no real-token shape in the source
SECRET_PART = TOKEN.split(":")[1]
WEBHOOK_SECRET = "webhook-secret-4b1d"


class _FakeBotApi(BaseHTTPRequestHandler):
    """Just enough of the Bot API: getMe answers, sendMessage fails with 500."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/getMe"):
            status = 200
            body: dict[str, Any] = {
                "ok": True,
                "result": {"id": 987654321, "is_bot": True, "first_name": "Talks", "username": "talks_bot"},
            }
        elif self.path.endswith("/getUpdates"):
            status, body = 200, {"ok": True, "result": []}
        else:
            status, body = 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # the request line holds the token
        logging.getLogger("fake_bot_api").debug(format, *args)


@pytest.fixture
def fake_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above, formatted as the CLI does, with redaction installed."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    root.setLevel(logging.DEBUG)
    redaction = install_redaction(TOKEN, WEBHOOK_SECRET)
    # install_redaction quiets httpx's request lines; let them through here to show the filter
    # itself redacts them, should anyone turn them back on.
    quieted = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    quiet_levels = [q.level for q in quieted]
    for q in quieted:
        q.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        for q, level in zip(quieted, quiet_levels, strict=True):
            q.setLevel(level)
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        for h in [handler, *saved_handlers, logging.lastResort]:
            if h is not None:
                h.removeFilter(redaction)


def assert_no_secret(text: str) -> None:
    for secret in (TOKEN, SECRET_PART, quote(TOKEN, safe=""), WEBHOOK_SECRET):
        assert secret not in text, f"{secret!r} leaked:\n" + "\n".join(
            line for line in text.splitlines() if secret in line
        )


async def test_a_real_run_logs_no_token_at_debug(fake_api: str, debug_log: io.StringIO) -> None:
    log = logging.getLogger("talksbot.test")
    # python-telegram-bot against the local imitation: it and httpx log the URLs with the token.
    bot = telegram.Bot(TOKEN, base_url=f"{fake_api}/bot", request=HTTPXRequest(connect_timeout=2, read_timeout=2))
    async with bot:
        me = await bot.get_me()
        await bot.get_updates(timeout=0)
        with pytest.raises(telegram.error.TelegramError) as failure:
            await bot.send_message(chat_id=1, text="hello")
    log.error("sendMessage failed: %s", failure.value, exc_info=failure.value)
    # httpx directly, a refused connection, and the token in every place a log call can put it.
    with httpx.Client(timeout=2) as client:
        client.get(f"{fake_api}/bot{TOKEN}/getMe")
        url = httpx.URL(f"http://127.0.0.1:9/bot{TOKEN}/getMe")
        try:
            client.get(url)
        except httpx.HTTPError as exc:
            log.warning("GET %s failed: %r", url, exc, exc_info=True)
    log.debug("token %s", TOKEN)
    log.info(f"f-string {TOKEN}")
    log.warning("mapping %(token)s", {"token": TOKEN})
    log.warning("quoted %s and webhook %s", quote(TOKEN, safe=""), WEBHOOK_SECRET)
    log.critical("stack", stack_info=True, extra={"note": "x"})
    try:
        raise RuntimeError(f"request to https://api.telegram.org/bot{TOKEN}/getUpdates failed")
    except RuntimeError:
        log.exception("polling error")
    log.error("broken format %s %s", TOKEN)  # a wrong argument count must not leak it either

    text = debug_log.getvalue()
    assert me.username == "talks_bot"
    assert "HTTP Request: POST" in text and "getMe" in text, text[:500]  # the URLs were logged …
    assert "DEBUG telegram" in text and "DEBUG httpcore" in text and "DEBUG fake_bot_api" in text
    assert "Traceback" in text and "RuntimeError: request to https://api.telegram.org/bot[REDACTED]" in text
    assert f"bot{REDACTED}/getMe" in text  # … with the token taken out, and everything else kept
    assert_no_secret(text)


def test_the_filter_redacts_records_in_place() -> None:
    redact = RedactingFilter([TOKEN, ""])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "url %s data %r", (f"/bot{TOKEN}/x", {"t": TOKEN}), None)
    assert redact.filter(record) is True
    assert record.getMessage() == f"url /bot{REDACTED}/x data {{'t': '{REDACTED}'}}"
    kept = "/getMe, 12:30, 2022-01-12"
    assert redact.redact(f"bot123456:ABCDEFGHIJKLMNOP{kept}") == f"bot{REDACTED}{kept}"
    assert redact.redact("some 1234567890:" + "A" * 35 + " other") == f"some {REDACTED} other"
    try:
        raise ValueError(TOKEN)
    except ValueError:
        exc_record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    redact.filter(exc_record)
    assert exc_record.exc_info is None and exc_record.exc_text is not None
    assert TOKEN not in logging.Formatter().format(exc_record) and "ValueError" in exc_record.exc_text


def test_install_is_idempotent_and_reaches_every_handler() -> None:
    handler = logging.StreamHandler(io.StringIO())
    other = logging.getLogger("talksbot.test.own_handler")
    other.addHandler(handler)
    try:
        first = install_redaction(TOKEN)
        second = install_redaction(WEBHOOK_SECRET)
        assert first is second and handler.filters.count(first) == 1
        assert logging.lastResort is not None and first in logging.lastResort.filters
        other.propagate = False
        other.warning("webhook %s", WEBHOOK_SECRET)
        stream = handler.stream
        assert isinstance(stream, io.StringIO)
        assert WEBHOOK_SECRET not in stream.getvalue() and REDACTED in stream.getvalue()
    finally:
        other.removeHandler(handler)
        other.propagate = True


def test_the_cli_installs_redaction_for_every_command(tmp_path: Path, config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + "logging:\n  level: DEBUG\n", encoding="utf-8")
    script = (
        "import logging, os, sys\n"
        "from bot.cli import main\n"
        "status = main(['--config', sys.argv[1], 'check'])\n"
        "token = os.environ['TELEGRAM_BOT_TOKEN']\n"
        "logging.getLogger('httpx').warning('HTTP Request: POST https://api.telegram.org/bot%s/getMe', token)\n"
        "logging.getLogger('bot').debug('secret %s', os.environ['TELEGRAM_WEBHOOK_SECRET'])\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(config_file)],
        env=cli_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"bot{REDACTED}/getMe" in done.stderr and f"secret {REDACTED}" in done.stderr
    assert_no_secret(done.stderr + done.stdout)
