"""What every test module shares: the repository's paths, scratch copies of the corpus, configs, a fake token.

Tests import these names from here (conftest.py holds only fixtures and the Hypothesis profiles).
Nothing here writes into the repository: copies go to the folder a test gives.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
ARTICLE = CORPUS / "2022-01-12-nato-russia-brussels-talks.md"
ARTICLE_URL = "https://euromaidanpress.com/2022/01/12/nato-and-russia-agreed-to-talk-more-at-brussels-talks/"


def copy_corpus(folder: Path, name: str = "corpus") -> Path:
    """Copy the repository's corpus files (no hidden ones: no index cache) to folder/name; return that folder."""
    target = folder / name
    shutil.copytree(CORPUS, target, ignore=shutil.ignore_patterns(".*"))
    return target


def write_config(folder: Path, corpus: Path | str = "corpus", extra: str = "") -> Path:
    """Write folder/config.yaml pointing at a corpus folder, then `extra` (more YAML); return its path."""
    path = folder / "config.yaml"
    path.write_text(f"corpus:\n  path: {corpus}\n{extra}", encoding="utf-8")
    return path


def shipped_config(folder: Path) -> Path:
    """folder/config.yaml: the repository's config.yaml, its corpus and model paths made absolute and its
    index cache off (so a run from `folder` answers from corpus/ and writes nothing into it); return its path."""
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    changes = (
        ("  path: corpus ", f"  path: {CORPUS} "),
        ("  cache: .talksbot-cache ", "  cache: '' "),
        ("  model: bot/data/model.json ", f"  model: {REPO / 'bot' / 'data' / 'model.json'} "),
    )
    for old, new in changes:
        assert old in text, f"config.yaml no longer has {old.strip()!r}"
        text = text.replace(old, new, 1)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def fake_token(secret: str = "AAFakeTokenForTestsOnly") -> str:
    """A token shaped like a real one, assembled at run time (the repository must hold none)."""
    return "123456789" + ":" + (secret + "_abcdefghijklmnopqrstuvwxyz")[:35]


TOKEN = fake_token()


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
