"""Importing articles: web pages of two layouts from files and from a loopback server, text copies, corpus files.

Story paragraphs in, the site's furniture out, metadata right; addresses on local networks refused
unless allowed; the limits of a download (size, time, redirects, content type) hold.
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import pytest

from bot.corpus import load_corpus, parse_document
from bot.errors import FetchError, ImportPageError, OutputExists
from bot.fetch import FetchSettings, fetch, is_public
from bot.importer import Article, Overrides, article_from_html, import_source, kind_of, slug
from bot.storage import add_to_corpus, write_atomic
from tests.page_server import PAGES, PageServer, Route

EUROMAIDAN = PAGES / "euromaidan-nato-russia.html"
HARBOUR = PAGES / "harbour-gazette-ferry.html"
EUROMAIDAN_URL = "https://euromaidanpress.com/2022/01/12/nato-and-russia-agreed-to-talk-more-at-brussels-talks/"
HARBOUR_URL = "https://harbourgazette.example/news/2023/05/04/kessel-island-ferry-returns"
SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"
LOCAL = FetchSettings(allow_private=True, timeout=10)

# Text each page shows around the story: navigation, cookie banner, appeals, related posts, comments, shares.
EUROMAIDAN_FURNITURE = (
    "We use cookies", "Privacy policy", "Copyright", "International Renaissance Foundation", "Support us",
    "Analysis", "Search", "Share on Facebook", "Tweet", "Read also", "An ultimatum in any language",
    "Further reading", "Geneva talks with no breakthrough", "security guarantees", "You could close this page",
    "cup of coffee", "Patron", "correction", "Ctrl + Enter", "Tags", "ad blocker", "Related Posts",
    "OSCE talks in Vienna", "cyberattack", "responses", "Talks with the Kremlin never lead anywhere",
    "Would love a follow-up", "most important sentence", "Leave a Reply", "500-character extract",
    "Subscribe", "All rights reserved", "Yuri Zoria", "Home",
)
HARBOUR_FURNITURE = (
    "cookies", "Accept all", "Sport", "Weather", "Log in", "Transport", "Marta Oyelaran", "Facebook",
    "WhatsApp", "Harbour Morning briefing", "newsletter", "Sign me up", "Timetable and fares",
    "Related:", "Harbour wall repairs delayed again", "Spotted a mistake", "Email this story",
    "Support The Harbour Gazette", "Comments", "seagull42", "My gran", "Fix the wall first", "Most read",
    "Lifeboat crew", "bakery", "Regatta", "Advertisement", "Registered in England", "Cookie settings",
)


def _body(article: Article) -> str:
    return "\n\n".join(article.paragraphs)


def test_a_page_like_the_articles_own_keeps_the_story_and_its_metadata() -> None:
    article = import_source(EUROMAIDAN.read_bytes(), "html")
    assert article.title == "NATO and Russia agreed to talk more at Brussels talks"
    assert article.url == EUROMAIDAN_URL  # the canonical address
    assert article.publisher == "Euromaidan Press"
    assert article.published == "2022-01-12"
    body = _body(article)
    assert article.paragraphs[0].startswith("On 12 January 2022 at NATO headquarters in Brussels")
    assert "Stoltenberg chaired the meeting" in body
    assert "expressed the need to dialogue and explore a schedule of future meetings" in body  # the blockquote
    assert "of course Russia does not have a veto" in body
    assert article.paragraphs[-1].endswith("to make concessions.")
    for junk in EUROMAIDAN_FURNITURE:
        assert junk not in body, junk
    assert len(article.passages()) >= 8


def test_a_page_of_another_layout_keeps_the_story_and_its_metadata() -> None:
    article = import_source(HARBOUR.read_bytes(), "html")
    assert article.title == "Council votes to bring back the Kessel Island ferry"  # without "| The Harbour Gazette"
    assert article.url == HARBOUR_URL
    assert article.publisher == "The Harbour Gazette"
    assert article.published == "2023-05-04"
    body = _body(article)
    assert article.paragraphs[0].startswith("The harbour council voted nine to four")
    assert "run by Brindle Marine" in body
    assert "A single adult fare will cost £3.50" in body
    assert article.paragraphs[-1] == (
        "Brindle Marine said it would buy a 60-seat catamaran and hire six crew from the area."
    )
    for junk in HARBOUR_FURNITURE:
        assert junk not in body, junk


def test_the_markdown_is_a_corpus_file_that_loads(tmp_path: Path) -> None:
    article = import_source(HARBOUR.read_bytes(), "html")
    (tmp_path / article.file_name()).write_text(article.to_markdown(), encoding="utf-8")
    corpus = load_corpus(tmp_path)
    (doc,) = corpus.documents
    assert doc.doc_id == "2023-05-04-council-votes-to-bring-back-the-kessel-island-ferry"
    assert (doc.title, doc.url, doc.publisher, doc.published) == (
        article.title, article.url, article.publisher, article.published,
    )


def test_overrides_replace_what_the_page_says() -> None:
    overrides = Overrides(url="https://example.org/ferry", title="Ferry back", published="2023-05-05", publisher="HG")
    article = import_source(HARBOUR.read_bytes(), "html", overrides)
    assert (article.url, article.title, article.published, article.publisher) == (
        "https://example.org/ferry", "Ferry back", "2023-05-05", "HG",
    )


def test_a_page_without_a_date_asks_for_one() -> None:
    paragraph = b"<p>Nothing happened today at all, said everyone who was asked about it.</p>"
    page = b"<html><head><title>Quiet day</title></head><body><article>" + paragraph * 5 + b"</article></body></html>"
    with pytest.raises(ImportPageError, match="no publication date; give it with --published"):
        article_from_html(page, fetched_from="https://example.org/quiet")
    article = article_from_html(page, Overrides(published="2024-02-03"), fetched_from="https://example.org/quiet")
    assert article.url == "https://example.org/quiet" and article.published == "2024-02-03"


@pytest.mark.parametrize(
    "page", [b"", b"   ", b"\x89PNG\r\n\x1a\n\x00\x00binary", b"<html><body><nav>Home</nav></body></html>"]
)
def test_what_is_not_an_article_page_is_refused_in_one_line(page: bytes) -> None:
    with pytest.raises(ImportPageError) as caught:
        import_source(page, "html", Overrides(url="https://example.org/x", title="T", published="2024-01-01"))
    assert "\n" not in str(caught.value)


def test_a_corpus_file_is_validated_and_normalised() -> None:
    messy = (
        "---\r\ntitle: '  A   story '\r\nurl: https://example.org/a\r\npublisher: Ex\r\npublished: 2024-01-02\r\n"
        "questions:\r\n- What happened?\r\n---\r\n\r\nFirst   paragraph\r\nwraps here.\r\n\r\n\r\n\r\nSecond one.\r\n"
    )
    article = import_source(messy.encode(), "md")
    assert article.title == "A story"
    assert article.paragraphs == ("First paragraph wraps here.", "Second one.")
    assert article.questions == ("What happened?",)
    assert parse_document(article.to_markdown(), "a", "a.md").questions == ("What happened?",)
    with pytest.raises(ImportPageError, match="missing 'url'"):
        import_source(b"---\ntitle: T\npublisher: P\npublished: 2024-01-02\n---\nText.\n", "md")
    with pytest.raises(ImportPageError, match="not UTF-8"):
        import_source(b"---\ntitle: \xff\n---\n", "md")


@pytest.mark.skipif(not SEED.exists(), reason="shared/seed is not beside this checkout")
def test_a_text_copy_still_imports_with_title_url_and_date_given() -> None:
    raw = next(SEED.glob("*.txt")).read_bytes()
    with pytest.raises(ImportPageError, match="--title, --url, --published"):
        import_source(raw, "txt")
    title = "NATO and Russia agreed to talk more at Brussels talks"
    article = import_source(raw, "txt", Overrides(url=EUROMAIDAN_URL, title=title, published="2022-01-12"))
    assert article.publisher == "Euromaidan Press"
    assert "Stoltenberg chaired the meeting" in _body(article)
    assert "cup of coffee" not in _body(article)


def test_file_kinds_and_names() -> None:
    assert [kind_of(n) for n in ("a.html", "B.HTM", "c.txt", "d.md")] == ["html", "html", "txt", "md"]
    with pytest.raises(ImportPageError, match=r"\.html, \.htm"):
        kind_of("story.pdf")
    assert slug("NATO and Russia agreed: “talk more” — in Brüssel!") == "nato-and-russia-agreed-talk-more-in-brussel"
    assert slug("Переговоры") == "article"
    assert len(slug("word " * 40)) <= 60


# --- fetching from a server on 127.0.0.1 ------------------------------------------------------------------


def test_a_page_fetched_from_a_loopback_server_imports_like_the_file() -> None:
    with PageServer() as server:
        url = server.page("/2022/01/12/nato-and-russia/", EUROMAIDAN.name)
        page = fetch(url, LOCAL)
    assert page.content_type == "text/html"
    article = import_source(page.data, "html", fetched_from=page.url)
    assert article == import_source(EUROMAIDAN.read_bytes(), "html")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_local_addresses_are_refused_unless_allowed(host: str) -> None:
    with PageServer() as server:
        server.page("/story", HARBOUR.name)
        with pytest.raises(FetchError, match=r"private or local network.*import\.allow_private_addresses"):
            fetch(server.url("/story", host), FetchSettings())
        assert server.requests == []  # refused before connecting
        assert fetch(server.url("/story", host), LOCAL).data == HARBOUR.read_bytes()


def test_each_redirect_target_is_checked_again() -> None:
    only_first_loopback = FetchSettings(allow_private=False, timeout=10)
    with PageServer() as server:
        server.page("/story", HARBOUR.name)
        server.redirect("/short", server.url("/story"))
        server.redirect("/away", server.url("/story", "127.0.0.2"))

        def allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
            return str(ip) == "127.0.0.1"

        assert fetch(server.url("/short"), only_first_loopback, allowed=allowed).url == server.url("/story")
        with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.2 is on a private"):
            fetch(server.url("/away"), only_first_loopback, allowed=allowed)
        assert server.requests == ["/short", "/story", "/away"]  # never the refused target


def test_download_limits_hold() -> None:
    with PageServer() as server:
        server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
        server.routes["/pdf"] = Route(b"%PDF-1.7", content_type="application/pdf")
        server.routes["/big"] = Route(b"<p>" + b"x" * 20_000 + b"</p>")
        server.routes["/endless"] = Route(endless=True)
        server.routes["/slow"] = Route(b"<p>late</p>", delay=3)
        with pytest.raises(FetchError, match="too many redirects"):
            fetch(server.url("/loop"), LOCAL)
        assert server.requests.count("/loop") == LOCAL.max_redirects + 1
        with pytest.raises(FetchError, match="serves application/pdf, not a web page"):
            fetch(server.url("/pdf"), LOCAL)
        small = FetchSettings(allow_private=True, max_bytes=10_000, timeout=10)
        with pytest.raises(FetchError, match="too large"):
            fetch(server.url("/big"), small)
        started = time.monotonic()
        with pytest.raises(FetchError, match="too large"):
            fetch(server.url("/endless"), small)
        assert time.monotonic() - started < 5
        with pytest.raises(FetchError, match="did not answer within 1 s"):
            fetch(server.url("/slow"), FetchSettings(allow_private=True, timeout=1))
        with pytest.raises(FetchError, match="answered 404"):
            fetch(server.url("/missing"), LOCAL)
    with pytest.raises(FetchError, match="only http"):
        fetch("file:///etc/passwd", LOCAL)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True), ("127.0.0.1", False),
        ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False),
        ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fe80::1", False),
        ("fc00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
    ],
)
def test_which_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


# --- writing --------------------------------------------------------------------------------------------


def test_writes_never_replace_a_file_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "a.md"
    write_atomic(target, "one\n")
    with pytest.raises(OutputExists):
        write_atomic(target, "two\n")
    assert target.read_text() == "one\n"
    write_atomic(target, "three\n", overwrite=True)
    assert target.read_text() == "three\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]  # no temporary file left


def test_adding_to_the_corpus_refuses_the_same_article_and_never_clobbers_another(tmp_path: Path) -> None:
    article = import_source(HARBOUR.read_bytes(), "html")
    first = add_to_corpus(tmp_path, article, {})
    assert first.name == article.file_name()
    with pytest.raises(ImportPageError, match=r"already in the corpus as x\.md"):
        add_to_corpus(tmp_path, article, {article.url: "x.md"})
    other = Article(article.title, "https://example.org/other", "P", article.published, ("Another story.",))
    second = add_to_corpus(tmp_path, other, {article.url: first.name})
    assert second.name == first.name.replace(".md", "-2.md")
    assert first.read_text(encoding="utf-8") == article.to_markdown()
