"""Import of an article from a web page, a page copy or a Markdown file: bytes in, an Article out.

No network and no files here (see bot/fetch.py and bot/storage.py): every function takes the
page's content and returns a value or raises ImportPageError with a one-line reason.

- HTML goes through trafilatura, which finds the story's main text and the page's metadata
  (title, publication date, canonical URL, site name); the paragraphs it keeps then pass the
  same furniture filter as a text copy (a donation appeal or "Further reading" inside the
  story's container ends the story).
- A .txt page copy goes through the original importer (bot.corpus.import_page): it needs the
  title, URL and date given, as nothing in plain text says which line is which.
- A .md corpus file is validated as the corpus loader would, then normalised.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Literal

import yaml

from bot.corpus import Document, import_page, parse_document
from bot.errors import CorpusError, ImportPageError
from bot.passages import split_passages

Kind = Literal["html", "txt", "md"]
SUFFIXES: dict[str, Kind] = {".html": "html", ".htm": "html", ".txt": "txt", ".md": "md"}
DEFAULT_TXT_PUBLISHER = "Euromaidan Press"  # the site whose text copies the .txt importer was written for
MAX_TITLE_CHARS = 300
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s]*")  # what the corpus loader accepts: a dot in the address
# In the story's container, a paragraph or heading like these ends the story: the site's furniture follows.
_HTML_STORY_END = re.compile(
    r"^(further reading|related (posts|articles|stories|coverage)|more (stories|from|on this)|tags:"
    r"|you could close this page|to suggest a correction|comments\b|\d+ (comments|responses)|leave a (reply|comment)"
    r"|share this( article| story)?:?$)",
    re.IGNORECASE,
)
# Paragraphs the site puts among the story's: links to other stories, appeals, notices. Phrases of the
# site talking to its readers, not topic words ("cookie", "newsletter" may well be in a story).
_HTML_FURNITURE = re.compile(
    r"(^(read (also|more)|see also|related|advertisement)\b|©|\ball rights reserved\b|is supported by"
    r"|when referencing our materials|written permission must|ad ?blocker|become a (patron|member|subscriber)"
    r"|support (us|our (work|journalism|reporting))\b|sign up for our|subscribe to our|our newsletter"
    r"|we use cookies|cookie (policy|policies|settings|notice)|privacy policy|spotted a mistake|email this story"
    r"|share on (facebook|x|twitter)|you can also highlight the text)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Overrides:
    """Values an editor gives by hand; each one replaces what the page says."""

    url: str | None = None
    title: str | None = None
    published: str | None = None
    publisher: str | None = None


@dataclass(frozen=True)
class Article:
    """An imported article, ready to be written into corpus/."""

    title: str
    url: str
    publisher: str
    published: str  # ISO date, 2022-01-12
    paragraphs: tuple[str, ...]
    questions: tuple[str, ...] = ()

    def to_markdown(self) -> str:
        """Return the corpus file: YAML front matter, then the paragraphs separated by blank lines."""
        meta: dict[str, object] = {
            "title": self.title,
            "url": self.url,
            "publisher": self.publisher,
            "published": dt.date.fromisoformat(self.published),
        }
        if self.questions:
            meta["questions"] = list(self.questions)
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
        return f"---\n{front}---\n" + "\n\n".join(self.paragraphs) + "\n"

    def document(self, doc_id: str = "imported") -> Document:
        """The corpus Document this article becomes (to count its passages the way the index will)."""
        return Document(doc_id, self.title, self.url, self.publisher, self.published, "\n\n".join(self.paragraphs),
                        self.questions)

    def passages(self) -> list[str]:
        """The passages the bot will quote from, in order."""
        return [p.text for p in split_passages(self.document())]

    def file_name(self) -> str:
        """A corpus file name from the date and the title: 2022-01-12-nato-and-russia-agreed-to-talk.md."""
        return f"{self.published}-{slug(self.title)}.md"


def kind_of(name: str) -> Kind:
    """The importer for a file name, by its extension; ImportPageError for any other file."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportPageError(
            f"cannot import '{PurePath(name).name}': send a web page (.html, .htm), a page copy (.txt) "
            "or a corpus file (.md)"
        )
    return SUFFIXES[suffix]


def check_url(url: str, option: str = "url") -> str:
    """Return the URL stripped if it is an http(s) address, else raise ImportPageError naming the option."""
    url = url.strip()
    if not _URL.fullmatch(url):
        raise ImportPageError(f"{option} must be an http(s) address like https://example.org/story, not '{url[:100]}'")
    return url


def check_date(value: str, option: str = "published") -> str:
    """Return an ISO date (YYYY-MM-DD) or raise ImportPageError naming the option."""
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ImportPageError(f"{option} must be a date like 2022-01-12, not '{value[:40]}'") from None


def import_source(
    data: bytes, kind: Kind, overrides: Overrides = Overrides(), *, fetched_from: str | None = None
) -> Article:
    """Import a page's bytes of the given kind; fetched_from is the address it was downloaded from, if any."""
    if b"\x00" in data[:65536] and kind != "html":
        raise ImportPageError("the file is binary, not text")
    if kind == "html":
        return article_from_html(data, overrides, fetched_from=fetched_from)
    text = _decode(data)
    if kind == "md":
        return article_from_markdown(text, overrides)
    return article_from_text(text, overrides)


