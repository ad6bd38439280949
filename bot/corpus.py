"""Documents on disk: Markdown files with YAML front matter, and the import of raw web pages."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import CorpusError, CorpusProblems, ImportPageError
from bot.synonyms import Synonyms

SYNONYMS_FILE = "synonyms.txt"
# libyaml's C loader where PyYAML has it (twice as fast on a large archive); both are safe loaders.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 5 * 1024 * 1024
REQUIRED_KEYS = ("title", "url", "publisher", "published")
OPTIONAL_KEYS = ("questions",)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Document:
    """One article: its attribution and its story text (paragraphs separated by blank lines)."""

    doc_id: str
    title: str
    url: str
    publisher: str
    published: str
    body: str
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Corpus:
    """Everything the index is built from: the documents and the synonym rules."""

    documents: tuple[Document, ...]
    synonyms: Synonyms


def human_date(iso: str) -> str:
    """Return 2022-01-12 as '12 January 2022'."""
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def parse_document(text: str, doc_id: str, source: str) -> Document:
    """Parse one corpus file's text; any problem raises CorpusError naming the source."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise CorpusError(source, "no front matter: the file must start with '---', YAML, '---'")
    try:
        meta = yaml.load(match.group(1), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = (str(getattr(exc, "problem", None) or exc).splitlines() or ["invalid YAML"])[0]
        raise CorpusError(source, f"broken front matter{where}: {problem}") from None
    except (ValueError, RecursionError) as exc:  # a bad date like 2022-13-45; [[[[... nested too deep
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CorpusError(source, f"broken front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise CorpusError(source, "front matter must be a YAML mapping of keys to values")
    for key in meta:
        if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            raise CorpusError(source, f"unknown front matter key '{key}'")
    for key in REQUIRED_KEYS:
        if meta.get(key) in (None, ""):
            raise CorpusError(source, f"missing '{key}' in front matter")
        if isinstance(meta[key], (list, dict)):  # also keeps str() off a YAML alias bomb
            raise CorpusError(source, f"'{key}' must be a single value, not a list or mapping")
    url = str(meta["url"]).strip()
    if not re.fullmatch(r"https?://\S+\.\S+", url):
        raise CorpusError(source, f"'url' must be an http(s) link, not '{url}'")
    published = _published_date(meta["published"], source)
    questions = meta.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        raise CorpusError(source, "'questions' must be a list of example questions")
    body = match.group(2).strip()
    if not body:
        raise CorpusError(source, "empty body: the story text goes after the front matter")
    return Document(
        doc_id=doc_id,
        title=" ".join(str(meta["title"]).split()),
        url=url,
        publisher=" ".join(str(meta["publisher"]).split()),
        published=published.isoformat(),
        body=body,
        questions=tuple(q.strip() for q in questions),
    )


def _published_date(value: object, source: str) -> dt.date:
    """The front matter's `published` as a date (YAML gives a date, a datetime or a string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CorpusError(source, f"'published' must be a date like 2022-01-12, not '{value}'") from None


def read_text(path: Path, root: Path) -> str:
    """Read one corpus file as UTF-8, refusing links out of the corpus and oversized files."""
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return decode(read_bytes(path, root), name)


def read_bytes(path: Path, root: Path) -> bytes:
    """Read one corpus file's bytes, refusing links out of the corpus, other than regular files and oversized files."""
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):  # the loader's walk does not enter linked folders: only a file can link out
            if not path.resolve().is_relative_to(root.resolve()):
                raise CorpusError(name, "links outside the corpus folder")
            info = path.stat() if path.exists() else info
        if not stat.S_ISREG(info.st_mode):  # a directory, a FIFO (reading one would block) or a dangling link
            raise CorpusError(name, "is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise CorpusError(name, f"too large ({info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
        return path.read_bytes()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11's resolve())
        raise CorpusError(name, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None


def decode(raw: bytes, name: str) -> str:
    """Return a corpus file's bytes as text: UTF-8, not binary."""
    if b"\x00" in raw:
        raise CorpusError(name, "is a binary file, not Markdown text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(name, f"is not UTF-8 text (byte {exc.start})") from None


@dataclass(frozen=True)
class Source:
    """One file the corpus loader reads: its name in the folder and the sha256 of its bytes."""

    name: str
    digest: str

    @property
    def doc_id(self) -> str:
        """The document id of an article file: its path without the .md suffix."""
        return self.name[: -len(".md")] if self.name.endswith(".md") else Path(self.name).with_suffix("").as_posix()


@dataclass(frozen=True)
class Stamp:
    """A file's size and modification time when it was read, and the digest of what was read."""

    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True)
class SourceFiles:
    """What the loader read from a corpus folder: each article's text (or its problem), and the synonyms."""

    articles: tuple[tuple[Source, str | CorpusError | None], ...]  # None: unchanged since a trusted stamp, not read
    synonyms: Synonyms | CorpusError
    synonyms_digest: str
    stamps: Mapping[str, Stamp]  # of the regular files read or trusted, by name
    linked: bool  # some file is a symbolic link: its target may change unseen, so nothing is cached
    read_ns: int  # when reading began (time.time_ns())

    def key(self, salt: str) -> str:
        """Return a digest of every file read (names and contents) and of `salt`."""
        import hashlib

        digest = hashlib.sha256(f"{salt}\n{SYNONYMS_FILE} {self.synonyms_digest}\n".encode())
        for source, _ in self.articles:
            digest.update(f"{source.name} {source.digest}\n".encode())
        return digest.hexdigest()


def load_corpus(folder: Path) -> Corpus:
    """Read every *.md document and synonyms.txt from the corpus folder.

    Reads everything and collects every problem: if there is any, raises CorpusProblems (a
    CorpusError) listing each one with its file; nothing half-read is returned.
    """
    files = read_sources(folder)
    parsed = [parse_source(source, text) for source, text in files.articles]
    return assemble_corpus(folder, [source for source, _ in files.articles], parsed, files.synonyms)


def read_sources(folder: Path, trusted: Mapping[str, Stamp] | None = None, trusted_before_ns: int = 0) -> SourceFiles:
    """Read the files the loader reads, in its order (raises CorpusError if the folder does not exist).

    An article whose size and modification time are those of its `trusted` stamp, and that was
    modified before `trusted_before_ns` (not within the clock's granularity of the stamp being
    taken), is not read again: its text is None and its digest the stamp's.
    """
    import hashlib  # only when reading a corpus: kept off the import path

    if not folder.is_dir():
        raise CorpusError(str(folder), "corpus folder does not exist")
    read_ns = time.time_ns()
    articles: list[tuple[Source, str | CorpusError | None]] = []
    stamps: dict[str, Stamp] = {}
    linked = False
    root = str(folder)
    for parts in _article_paths(folder):
        name = "/".join(parts)
        try:
            info = os.lstat(os.path.join(root, *parts))
            linked = linked or stat.S_ISLNK(info.st_mode)
            known = (trusted or {}).get(name)
            if known is not None and _unchanged(known, info, trusted_before_ns):
                articles.append((Source(name, known.digest), None))
                stamps[name] = known
                continue
            raw = read_bytes(folder.joinpath(*parts), folder)
            stamps[name] = Stamp(info.st_size, info.st_mtime_ns, hashlib.sha256(raw).hexdigest())
            articles.append((Source(name, stamps[name].digest), decode(raw, name)))
        except OSError as exc:
            articles.append((Source(name, ""), CorpusError(name, f"cannot be read ({exc.strerror or exc})")))
        except CorpusError as exc:
            articles.append((Source(name, ""), exc))
    synonyms, synonyms_digest, linked_synonyms = _read_synonyms(folder)
    return SourceFiles(tuple(articles), synonyms, synonyms_digest, stamps, linked or linked_synonyms, read_ns)


def _article_paths(folder: Path) -> list[tuple[str, ...]]:
    """Return the articles' paths in the folder as tuples of names, in the order of sorted(folder.rglob("*.md")).

    Like rglob, the walk does not enter linked folders; names starting with a dot and README.md are left out.
    """
    found: list[tuple[str, ...]] = []
    pending: list[tuple[str, ...]] = [()]
    while pending:
        here = pending.pop()
        try:
            entries = list(os.scandir(folder.joinpath(*here)))
        except OSError:  # a folder that cannot be listed is passed over, as rglob passes it over
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.name.endswith(".md") and entry.name != "README.md":
                found.append((*here, entry.name))
            if entry.is_dir(follow_symlinks=False):
                pending.append((*here, entry.name))
    return sorted(found)


def _unchanged(known: Stamp, info: os.stat_result, before_ns: int) -> bool:
    """Say whether a regular file still has the size and time of its stamp, taken well after it was last modified."""
    same = (known.size, known.mtime_ns) == (info.st_size, info.st_mtime_ns)
    return same and stat.S_ISREG(info.st_mode) and info.st_mtime_ns < before_ns


def _read_synonyms(folder: Path) -> tuple[Synonyms | CorpusError, str, bool]:
    """Read synonyms.txt if there is one: the rules (or the problem), a digest of the text, whether it is a link."""
    import hashlib

    path = folder / SYNONYMS_FILE
    if not (path.exists() or path.is_symlink()):
        return Synonyms(), "", False
    try:
        text = read_text(path, folder)
        return Synonyms.parse(text, SYNONYMS_FILE), hashlib.sha256(text.encode()).hexdigest(), path.is_symlink()
    except CorpusError as exc:
        return exc, "", path.is_symlink()


def parse_source(source: Source, text: str | CorpusError | None) -> Document | CorpusError:
    """Parse one article read by read_sources; its problem, if any, is returned, not raised."""
    if isinstance(text, CorpusError):
        return text
    if text is None:
        return CorpusError(source.name, "changed while it was read")
    try:
        return parse_document(text, doc_id=source.doc_id, source=source.name)
    except CorpusError as exc:
        return exc


def assemble_corpus(
    folder: Path, sources: list[Source], parsed: list[Document | CorpusError], synonyms: Synonyms | CorpusError
) -> Corpus:
    """Check the parsed articles together (one url, one article) and return the corpus, or raise every problem."""
    documents: list[Document] = []
    problems: list[CorpusError] = []
    seen_urls: dict[str, str] = {}
    for source, doc in zip(sources, parsed, strict=True):
        if isinstance(doc, CorpusError):
            problems.append(doc)
        elif doc.url in seen_urls:
            problems.append(CorpusError(source.name, f"same url as {seen_urls[doc.url]}: {doc.url}"))
        else:
            seen_urls[doc.url] = source.name
            documents.append(doc)
    if isinstance(synonyms, CorpusError):
        problems.append(synonyms)
    if problems:
        raise CorpusProblems(problems)
    if not documents or isinstance(synonyms, CorpusError):
        raise CorpusError(str(folder), "no documents (*.md files with front matter) in the corpus folder")
    return Corpus(tuple(documents), synonyms)


# --- import of a raw page copied from the publisher's site -------------------------------------

# A line matching any of these ends the story: what follows is the site's furniture.
_STORY_END = re.compile(
    r"^(further reading:?|read (also|more):?|related( posts| articles)?:?|tags:|you could close this page"
    r"|to suggest a correction|you can also highlight the text|please leave your suggestions"
    r"|share this( article)?:?|subscribe to)\b",
    re.IGNORECASE,
)
# A line matching any of these is site boilerplate wherever it stands.
_BOILERPLATE = re.compile(
    r"(copyright|©|\ball rights reserved\b|cookie|privacy policy|is supported by"
    r"|when referencing our materials|written permission|ad ?blocker|become a patron|\bdonate\b"
    r"|support (us|our (work|journalism|reporting))|subscribe to our|newsletter|^advertisement$)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…\"'”’:)\]]$")


def import_page(raw: str, *, url: str, title: str, published: str, publisher: str) -> str:
    """Turn a raw page (text copied from the site) into a corpus file: front matter and story.

    The story starts at the first line that repeats the headline; it ends at the first line of
    the site's furniture ("Further reading", "Related Posts", the donation appeal). Boilerplate
    lines and short headline-like lines inside the story (links to related articles) are dropped.
    """
    wanted = _normalise_line(title)
    lines = [" ".join(line.split()) for line in raw.splitlines()]
    starts = [i for i, line in enumerate(lines) if _normalise_line(line) == wanted]
    if not starts:
        raise ImportPageError(f"the title '{title}' does not appear in the page; give it as it stands there")
    paragraphs: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if not line or _normalise_line(line) == wanted:
            continue
        if _STORY_END.match(line):
            break
        if _BOILERPLATE.search(line):
            continue
        if paragraphs and len(line) < 120 and not _SENTENCE_END.search(line):
            continue  # a related-article headline set inside the story
        paragraphs.append(line)
    if not paragraphs:
        raise ImportPageError("no story text found after the title")
    try:
        date = dt.date.fromisoformat(published)
    except ValueError:
        raise ImportPageError(f"--published must be a date like 2022-01-12, not '{published}'") from None
    meta = {"title": title, "url": url, "publisher": publisher, "published": date}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n" + "\n\n".join(paragraphs) + "\n"


def _normalise_line(line: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", line.casefold()).split())
