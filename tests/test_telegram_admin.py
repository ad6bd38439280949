"""End to end: admins add, list and remove articles from Telegram, on the Bot API imitation with the real bot.

The bot runs as a subprocess over a scratch copy of the corpus; pages come as documents (served by
the imitation's getFile and file URL) or from a web server on 127.0.0.1 (allowed in this config).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.common import TOKEN
from tests.fake_bot_api import Call, FakeBotAPI
from tests.page_server import PAGES, PageServer, Route
from tests.telegram_harness import ADMIN_ID, ARTICLE_URL, InProcessBot, buttons
from tests.telegram_html import parse_telegram_html

pytestmark = pytest.mark.timeout(120)

HARBOUR = PAGES / "harbour-gazette-ferry.html"
EUROMAIDAN = PAGES / "euromaidan-nato-russia.html"
HARBOUR_URL = "https://harbourgazette.example/news/2023/05/04/kessel-island-ferry-returns"
_ids = itertools.count(91_001)


def new_reader() -> int:
    return next(_ids)


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    with PageServer() as server:
        yield server


@pytest.fixture(scope="module")
def telegram_options(api: FakeBotAPI) -> dict[str, Any]:
    """Documents served by the imitation, and pages fetched from the page server on 127.0.0.1."""
    extra = "import:\n  allow_private_addresses: true\n  timeout_seconds: 10\n"
    return {"api_file_url": api.file_url, "max_document_bytes": 200_000, "extra": extra}


def articles(corpus: Path) -> list[str]:
    return sorted(p.name for p in corpus.glob("*.md"))


def sent_after(api: FakeBotAPI, message: dict[str, Any], timeout: float = 20.0) -> Call:
    """The first message the bot sent to this message's chat after it."""
    chat_id, after = message["chat"]["id"], message["message_id"]

    def matches(call: Call) -> bool:
        return call.ok and call.params.get("chat_id") == chat_id and call.result["message_id"] > after

    return api.wait("sendMessage", matches, timeout=timeout)[0]


def edited(api: FakeBotAPI, sent: Call, timeout: float = 20.0) -> str:
    """The visible text the bot edited a sent message to (its outcome)."""
    message_id = sent.result["message_id"]
    calls = api.wait("editMessageText", lambda c: c.ok and c.params.get("message_id") == message_id, timeout=timeout)
    return visible(calls[0].params["text"])


def visible(text: str) -> str:
    parsed = parse_telegram_html(text)
    assert not parsed.errors, parsed.errors
    return parsed.visible


def press(api: FakeBotAPI, sent: Call, label: str, user: int = ADMIN_ID) -> None:
    data = dict(buttons(sent.params))[label]
    api.press(user, sent.result, data)


def ask(api: FakeBotAPI, question: str) -> Call:
    """A reader asks in a private chat; return the bot's answer."""
    return sent_after(api, api.private(new_reader(), question))


def preview_of(api: FakeBotAPI, message: dict[str, Any]) -> tuple[Call, str]:
    call = sent_after(api, message)
    return call, visible(call.params["text"])


def test_an_admins_page_is_previewed_added_and_answered_from(api: FakeBotAPI, bot: InProcessBot, corpus: Path) -> None:
    before = articles(corpus)
    message = api.document(ADMIN_ID, "ferry.html", HARBOUR.read_bytes())
    sent, text = preview_of(api, message)
    assert api.find("getFile") and api.find("downloadFile", lambda c: c.status == 200), (text, api.find("downloadFile"))
    assert "Council votes to bring back the Kessel Island ferry" in text
    assert "The Harbour Gazette, 4 May 2023" in text
    assert HARBOUR_URL in parse_telegram_html(sent.params["text"]).links
    assert re.search(r"\b\d+ passages\b", text)
    assert "The harbour council voted nine to four" in text
    assert len(text) <= 4096
    assert [label for label, _ in buttons(sent.params)] == ["Add to corpus", "Cancel"]
    assert articles(corpus) == before  # nothing written before "Add"

    press(api, sent, "Add to corpus")
    outcome = edited(api, sent)
    assert "Added" in outcome and "2 documents" in outcome, outcome
    assert "2023-05-04-council-votes-to-bring-back-the-kessel-island-ferry.md" in articles(corpus)

    answer = ask(api, "Who will run the Kessel Island ferry?")
    assert HARBOUR_URL in parse_telegram_html(answer.params["text"]).links
    old = ask(api, "Who chaired the meeting?")
    assert ARTICLE_URL in parse_telegram_html(old.params["text"]).links
    bot.wait_output(r"admin user=4242 action=add file='2023-05-04-council-votes[^']*' source='ferry\.html'")
    assert TOKEN not in bot.output


