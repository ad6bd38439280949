"""Writing imported articles: atomic, never replacing a file unless asked; adding to and removing from corpus/."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from pathlib import Path

from bot.errors import ImportPageError, OutputError, OutputExists
from bot.importer import Article

logger = logging.getLogger(__name__)


def check_target(path: Path, *, overwrite: bool = False) -> None:
    """Refuse early a path that cannot be written: a folder, a missing folder, an existing file (unless overwrite)."""
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name, such as {path / 'story.md'}")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise OutputExists(f"{path} already exists")


def write_atomic(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write text to path all at once: readers see the old file or the whole new one, never a part.

    Without overwrite, an existing file is never replaced (OutputExists), even one created meanwhile.
    """
    check_target(path, overwrite=overwrite)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if path exists: no check-then-write race
    except FileExistsError:
        raise OutputExists(f"{path} already exists") from None
    except OSError as exc:
        if exc.errno in (errno.EISDIR, errno.ENOTDIR):
            raise OutputError(f"{path} is a folder; give a file name") from None
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def add_to_corpus(folder: Path, article: Article, urls: dict[str, str]) -> Path:
    """Write the article into the corpus folder under a new name; urls maps each served article's URL to its file.

    The same article (same URL) is refused; a different one whose name is taken gets '-2', '-3'...
    """
    if article.url in urls:
        raise ImportPageError(f"this article is already in the corpus as {urls[article.url]}; remove it first")
    stem = article.file_name().removesuffix(".md")
    for number in range(1, 100):
        path = folder / (f"{stem}.md" if number == 1 else f"{stem}-{number}.md")
        try:
            write_atomic(path, article.to_markdown())
        except OutputExists:
            continue
        return path
    raise OutputError(f"too many articles named {stem} in the corpus")


def corpus_file(folder: Path, doc_id: str) -> Path:
    """The file of a corpus document, refusing any id that would lead outside the corpus folder."""
    path = folder / f"{doc_id}.md"
    if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        raise OutputError(f"{doc_id}.md is not a file in the corpus")
    return path
