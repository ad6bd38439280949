"""The Telegram bot's reliability: the real bot under faults from Telegram, reloads under load, abuse, SIGTERM.

Each test runs a scenario of tests/reliability_telegram.py (the bot as a subprocess, the Bot API
imitation on 127.0.0.1) and asserts on the very row the reliability report prints, so CI and
the report agree. Run one part with e.g. `pytest tests/test_telegram_reliability.py -k fault`.
"""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update
from telegram.error import Conflict, NetworkError

from bot.telegram.admin import is_admin
from bot.telegram.app import on_error
from bot.telegram.support import SEND_ATTEMPTS, UserRateLimiter
from tests.fake_bot_api import ANONYMOUS_ADMIN
from tests.reliability_telegram import (
    FAULT_CASES,
    FAULT_QUESTIONS,
    FLOOD,
    FLOOD_LIMIT,
    LOAD_QUESTIONS,
    RELOADS,
    FaultCase,
    Row,
    abuse_and_access,
    fairness,
    fault_row,
    flood,
    outage_row,
    reload_under_load,
    shutdown_restart,
    table,
)
from tests.telegram_harness import ADMIN_ID

pytestmark = [pytest.mark.timeout(240)]


def assert_kept(row: Row, lost: int = 0) -> None:
    """The row's own checks held, it lost only what is documented, and answered nothing twice."""
    assert row.kept, f"{row.name}: {row.problems}"
    assert row.lost == lost, row
    assert row.duplicated == 0, row
    assert row.answered + row.lost == row.tried, row


# --- faults from Telegram ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("case", FAULT_CASES, ids=lambda case: case.slug)
def test_fault_from_telegram(case: FaultCase, tmp_path: Path) -> None:
    row = fault_row(case, tmp_path)
    assert row.tried == FAULT_QUESTIONS
    assert_kept(row, lost=case.expect_lost)


def test_only_the_dropped_read_timeout_may_lose_answers() -> None:
    """The one documented loss: a request that went out and never came back (ambiguous) is not resent."""
    losing = [case for case in FAULT_CASES if case.expect_lost]
    assert [case.status for case in losing] == [0]
    assert losing[0].expect_lost == losing[0].times
    assert "ambiguous" in losing[0].note and "never answering twice" in losing[0].note


@pytest.mark.slow
def test_connection_refused_for_a_few_seconds(tmp_path: Path) -> None:
    row = outage_row(tmp_path)
    assert row.tried == FAULT_QUESTIONS
    assert_kept(row)


# --- reload under load -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_reload_under_load(tmp_path: Path) -> None:
    questions, broken, good, two_admins = reload_under_load(tmp_path)
    assert questions.tried == LOAD_QUESTIONS
    assert broken.tried + good.tried == RELOADS
    assert broken.tried == 7
    for row in (questions, broken, good, two_admins):
        assert_kept(row)


# --- abuse and access ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_admin_commands_and_hostile_updates(tmp_path: Path) -> None:
    access, hostile = abuse_and_access(tmp_path)
    assert access.tried >= 12 and hostile.tried >= 15
    assert_kept(access)
    assert_kept(hostile)


@pytest.mark.slow
def test_flood_from_one_user_does_not_starve_the_others(tmp_path: Path) -> None:
    readers, flooder = flood(tmp_path)
    assert readers.tried == 100
    assert_kept(readers)
    assert flooder.kept, flooder.problems
    assert flooder.tried == FLOOD
    assert flooder.answered == FLOOD_LIMIT + 1  # its answers, then one "slow down"
    assert flooder.duplicated == 0


@pytest.mark.slow
def test_no_chat_or_user_holds_back_the_others(tmp_path: Path) -> None:
    """Fairness: busy groups, a user flooding every kind of update, anonymous admins of two
    groups, private throughput, and a stop while a group's answers wait for its budget."""
    rows = fairness(tmp_path)
    for row in rows:
        assert row.kept, f"{row.name}: {row.problems}"
    assert [row.duplicated for row in rows] == [0] * len(rows)