def test_cancel_changes_nothing(api: FakeBotAPI, bot: InProcessBot, corpus: Path) -> None:
    before = articles(corpus)
    page = HARBOUR.read_bytes().replace(b"kessel-island-ferry-returns", b"kessel-ferry-cancelled-copy")
    sent, _ = preview_of(api, api.document(ADMIN_ID, "copy.htm", page))
    press(api, sent, "Cancel")
    assert "Cancelled: nothing was added" in edited(api, sent)
    assert articles(corpus) == before
    press(api, sent, "Add to corpus")  # the preview's other button, pressed late, does nothing either
    api.wait("answerCallbackQuery", lambda c: "expired" in str(c.params.get("text")))
    assert articles(corpus) == before
    bot.wait_output(r"admin user=4242 action=cancel source='copy\.htm'")


def test_a_readers_document_is_never_downloaded(api: FakeBotAPI, bot: InProcessBot, corpus: Path) -> None:
    before = articles(corpus)
    reader = new_reader()
    message = api.document(reader, "story.html", HARBOUR.read_bytes())
    reply = visible(sent_after(api, message).params["text"])
    assert "I can only read text" in reply
    file_id = message["document"]["file_id"]
    assert api.find("getFile", lambda c: c.params.get("file_id") == file_id) == []
    assert articles(corpus) == before
    assert "only the bot's admins" in visible(sent_after(api, api.private(reader, "/add https://example.org/a")).params["text"])


def test_add_url_from_a_loopback_server(api: FakeBotAPI, bot: InProcessBot, corpus: Path, pages: PageServer) -> None:
    page = HARBOUR.read_bytes().replace(b"kessel-island-ferry-returns", b"kessel-ferry-second-look")
    page = page.replace(b"Council votes to bring back the Kessel Island ferry", b"Kessel ferry: a second look")
    pages.routes["/second-look"] = Route(page)
    sent, text = preview_of(api, api.private(ADMIN_ID, f"/add {pages.url('/second-look')}"))
    assert "Kessel ferry: a second look" in text and "The Harbour Gazette, 4 May 2023" in text
    before = len(articles(corpus))
    press(api, sent, "Add to corpus")
    outcome = edited(api, sent)
    assert "Added" in outcome, outcome
    assert len(articles(corpus)) == before + 1

    # The article the bot already serves, from its own page: refused, not overwritten.
    pages.page("/emp", EUROMAIDAN.name)
    original = (corpus / "2022-01-12-nato-russia-brussels-talks.md").read_text(encoding="utf-8")
    sent, _ = preview_of(api, api.private(ADMIN_ID, f"/add {pages.url('/emp')}"))
    press(api, sent, "Add to corpus")
    outcome = edited(api, sent)
    assert "Not added: this article is already in the corpus as 2022-01-12-nato-russia-brussels-talks.md" in outcome
    assert (corpus / "2022-01-12-nato-russia-brussels-talks.md").read_text(encoding="utf-8") == original
    assert len(articles(corpus)) == before + 1


