"""End to end: `talksbot telegram` as a subprocess, long polling a Bot API imitation on 127.0.0.1.

One bot runs for the whole module; each test uses its own user and chat ids. Expected answers come
from an in-process Library over the same corpus copy (an oracle, not a mock: the bot runs alone).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot import render
from bot.knowledge import Settings
from bot.library import Library
from tests.fake_bot_api import BOT_ID, BOT_USERNAME, Call, FakeBotAPI
from tests.telegram_harness import ADMIN_ID, ARTICLE_URL, InProcessBot, buttons, check_answer, second_document
from tests.telegram_html import parse_telegram_html

pytestmark = pytest.mark.timeout(120)

RATE_LIMIT = 20
_ids = itertools.count(70_001)


def new_user() -> int:
    """A user id no other test uses."""
    return next(_ids)


def new_group() -> dict[str, Any]:
    return {"id": -1_000_000_000_000 - next(_ids), "type": "supergroup", "title": "Test group"}


@pytest.fixture(scope="module")
def telegram_options() -> dict[str, Any]:
    """The per-sender limit low enough for a test to reach."""
    return {"rate_limit_per_minute": RATE_LIMIT}


@pytest.fixture(scope="module")
def oracle(corpus: Path) -> Library:
    return Library(corpus, Settings())


def reply_to(message: dict[str, Any]) -> Any:
    """A predicate for calls that reply to this message."""

    def matches(call: Call) -> bool:
        return (
            call.params.get("chat_id") == message["chat"]["id"]
            and (call.params.get("reply_parameters") or {}).get("message_id") == message["message_id"]
        )

    return matches


def in_chat(chat_id: int) -> Any:
    return lambda call: call.params.get("chat_id") == chat_id


def answer_to(api: FakeBotAPI, message: dict[str, Any], timeout: float = 10.0) -> Call:
    """Wait for the one successful reply to a message and return it."""
    calls = api.wait("sendMessage", lambda c: reply_to(message)(c) and c.ok, timeout=timeout)
    assert len(calls) == 1, calls
    return calls[0]


def reply_after(api: FakeBotAPI, message: dict[str, Any], timeout: float = 10.0) -> Call:
    """Wait for the first successful message the bot sent to this message's chat after it."""
    chat_id, after = message["chat"]["id"], message["message_id"]
    calls = api.wait("sendMessage", lambda c: c.ok and in_chat(chat_id)(c) and c.result["message_id"] > after)
    return calls[0]


def command(api: FakeBotAPI, user_id: int, text: str) -> str:
    """Send a command in a private chat and return the visible text of the bot's answer."""
    call = reply_after(api, api.private(user_id, text))
    parsed = parse_telegram_html(call.params["text"])
    assert not parsed.errors, parsed.errors
    return parsed.visible


def stats(api: FakeBotAPI) -> dict[str, int]:
    """The admin's /stats as numbers."""
    text = command(api, ADMIN_ID, "/stats")
    numbers = {
        "answered": r"Questions answered: (\d+)",
        "refused": r"Refusals: (\d+)",
        "message": r"message (\d+)",
        "another passage": r"another passage (\d+)",
        "inline": r"inline (\d+)",
        "up": r"👍 (\d+)",
        "down": r"👎 (\d+)",
        "documents": r"Corpus: (\d+) document",
    }
    found = {key: re.search(pattern, text) for key, pattern in numbers.items()}
    assert all(found.values()), text
    return {key: int(match.group(1)) for key, match in found.items() if match}


# --- start-up -----------------------------------------------------------------------------------------


def test_registers_commands_and_polls(api: FakeBotAPI, bot: InProcessBot) -> None:
    commands = api.wait("setMyCommands", count=2)
    public = [c for c in commands if not c.params.get("scope")]
    admin = [c for c in commands if (c.params.get("scope") or {}).get("chat_id") == ADMIN_ID]
    assert public and admin
    public_names = {c["command"] for c in public[0].params["commands"]}
    admin_names = {c["command"] for c in admin[0].params["commands"]}
    assert {"start", "help", "source", "ask"} <= public_names
    assert not {"reload", "stats"} & public_names
    assert {"reload", "stats"} <= admin_names
    assert api.find("deleteWebhook")  # long polling
    polls = api.find("getUpdates")
    assert set(polls[-1].params["allowed_updates"]) == {"message", "callback_query", "inline_query"}