def article_from_html(
    page: bytes | str, overrides: Overrides = Overrides(), *, fetched_from: str | None = None
) -> Article:
    """Extract the story and its metadata from an HTML page with trafilatura; overrides win."""
    import trafilatura  # heavy (lxml, dateparser): only imported when a page is imported

    if not page.strip():
        raise ImportPageError("the page is empty")
    try:
        extracted = trafilatura.bare_extraction(
            page,
            url=fetched_from,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            favor_precision=True,
            deduplicate=False,
        )
    except Exception as exc:  # trafilatura and lxml raise many kinds on broken input; none may escape as a traceback
        raise ImportPageError(f"the page cannot be read as HTML ({type(exc).__name__})") from None
    body = getattr(extracted, "body", None)
    if extracted is None or body is None:
        raise ImportPageError("no story text found in the page (is it an article page?)")
    paragraphs = story_paragraphs(body)
    if not paragraphs:
        raise ImportPageError("no story text found in the page (is it an article page?)")
    title = overrides.title or _text(getattr(extracted, "title", None))
    url = overrides.url or _text(getattr(extracted, "url", None)) or fetched_from or ""
    published = overrides.published or _text(getattr(extracted, "date", None))
    publisher = overrides.publisher or _text(getattr(extracted, "sitename", None))
    publisher = publisher or _text(getattr(extracted, "hostname", None))
    if not title:
        raise ImportPageError("the page has no title; give one with --title")
    if not url:
        raise ImportPageError("the page does not say its address; give it with --url")
    if not published:
        raise ImportPageError("the page has no publication date; give it with --published YYYY-MM-DD")
    if not publisher:
        raise ImportPageError("the page does not name its publisher; give it with --publisher")
    # A site name a page puts after its title ("Story - Site") is not part of the title.
    title = re.sub(rf"\s*[-|–—]\s*{re.escape(publisher)}\s*$", "", title) or title
    return _checked(Article(title, url, publisher, published, tuple(paragraphs)))


def story_paragraphs(body: object) -> list[str]:
    """The story's paragraphs from trafilatura's XML body: headings dropped, the site's furniture cut off."""
    paragraphs: list[str] = []
    for element in getattr(body, "iterchildren", lambda: iter(()))():
        tag = str(element.tag)
        text = " ".join("".join(element.itertext()).split())
        if not text:
            continue
        if _HTML_STORY_END.match(text):
            break
        if tag == "head":
            continue  # subheadings are not passages a reader's question is answered with
        if tag == "list":
            items = [" ".join("".join(item.itertext()).split()) for item in element.iterchildren()]
            paragraphs += [item for item in items if item and not _furniture(item)]
            continue
        if _furniture(text):
            continue
        paragraphs.append(text)
    return paragraphs


def article_from_text(text: str, overrides: Overrides = Overrides()) -> Article:
    """Import a text copy of a page with the original line-based importer; title, URL and date are required."""
    missing = [f"--{name}" for name in ("title", "url", "published") if not getattr(overrides, name)]
    if missing:
        raise ImportPageError(
            f"a .txt page copy says nothing about the article: give {', '.join(missing)} "
            "(the title as it stands on the page)"
        )
    assert overrides.title and overrides.url and overrides.published
    markdown = import_page(
        text,
        url=overrides.url,
        title=overrides.title,
        published=overrides.published,
        publisher=overrides.publisher or DEFAULT_TXT_PUBLISHER,
    )
    return article_from_markdown(markdown)


def article_from_markdown(text: str, overrides: Overrides = Overrides()) -> Article:
    """Validate a corpus file as the loader would and normalise it (spaces, paragraphs, front matter)."""
    try:
        doc = parse_document(text, "imported", "the file")
    except CorpusError as exc:
        raise ImportPageError(f"not a usable corpus file: {exc.problem}") from None
    paragraphs = tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.body) if p.strip())
    article = Article(doc.title, doc.url, doc.publisher, doc.published, paragraphs, doc.questions)
    return _checked(apply_overrides(article, overrides))


def apply_overrides(article: Article, overrides: Overrides) -> Article:
    """The article with each given override in place of what the source said."""
    changes = {k: v for k, v in vars(overrides).items() if v}
    return replace(article, **changes) if changes else article


def slug(title: str, max_chars: int = 60) -> str:
    """A file-name-safe ASCII slug of a title, cut at a word boundary: 'nato-and-russia-agreed'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > max_chars:
            break
        out = f"{out}-{word}" if out else word
    return out or "article"


def _checked(article: Article) -> Article:
    """Validate every field as the corpus loader will; the result always loads."""
    title = " ".join(article.title.split())
    publisher = " ".join(article.publisher.split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise ImportPageError(f"the title must be 1 to {MAX_TITLE_CHARS} characters long")
    if not publisher:
        raise ImportPageError("the publisher must not be empty")
    article = replace(
        article,
        title=title,
        publisher=publisher,
        url=check_url(article.url, "the article's url"),
        published=check_date(article.published, "the publication date"),
    )
    if not article.paragraphs:
        raise ImportPageError("no story text found")
    try:
        parse_document(article.to_markdown(), "imported", "the imported article")
    except CorpusError as exc:  # pragma: no cover - the checks above should make this impossible
        raise ImportPageError(str(exc)) from None
    return article


def _furniture(text: str) -> bool:
    return bool(_HTML_FURNITURE.search(text))


def _text(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportPageError(f"the file is not UTF-8 text (byte {exc.start})") from None
