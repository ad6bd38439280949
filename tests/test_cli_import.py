"""`talksbot import` as an editor runs it: from a saved page, a URL, a corpus file; every mistake one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.common import REPO, copy_corpus
from tests.page_server import PAGES, PageServer

HARBOUR = PAGES / "harbour-gazette-ferry.html"
EUROMAIDAN = PAGES / "euromaidan-nato-russia.html"


def talksbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in a scratch folder and return what it printed."""
    environment = {k: v for k, v in os.environ.items() if k != "TALKSBOT_CONFIG"}
    environment.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=120
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed with exactly one 'Error: ...' line and no traceback; return it."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert proc.stdout == ""
    return lines[0]


def test_a_saved_page_becomes_a_corpus_file_the_bot_answers_from(tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    target = corpus / "ferry.md"
    proc = talksbot("import", str(HARBOUR), "-o", str(target), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr and "Kessel Island ferry" in proc.stderr
    (tmp_path / "config.yaml").write_text(f"corpus:\n  path: {corpus}\n  cache: ''\n", encoding="utf-8")
    check = talksbot("check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "2 documents" in check.stdout
    answer = talksbot("ask", "Which company will run the Kessel Island ferry?", cwd=tmp_path)
    assert "Kessel" in answer.stdout
    assert "https://harbourgazette.example/news/2023/05/04/kessel-island-ferry-returns" in answer.stdout


def test_without_output_the_markdown_goes_to_stdout(tmp_path: Path) -> None:
    proc = talksbot("import", str(EUROMAIDAN), "--title", "Talks in Brussels", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("---\ntitle: Talks in Brussels\n")
    assert "Stoltenberg chaired the meeting" in proc.stdout
    assert "cup of coffee" not in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_output_mistakes_are_one_line_and_nothing_is_overwritten(tmp_path: Path) -> None:
    missing = one_error_line(talksbot("import", str(HARBOUR), "-o", str(tmp_path / "nope" / "a.md"), cwd=tmp_path))
    assert "does not exist" in missing
    folder = one_error_line(talksbot("import", str(HARBOUR), "-o", str(tmp_path), cwd=tmp_path))
    assert "is a folder" in folder
    existing = tmp_path / "story.md"
    existing.write_text("keep me\n", encoding="utf-8")
    refused = one_error_line(talksbot("import", str(HARBOUR), "-o", str(existing), cwd=tmp_path))
    assert "already exists" in refused and "--force" in refused
    assert existing.read_text(encoding="utf-8") == "keep me\n"
    forced = talksbot("import", str(HARBOUR), "-o", str(existing), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "Brindle Marine" in existing.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["story.md"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--url", "ftp://x"], "--url must be an http(s) address"),
        (["--url", "not a url"], "--url must be an http(s) address"),
        (["--published", "12/01/2022"], "--published must be a date like 2022-01-12"),
    ],
)
def test_bad_option_values_are_named(tmp_path: Path, args: list[str], words: str) -> None:
    assert words in one_error_line(talksbot("import", str(HARBOUR), *args, cwd=tmp_path))


def test_bad_sources_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "page.pdf").write_bytes(b"%PDF")
    assert ".html, .htm" in one_error_line(talksbot("import", str(tmp_path / "page.pdf"), cwd=tmp_path))
    assert "no such file" in one_error_line(talksbot("import", str(tmp_path / "gone.html"), cwd=tmp_path))
    (tmp_path / "copy.txt").write_text("Some page\n", encoding="utf-8")
    assert "--title" in one_error_line(talksbot("import", str(tmp_path / "copy.txt"), cwd=tmp_path))
    (tmp_path / "broken.md").write_text("---\ntitle: [\n---\ntext\n", encoding="utf-8")
    assert "broken front matter" in one_error_line(talksbot("import", str(tmp_path / "broken.md"), cwd=tmp_path))


def test_a_url_on_the_loopback_is_imported_only_when_the_config_allows_it(tmp_path: Path) -> None:
    with PageServer() as server:
        url = server.page("/news/ferry", HARBOUR.name)
        refused = one_error_line(talksbot("import", url, cwd=tmp_path))
        assert "private or local network" in refused and "import.allow_private_addresses" in refused
        assert server.requests == []
        config = tmp_path / "config.yaml"
        config.write_text("import:\n  allow_private_addresses: true\n", encoding="utf-8")
        proc = talksbot("--config", str(config), "import", url, "-o", str(tmp_path / "ferry.md"), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "ferry.md").read_text(encoding="utf-8")
    assert "url: https://harbourgazette.example/news/2023/05/04/kessel-island-ferry-returns" in text
    assert "published: 2023-05-04" in text and "publisher: The Harbour Gazette" in text


def test_the_repository_is_left_alone() -> None:
    """The tests above write only into their scratch folders."""
    status = subprocess.run(["git", "status", "--porcelain", "corpus"], capture_output=True, text=True, cwd=REPO)
    assert status.stdout == ""