# --- private chats -----------------------------------------------------------------------------------


def test_private_question_is_answered_with_excerpt_link_and_buttons(api: FakeBotAPI, bot: InProcessBot) -> None:
    user = new_user()
    message = api.private(user, "Who chaired the meeting?")
    call = answer_to(api, message)
    parsed = check_answer(call.params["text"])
    assert "Stoltenberg chaired" in parsed.visible
    assert "Stoltenberg chaired" in parsed.bold  # the best sentence is in bold
    assert call.params["parse_mode"] == "HTML"
    texts = [text for text, _ in buttons(call.params)]
    assert texts == ["Another passage", "👍", "👎"]
    assert all(len(data.encode()) <= 64 for _, data in buttons(call.params))
    # An answer ready in milliseconds shows no "typing…" (it would only spend sending budget).
    assert api.find("sendChatAction", in_chat(user)) == []
    assert len(api.find("sendMessage", in_chat(user))) == 1


def test_refusal_offers_suggestions_that_ask_them(api: FakeBotAPI, bot: InProcessBot, oracle: Library) -> None:
    user = new_user()
    message = api.private(user, "Do you have a recipe for borscht?")
    call = answer_to(api, message)
    parsed = parse_telegram_html(call.params["text"])
    assert not parsed.errors
    assert "does not cover" in parsed.visible
    assert not parsed.links
    expected = oracle.ask("Do you have a recipe for borscht?").suggestions
    offered = buttons(call.params)
    assert 2 <= len(offered) <= 3
    assert [text for text, _ in offered] == list(expected)

    refusal = call.result
    api.press(user, refusal, offered[0][1])
    asked = answer_to(api, refusal)
    shown = check_answer(asked.params["text"])
    assert shown.visible.startswith(f"❓ {expected[0]}")
    assert render.to_html(oracle.ask(expected[0])) in asked.params["text"]
    assert api.wait("answerCallbackQuery", lambda c: c.ok)


def test_another_passage_edits_the_next_best_into_the_message(
    api: FakeBotAPI, bot: InProcessBot, oracle: Library
) -> None:
    candidates = [
        "What did Stoltenberg say?",
        "What did NATO say about Russia?",
        "What happened in Brussels?",
        "Ukraine",
    ]
    question = next((q for q in candidates if oracle.ask(q, 1).found), None)
    assert question, f"none of {candidates} has two passages: pick questions for the current retrieval"
    before = stats(api)
    user = new_user()
    message = api.private(user, question)
    first = answer_to(api, message)
    sent = first.result
    data = dict(buttons(first.params))["Another passage"]
    for rank in range(1, 12):
        query_id = api.press(user, sent, data)
        answered = api.wait("answerCallbackQuery", lambda c, q=query_id: c.params["callback_query_id"] == q)
        expected = oracle.ask(question, rank)
        if not expected.found:
            assert "no other passage" in answered[0].params["text"]
            markup = api.wait("editMessageReplyMarkup", in_chat(user))[-1]
            assert [t for t, _ in buttons(markup.params)] == ["👍", "👎"]
            break
        edits = api.wait("editMessageText", in_chat(user), count=rank)
        edit = edits[-1]
        assert edit.params["message_id"] == sent["message_id"]
        check_answer(edit.params["text"])
        assert render.to_html(expected) == edit.params["text"]
        assert answered[0].params["text"] == f"Passage {rank + 1}"
        data = dict(buttons(edit.params))["Another passage"]
        sent = api.stored(user, sent["message_id"])
    else:
        pytest.fail("Another passage never ran out")
    assert rank >= 2  # at least one passage was edited in
    assert len(api.find("sendMessage", in_chat(user))) == 1
    after = stats(api)  # every press asked once, the last one refused ("no other passage")
    assert after["another passage"] - before["another passage"] == rank
    assert (after["answered"] - before["answered"], after["refused"] - before["refused"]) == (rank, 1)