def test_broken_files_give_one_line_and_the_old_corpus_keeps_answering(
    api: FakeBotAPI, bot: InProcessBot, corpus: Path
) -> None:
    before = articles(corpus)
    for name, data, words in [
        ("broken.md", b"---\ntitle: [unclosed\n---\nText.\n", "Not imported: not a usable corpus file: broken"),
        ("notes.pdf", b"%PDF-1.7", "Not imported: cannot import 'notes.pdf'"),
        ("copy.txt", b"Some page\nSome story.\n", "Not imported: a .txt page copy does not say its title"),
        ("empty.html", b"<html><body><nav>Home</nav></body></html>", "Not imported: no story text found"),
        ("big.html", b"<p>" + b"x" * 300_000 + b"</p>", "Not imported: the file is too large"),
    ]:
        message = api.document(ADMIN_ID, name, data)
        reply = visible(sent_after(api, message).params["text"])
        assert reply.startswith(words) and "\n" not in reply, reply
    big_id = message["document"]["file_id"]
    assert api.find("getFile", lambda c: c.params.get("file_id") == big_id) == []  # too large: not even asked for
    assert articles(corpus) == before
    answer = ask(api, "Who chaired the meeting?")
    assert ARTICLE_URL in parse_telegram_html(answer.params["text"]).links


def test_a_reload_that_fails_leaves_the_corpus_as_it_was(api: FakeBotAPI, bot: InProcessBot, corpus: Path) -> None:
    markdown = (
        "---\ntitle: Harbour notes\nurl: https://example.org/harbour-notes\npublisher: Example\n"
        "published: 2024-03-01\n---\nThe harbour master retired after forty years at the quay.\n"
    )
    sent, _ = preview_of(api, api.document(ADMIN_ID, "notes.md", markdown.encode(), mime_type="text/markdown"))
    broken = corpus / "zz-broken-by-hand.md"
    broken.write_text("no front matter here\n", encoding="utf-8")  # someone broke the folder meanwhile
    try:
        before = articles(corpus)
        press(api, sent, "Add to corpus")
        outcome = edited(api, sent)
        assert outcome.startswith("Not added: the corpus would not load with it") and "zz-broken-by-hand.md" in outcome
        assert articles(corpus) == before  # the new file was taken out again
    finally:
        broken.unlink()
    answer = ask(api, "Who chaired the meeting?")
    assert ARTICLE_URL in parse_telegram_html(answer.params["text"]).links


def test_list_and_remove_articles(api: FakeBotAPI, bot: InProcessBot, corpus: Path) -> None:
    markdown = (
        "---\ntitle: Lighthouse keeper retires\nurl: https://example.org/lighthouse\npublisher: Example\n"
        "published: 2024-03-02\n---\nThe last keeper of the Kessel lighthouse, Ada Trewin, retired on Friday.\n"
    )
    sent, _ = preview_of(api, api.document(ADMIN_ID, "lighthouse.md", markdown.encode()))
    press(api, sent, "Add to corpus")
    assert "Added" in edited(api, sent)
    count = len(articles(corpus))

    listing = visible(sent_after(api, api.private(ADMIN_ID, "/articles")).params["text"])
    assert f"{count} articles" in listing
    assert "Lighthouse keeper retires — 2 March 2024, 1 passage" in listing
    assert "NATO and Russia agreed to talk more at Brussels talks — 12 January 2022" in listing

    menu = sent_after(api, api.private(ADMIN_ID, "/remove"))
    labels = [label for label, _ in buttons(menu.params)]
    assert len(labels) == count and "2024-03-02 · Lighthouse keeper retires" in labels
    press(api, menu, "2024-03-02 · Lighthouse keeper retires")
    confirm = api.wait("editMessageText", lambda c: c.ok and c.params.get("message_id") == menu.result["message_id"])[0]
    assert "Remove Lighthouse keeper retires" in visible(confirm.params["text"])
    assert [label for label, _ in buttons(confirm.params)] == ["Remove", "Keep"]
    api.press(ADMIN_ID, menu.result, dict(buttons(confirm.params))["Remove"])
    menu_id = menu.result["message_id"]
    removed = api.wait(
        "editMessageText", lambda c: c.ok and "Removed" in c.params["text"] and c.params["message_id"] == menu_id
    )
    assert "Corpus now" in visible(removed[0].params["text"])
    assert "2024-03-02-lighthouse-keeper-retires.md" not in articles(corpus)
    assert len(articles(corpus)) == count - 1
    bot.wait_output(r"admin user=4242 action=remove file='2024-03-02-lighthouse-keeper-retires\.md'")

    reader = new_reader()
    refused = visible(sent_after(api, api.private(reader, "/articles")).params["text"])
    assert "only the bot's admins" in refused