def test_rate_limit_store_stays_bounded_under_a_flood() -> None:
    """One user's 300 messages cost one bucket of `limit` entries; a million users cost max_users buckets."""
    limiter = UserRateLimiter(FLOOD_LIMIT, max_users=1000)
    verdicts = [limiter.check(1) for _ in range(FLOOD)]
    assert verdicts.count("ok") == FLOOD_LIMIT and verdicts.count("warn") == 1
    assert len(limiter) == 1

    tracemalloc.start()
    try:
        for user in range(2, 20_000):
            limiter.check(user)
        small, _ = tracemalloc.get_traced_memory()
        for user in range(20_000, 200_000):
            limiter.check(user)
        large, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(limiter) == 1000
    assert large < small * 1.2 + 64 * 1024  # ten times the users, about the same memory


GROUP = {"id": -100123, "type": "supergroup", "title": "G"}


def _update(kind: str, user: dict[str, Any] | None, **extra: Any) -> Update:
    """An update of this kind carrying "/reload" from this user (None: no sender, as in a channel post)."""
    chat = GROUP if extra.get("sender_chat") else {"id": 5, "type": "private"}
    message: dict[str, Any] = {"message_id": 1, "date": 0, "chat": chat, "text": "/reload", **extra}
    if user is not None:
        message["from"] = user
    return Update.de_json({"update_id": 1, kind: message}, None)


def test_admin_rights_need_a_new_message_the_admin_sent_as_themselves() -> None:
    """Defence in depth: even if a handler's filters let an edit or a post through, it is not an admin's command."""
    admins = (ADMIN_ID, ANONYMOUS_ADMIN["id"])
    admin = {"id": ADMIN_ID, "is_bot": False, "first_name": "Admin"}
    group = GROUP
    assert is_admin(_update("message", admin), admins)
    assert not is_admin(_update("message", {**admin, "id": ADMIN_ID + 1}), admins)
    assert not is_admin(_update("edited_message", admin, edit_date=1), admins)
    assert not is_admin(_update("channel_post", None, sender_chat=group), admins)
    # GroupAnonymousBot is a bot, and speaks for a chat: never an admin, even if its id were configured.
    assert not is_admin(_update("message", ANONYMOUS_ADMIN, sender_chat=group), admins)
    assert not is_admin(_update("message", admin, sender_chat=group), admins)


async def test_polling_failures_are_one_line_and_a_conflict_says_what_to_do(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.telegram.app")
    context: Any = SimpleNamespace(error=NetworkError("httpx.ConnectError: All connection attempts failed"))
    await on_error(None, context)
    context.error = Conflict("Conflict: terminated by other getUpdates request")
    await on_error(None, context)
    records = [r for r in caplog.records if r.name == "bot.telegram.app"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.ERROR]
    assert all(r.exc_info is None for r in records)
    assert "retrying" in records[0].getMessage()
    assert "another instance is polling" in records[1].getMessage()


def test_sends_ride_out_a_few_seconds_of_outage() -> None:
    """deliver()'s back-off (0.5 s doubling) spans more than the outage the fault matrix imitates."""
    assert sum(0.5 * 2**i for i in range(SEND_ATTEMPTS - 1)) >= 15


# --- shutdown and restart ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_while_answering_then_restart(tmp_path: Path) -> None:
    (row,) = shutdown_restart(tmp_path)
    assert_kept(row)


# --- the report ---------------------------------------------------------------------------------------------------


def test_table_is_markdown_with_one_line_per_row() -> None:
    rows = [Row("a | b", 20, 17, 3, 0, "explained"), Row("c", 5, 5, 0, 0, "", ("bad",))]
    text = table([("Faults", rows)])
    lines = text.splitlines()
    assert lines[0] == "## Faults"
    assert lines[2].startswith("| fault or input class | cases tried |")
    assert "| a \\| b | 20 | 17 | 3 | 0 | yes | explained |" in lines
    assert any(line.startswith("| c | 5 | 5 | 0 | 0 | **NO**: bad") for line in lines)