def test_votes_are_written_to_the_feedback_file_and_counted(api: FakeBotAPI, bot: InProcessBot, folder: Path) -> None:
    before = stats(api)
    user, other = new_user(), new_user()
    message = api.private(user, "Who chaired the meeting?")
    call = answer_to(api, message)
    votes = dict(buttons(call.params))
    q1 = api.press(user, call.result, votes["👍"])
    q2 = api.press(user, call.result, votes["👍"])  # the same reader again: counted once
    q3 = api.press(other, call.result, votes["👎"])
    texts = {}
    for query_id in (q1, q2, q3):
        answered = api.wait("answerCallbackQuery", lambda c, q=query_id: c.params["callback_query_id"] == q)
        texts[query_id] = answered[0].params.get("text", "")
    assert "Thank you" in texts[q1] and "Thank you" in texts[q3]
    assert "already voted" in texts[q2]

    recorded = (folder / "feedback.jsonl").read_text(encoding="utf-8")
    assert str(user) not in recorded and str(other) not in recorded  # readers are not recorded
    lines = [json.loads(line) for line in recorded.splitlines()]
    mine = [line for line in lines if line["question"] == "Who chaired the meeting?"][-2:]
    assert sorted(m["vote"] for m in mine) == ["down", "up"] and mine[0]["voter"] != mine[1]["voter"]
    for line in mine:
        assert set(line) == {"time", "voter", "chat_type", "question", "passage_id", "vote"}
        assert line["question"] == "Who chaired the meeting?"
        assert line["chat_type"] == "private"
        assert line["passage_id"]
    after = stats(api)
    assert (after["up"] - before["up"], after["down"] - before["down"]) == (1, 1)
    assert after["answered"] >= before["answered"] + 1


def test_start_help_and_source(api: FakeBotAPI, bot: InProcessBot, oracle: Library) -> None:
    user = new_user()
    example = oracle.knowledge.corpus.documents[0].questions[0]
    start = command(api, user, "/start")
    assert "NATO and Russia agreed to talk more at Brussels talks" in start
    assert example in start
    help_text = command(api, user, "/help")
    assert "/ask" in help_text and f"@{BOT_USERNAME}" in help_text
    assert all(q in help_text for q in oracle.ask("borscht recipe").suggestions)
    assert "/reload" not in help_text  # not an admin
    source = command(api, user, "/source")
    assert "12 January 2022" in source and "Euromaidan Press" in source
    sent = api.find("sendMessage", in_chat(user))
    assert ARTICLE_URL in parse_telegram_html(sent[-1].params["text"]).links
    assert not sent[-1].params["link_preview_options"].get("is_disabled")  # /source shows the article card
    assert ARTICLE_URL in parse_telegram_html(sent[0].params["text"]).links


def test_ask_command_unknown_command_and_sticker_in_private(api: FakeBotAPI, bot: InProcessBot) -> None:
    user = new_user()
    asked = api.private(user, "/ask Who chaired the meeting?")
    assert "Stoltenberg chaired" in check_answer(answer_to(api, asked).params["text"]).visible
    empty = api.private(user, "/ask")
    assert "/ask" in parse_telegram_html(answer_to(api, empty).params["text"]).visible
    unknown = reply_after(api, api.private(user, "/frobnicate")).params["text"]
    assert "/frobnicate" in unknown and "/help" in unknown
    sticker = api.sticker(api.private_chat(user), user)
    hint = parse_telegram_html(answer_to(api, sticker).params["text"]).visible
    assert "text" in hint


def test_forged_or_expired_buttons_get_a_short_answer_and_change_nothing(api: FakeBotAPI, bot: InProcessBot) -> None:
    user = new_user()
    refusal = answer_to(api, api.private(user, "Do you have a recipe for borscht?"))
    key = buttons(refusal.params)[0][1].split(":")[2]
    cases = {
        "garbage": "no longer works",
        "m:1:zzzzzzzz": "expired",  # a key the bot never gave (or forgot, or gave before a restart)
        f"a:9:{key}": "no longer works",  # there is no tenth suggestion
        f"m:1:{key}": "no longer works",  # no passage was shown, so there is no next one
        f"u:0:{key}": "expired",  # nothing to vote on
    }
    for data, expected in cases.items():
        query_id = api.press(user, refusal.result, data)
        answered = api.wait("answerCallbackQuery", lambda c, q=query_id: c.params["callback_query_id"] == q)
        assert answered[0].ok and expected in answered[0].params["text"], data
    assert len(api.find("sendMessage", in_chat(user))) == 1
    assert not api.find("editMessageText", in_chat(user)) and not api.find("editMessageReplyMarkup", in_chat(user))


