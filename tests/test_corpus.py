"""Corpus files: parsing, the errors an admin sees, and the import of a raw page."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import import_page, load_corpus, parse_document
from bot.errors import CorpusError, ImportPageError
from bot.passages import split_passages
from bot.synonyms import Synonyms
from tests.common import ARTICLE, SHARED

GOOD = """---
title: A title
url: https://example.org/story
publisher: Example
published: 2022-01-12
---
Body text of the story.
"""
SEED = SHARED / "seed" / "euromaidanpress-2022-01-12-nato-russia-brussels-talks.txt"
URL = "https://euromaidanpress.com/2022/01/12/nato-and-russia-agreed-to-talk-more-at-brussels-talks/"
TITLE = "NATO and Russia agreed to talk more at Brussels talks"


def test_shipped_article_parses_with_its_attribution() -> None:
    doc = parse_document(ARTICLE.read_text(encoding="utf-8"), "a", "a.md")
    assert doc.title == TITLE
    assert doc.url == URL
    assert doc.publisher == "Euromaidan Press"
    assert doc.published == "2022-01-12"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter here", "no front matter"),
        ("---\ntitle: [broken\n---\nbody", "broken front matter"),
        (GOOD.replace("url: https://example.org/story\n", ""), "missing 'url'"),
        (GOOD.replace("https://example.org/story", "not a link"), "'url' must be an http(s) link"),
        (GOOD.replace("2022-01-12", "yesterday"), "'published' must be a date"),
        (GOOD.replace("Body text of the story.\n", ""), "empty body"),
        (GOOD.replace("publisher: Example", "publisher: Example\nauthor: X"), "unknown front matter key 'author'"),
        ("---\n- a list\n---\nbody", "must be a YAML mapping"),
    ],
)
def test_broken_documents_name_the_file_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(CorpusError) as caught:
        parse_document(text, "x", "x.md")
    assert str(caught.value).startswith("x.md: ")
    assert problem in str(caught.value)


def test_corpus_without_documents_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no documents"):
        load_corpus(tmp_path)


def test_duplicate_urls_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.md").write_text(GOOD, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"b\.md: same url as a\.md"):
        load_corpus(tmp_path)


def test_several_documents_each_keep_their_own_source(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.md").write_text(GOOD.replace("/story", "/other").replace("A title", "B"), encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.url for d in corpus.documents] == ["https://example.org/story", "https://example.org/other"]


def test_malformed_synonym_line_is_named() -> None:
    with pytest.raises(CorpusError, match=r"synonyms\.txt line 2"):
        Synonyms.parse("alliance, nato\nlonely\n")


def test_synonyms_one_way_and_groups() -> None:
    rules = Synonyms.parse("kremlin => russia\ntroops, soldiers\n")
    assert rules.expand(["kremlin"]) == [(0, "russia")]
    assert rules.expand(["russia"]) == []
    assert rules.expand(["soldier"]) == [(0, "troop")]


@pytest.mark.skipif(not SEED.exists(), reason="shared/seed is not beside this checkout")
def test_import_of_the_seed_page_keeps_the_story_and_drops_the_boilerplate() -> None:
    text = import_page(
        SEED.read_text(encoding="utf-8"), url=URL, title=TITLE, published="2022-01-12", publisher="Euromaidan Press"
    )
    doc = parse_document(text, "seed", "seed.md")
    assert "Stoltenberg chaired the meeting" in doc.body
    assert "Colonel General Aleksandr Fomin" in doc.body  # the photo caption
    assert "pressure the US and EU to make concessions" in doc.body  # the last story paragraph
    for junk in (
        "Copyright",
        "International Renaissance Foundation",
        "500-character extract",
        "Cookie",
        "Further reading",
        "cup of coffee",
        "Patron",
        "ad blocker",
        "Related Posts",
        "correction",
        "An ultimatum in any language",
    ):
        assert junk not in doc.body, junk
    assert doc.body.count(TITLE) == 0
    assert len(split_passages(doc)) >= 10


def test_import_needs_the_title_on_the_page() -> None:
    with pytest.raises(ImportPageError, match="does not appear"):
        import_page("some page", url=URL, title=TITLE, published="2022-01-12", publisher="P")
