"""Hardening, from outside: odd corpora and odd taps cannot break replies; signals at start-up and in bursts.

The bot runs as a subprocess against the Bot API imitation, which answers as Telegram does: 400
"message is too long" for a text over 4,096 characters, 400 "message is not modified" for an edit
that changes nothing. One bot serves the module, over a corpus whose metadata cannot fit a reply.
"""

from __future__ import annotations

import itertools
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.common import TOKEN, copy_corpus
from tests.fake_bot_api import Call, FakeBotAPI
from tests.telegram_harness import ADMIN_ID, BotProcess, bot_env, buttons, write_telegram_config
from tests.telegram_html import parse_telegram_html

pytestmark = pytest.mark.timeout(120)

LONG_TITLE = "NATO and Russia agreed to talk more " * 140  # about 5,000 characters
LONG_QUESTION = "Who chaired the meeting " + "and who else was there " * 200 + "?"
EXTRA_DOCUMENTS = 40
_ids = itertools.count(90_001)


def long_corpus(folder: Path) -> Path:
    """The article under a 5,000-character title with a 4,600-character example question, and 40 copies."""
    corpus = copy_corpus(folder)
    article = next(corpus.glob("*.md"))
    text = article.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^title: .*$", f"title: {LONG_TITLE.strip()}", text, count=1)
    text = text.replace("questions:\n", f"questions:\n- {LONG_QUESTION}\n", 1)
    article.write_text(text, encoding="utf-8")
    for i in range(EXTRA_DOCUMENTS):
        copy = text.replace("url: https://euromaidanpress.com/", f"url: https://example.org/copy{i}/", 1)
        (corpus / f"copy-{i:02d}.md").write_text(copy, encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def corpus(folder: Path) -> Path:
    """The long-titled article and its 40 copies."""
    return long_corpus(folder)


@pytest.fixture(scope="module")
def telegram_options() -> dict[str, Any]:
    """No per-sender limit in reach, and no index cache: every load and reload indexes the 41 articles."""
    return {"rate_limit_per_minute": 1000, "cache": ""}


def replies(api: FakeBotAPI, chat_id: int, after: int) -> list[Call]:
    """The bot's sendMessage calls into a chat after a message id (delivered or refused)."""
    return api.find(
        "sendMessage",
        lambda c: c.params.get("chat_id") == chat_id and (c.result or {}).get("message_id", after + 1) > after,
    )


def test_long_titles_examples_and_many_articles_never_break_a_reply(api: FakeBotAPI, bot_process: BotProcess) -> None:
    user = next(_ids)
    for text in ("/start", "/help", "/source", "Who chaired the meeting?", "recipe for borscht"):
        api.private(user, text)
    api.wait("sendMessage", lambda c: c.params.get("chat_id") == user, count=6, timeout=20)
    time.sleep(1.0)
    sent = api.find("sendMessage", lambda c: c.params.get("chat_id") == user)
    refused = [c.response.get("description") for c in sent if not c.ok]
    assert refused == []
    shown = [parse_telegram_html(c.params["text"]).visible for c in sent]
    assert any(s.startswith("I answer questions about one news story") for s in shown)  # /start
    assert any("Example questions" in s for s in shown)  # /help
    assert sum(c.params["text"].count('href="https://example.org/copy') for c in sent) >= EXTRA_DOCUMENTS  # /source
    assert any("Stoltenberg chaired" in s for s in shown)  # the answer
    assert any("You could ask" in s for s in shown)  # the refusal with suggestions
    assert all(len(s.encode("utf-16-le")) // 2 <= 4096 for s in shown)


def test_check_warns_about_metadata_a_reply_cannot_show_whole(corpus: Path, folder: Path) -> None:
    config = folder / "check.yaml"
    config.write_text(f"corpus:\n  path: {corpus}\n  cache: ''\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "check"],
        env=bot_env(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"Warning: .*: title is 5,\d{3} characters; Telegram replies show the first 200", done.stdout)
    assert "example question 1 is" in done.stdout


def test_double_tap_on_another_passage_answers_both_taps(api: FakeBotAPI, bot_process: BotProcess) -> None:
    user = next(_ids)
    message = api.private(user, "Who chaired the meeting?")
    answer = api.wait("sendMessage", lambda c: c.ok and c.params.get("chat_id") == user)[0]
    more = dict(buttons(answer.params))["Another passage"]
    before = len(bot_process.output)
    taps = [api.press(user, answer.result, more) for _ in range(2)]
    calls = api.wait("answerCallbackQuery", lambda c: c.params.get("callback_query_id") in taps, count=2)
    assert all(c.ok for c in calls)
    assert {c.params.get("text") for c in calls} == {"Passage 2"}
    assert " ERROR " not in bot_process.output[before:], bot_process.output[before:]
    assert message["message_id"] < answer.result["message_id"]


def test_pins_and_auto_delete_timers_get_no_reply(api: FakeBotAPI, bot_process: BotProcess) -> None:
    user = next(_ids)
    chat = api.private_chat(user)
    pinned = {"message_id": 1, "date": 0, "chat": chat, "text": "an old answer"}
    first = api.message(chat, user, None, pinned_message=pinned)
    api.message(chat, user, None, message_auto_delete_timer_changed={"message_auto_delete_time": 86400})
    sticker = api.sticker(chat, user)  # a real non-text message still gets the hint, after them
    api.wait("sendMessage", lambda c: c.ok and c.params.get("chat_id") == user)
    sent = replies(api, user, first["message_id"] - 1)
    assert [c.params["reply_parameters"]["message_id"] for c in sent] == [sticker["message_id"]]


def test_thirty_sighups_coalesce_and_questions_flow(api: FakeBotAPI, bot_process: BotProcess) -> None:
    before = bot_process.output.count("reloaded corpus")
    asked_before = bot_process.output.count("SIGHUP: reloading")
    for _ in range(30):
        bot_process.signal(signal.SIGHUP)
        time.sleep(0.005)
    user = next(_ids)
    asked = time.monotonic()
    api.private(user, "Who chaired the meeting?")
    answer = api.wait("sendMessage", lambda c: c.ok and c.params.get("chat_id") == user, timeout=10)[0]
    assert answer.at - asked < 2.0
    bot_process.wait_output(r"reloaded corpus", timeout=30)
    time.sleep(3.0)
    reloads = bot_process.output.count("reloaded corpus") - before
    requests = bot_process.output.count("SIGHUP: reloading") - asked_before
    # One reload runs, at most one waits: a burst of SIGHUPs (the kernel may merge some) over about
    # two reloads' time costs a few reloads, not one each.
    assert 1 <= reloads <= 4, (reloads, requests)
    assert reloads < requests or requests <= 4
    assert bot_process.process.poll() is None


def test_sighup_during_start_up_reloads_once_running(api: FakeBotAPI, folder: Path, corpus: Path) -> None:
    scratch = folder / "startup"
    scratch.mkdir()
    config = write_telegram_config(scratch, api, corpus, admins=(ADMIN_ID,), cache="")
    process = BotProcess(config, TOKEN, scratch)
    try:
        process.wait_output(r"loading the corpus", timeout=30)
        process.signal(signal.SIGHUP)
        process.wait_output(r"SIGHUP came during start-up: reloading the corpus", timeout=60)
        process.wait_output(r"reloaded corpus", timeout=60)
        assert process.process.poll() is None
    finally:
        assert process.stop(timeout=20) == 0