def test_start_help_deep_link_shows_the_help(api: FakeBotAPI, bot: InProcessBot) -> None:
    assert "How to ask" in command(api, new_user(), "/start help")


# --- groups ------------------------------------------------------------------------------------------


def test_group_is_silent_unless_addressed(api: FakeBotAPI, bot: InProcessBot) -> None:
    group = new_group()
    api.group_chat(group["id"])
    user = new_user()
    earlier = api.message(group, user, "Stoltenberg chaired it, I think")
    silent = [
        api.message(group, user, "Who chaired the meeting?"),
        api.message(group, user, "who chaired the meeting?", reply_to=earlier),  # a reply, but not to the bot
        api.message(group, user, "/ask@some_other_bot Who chaired the meeting?"),
        api.message(group, user, "/frobnicate"),
        api.sticker(group, user),
    ]
    addressed = [
        api.message(group, user, "/ask Who chaired the meeting?"),
        api.message(group, user, f"/ask@{BOT_USERNAME} Who chaired the meeting?"),
        api.message(group, user, f"@{BOT_USERNAME} who chaired the meeting?"),
        api.message(group, user, f"Tell me, @{BOT_USERNAME.upper()}, who chaired the meeting?"),
    ]
    answers = [answer_to(api, m) for m in addressed]
    for call in answers:
        assert "Stoltenberg chaired" in check_answer(call.params["text"]).visible
    bot_message = answers[0].result
    assert bot_message["from"]["id"] == BOT_ID
    reply = api.message(group, user, "And who chaired the meeting?", reply_to=bot_message)
    assert "Stoltenberg chaired" in check_answer(answer_to(api, reply).params["text"]).visible
    time.sleep(0.5)
    for message in silent:
        assert not api.find("sendMessage", reply_to(message)), message.get("text")
    assert len(api.find("sendMessage", in_chat(group["id"]))) == len(addressed) + 1
    assert not api.find("sendChatAction", in_chat(group["id"]))  # fast answers show no "typing…"


def test_mention_alone_gets_a_hint(api: FakeBotAPI, bot: InProcessBot) -> None:
    group = new_group()
    api.group_chat(group["id"])
    message = api.message(group, new_user(), f"@{BOT_USERNAME}")
    assert f"@{BOT_USERNAME}" in parse_telegram_html(answer_to(api, message).params["text"]).visible


# --- inline mode -------------------------------------------------------------------------------------


def test_inline_query_offers_the_best_three_passages(api: FakeBotAPI, bot: InProcessBot, oracle: Library) -> None:
    candidates = ["Stoltenberg", "What did Stoltenberg say?", "NATO Russia Ukraine", "Russia"]
    query = next((q for q in candidates if oracle.ask(q, 2).found), None)
    assert query, f"none of {candidates} has three passages: pick questions for the current retrieval"
    before = stats(api)
    query_id = api.inline(new_user(), query)
    call = api.wait("answerInlineQuery", lambda c: c.params["inline_query_id"] == query_id)[0]
    assert call.ok
    results = call.params["results"]
    assert len(results) == 3
    for rank, result in enumerate(results):
        assert result["type"] == "article"
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML"
        check_answer(content["message_text"])
        assert render.to_html(oracle.ask(query, rank)) in content["message_text"]
        assert result["description"]

    empty_id = api.inline(new_user(), "")
    examples = api.wait("answerInlineQuery", lambda c: c.params["inline_query_id"] == empty_id)[0]
    assert examples.ok and 1 <= len(examples.params["results"]) <= 3

    none_id = api.inline(new_user(), "recipe for borscht")
    nothing = api.wait("answerInlineQuery", lambda c: c.params["inline_query_id"] == none_id)[0]
    assert nothing.ok and nothing.params["results"] == []
    assert nothing.params["button"]["start_parameter"] == "help"
    after = stats(api)  # two questions asked inline (the empty query shows examples: nobody asked them)
    assert after["inline"] - before["inline"] == 2
    assert (after["answered"] - before["answered"], after["refused"] - before["refused"]) == (1, 1)


# --- admin -------------------------------------------------------------------------------------------


def test_admin_reload_reports_sizes(api: FakeBotAPI, bot: InProcessBot, oracle: Library) -> None:
    text = command(api, ADMIN_ID, "/reload")
    size = str(oracle.size)
    assert "Reloaded" in text
    assert f"Before: {size}" in text and f"Now: {size}" in text


def test_non_admin_reload_is_refused_and_changes_nothing(api: FakeBotAPI, bot: InProcessBot, corpus: Path) -> None:
    extra = second_document(corpus)
    try:
        user = new_user()
        assert "only the bot's admins" in command(api, user, "/reload")
        assert "only the bot's admins" in command(api, user, "/stats")
        assert stats(api)["documents"] == 1
    finally:
        extra.unlink()


def test_broken_corpus_on_reload_names_the_file_and_keeps_the_old_index(
    api: FakeBotAPI, bot: InProcessBot, corpus: Path
) -> None:
    broken = corpus / "zz-broken.md"
    broken.write_text("no front matter here\n", encoding="utf-8")
    try:
        text = command(api, ADMIN_ID, "/reload")
        assert "Reload failed" in text
        assert "zz-broken.md" in text and "front matter" in text
        assert "Still serving" in text
        message = api.private(new_user(), "Who chaired the meeting?")
        assert "Stoltenberg chaired" in check_answer(answer_to(api, message).params["text"]).visible
    finally:
        broken.unlink()


# --- flood control and failures ----------------------------------------------------------------------


def test_429_on_send_message_is_retried_and_delivered_once(api: FakeBotAPI, bot: InProcessBot) -> None:
    api.fail_next("sendMessage", 1, status=429, retry_after=1)
    message = api.private(new_user(), "Who chaired the meeting?")
    call = answer_to(api, message, timeout=15)
    check_answer(call.params["text"])
    attempts = api.find("sendMessage", reply_to(message))
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # it waited retry_after


def test_500_on_send_message_is_retried_and_delivered_once(api: FakeBotAPI, bot: InProcessBot) -> None:
    api.fail_next("sendMessage", 2, status=500)
    message = api.private(new_user(), "Who chaired the meeting?")
    call = answer_to(api, message, timeout=15)
    check_answer(call.params["text"])
    assert [c.status for c in api.find("sendMessage", reply_to(message))] == [500, 500, 200]


def test_rate_limit_says_slow_down_once_then_stays_silent(api: FakeBotAPI, bot: InProcessBot) -> None:
    user = new_user()
    messages = [api.private(user, f"Who chaired the meeting? ({i})") for i in range(RATE_LIMIT + 3)]
    api.wait("sendMessage", lambda c: in_chat(user)(c) and c.ok, count=RATE_LIMIT + 1, timeout=20)
    time.sleep(0.5)
    sent = api.find("sendMessage", lambda c: in_chat(user)(c) and c.ok)
    slow = [c for c in sent if "slow" in c.params["text"].casefold() or "faster" in c.params["text"]]
    assert len(slow) == 1
    assert len(sent) == RATE_LIMIT + 1
    answered = {c.params["reply_parameters"]["message_id"] for c in sent if c not in slow}
    assert len(answered) == RATE_LIMIT
    assert answered <= {m["message_id"] for m in messages}


def test_burst_of_500_questions_from_50_users_each_answered_once(api: FakeBotAPI, bot: InProcessBot) -> None:
    users = [new_user() for _ in range(50)]
    questions = ["Who chaired the meeting?", "Who led the Russian delegation?", "recipe for borscht"]
    started = time.monotonic()
    pushed = [api.private(users[i % 50], questions[i % 3]) for i in range(500)]
    wanted = {(m["chat"]["id"], m["message_id"]) for m in pushed}

    def ours(call: Call) -> bool:
        key = (call.params.get("chat_id"), (call.params.get("reply_parameters") or {}).get("message_id"))
        return call.ok and key in wanted

    api.wait("sendMessage", ours, count=500, timeout=90)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    sent = api.find("sendMessage", ours)
    per_message = Counter((c.params["chat_id"], c.params["reply_parameters"]["message_id"]) for c in sent)
    assert set(per_message) == wanted
    assert set(per_message.values()) == {1}
    by_id = {(m["chat"]["id"], m["message_id"]): m for m in pushed}
    for call in sent:
        question = by_id[(call.params["chat_id"], call.params["reply_parameters"]["message_id"])]["text"]
        covered = "borscht" not in question
        assert ("Euromaidan Press" in call.params["text"]) == covered
    print(f"burst: 500 questions answered in {elapsed:.1f} s")
