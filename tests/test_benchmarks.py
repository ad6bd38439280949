"""The benchmarks keep working: a deterministic generator and a quick smoke run of the runner (never timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.generate import write_archive
from bot.corpus import load_corpus
from bot.passages import split_all
from tests.common import REPO


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_generator_is_deterministic_and_writes_the_corpus_format(tmp_path: Path) -> None:
    first = write_archive(tmp_path / "a", 300, queries=50, seed=11)
    second = write_archive(tmp_path / "b", 300, queries=50, seed=11)
    assert _files(first.folder) == _files(second.folder)
    corpus = load_corpus(first.corpus)
    assert len(corpus.documents) == first.documents
    assert len(split_all(corpus.documents)) == 300  # one passage per generated paragraph
    questions = first.read_questions()
    assert len(questions) == 50 and all(3 <= len(q.split()) <= 8 for q in questions)
    assert _files(write_archive(tmp_path / "c", 300, queries=50, seed=12).folder) != _files(first.folder)


def test_the_benchmark_runs_at_1k_passages(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--sizes",
            "1000",
            "--queries",
            "100",
            "--repeat",
            "1",
            "--cold-repeat",
            "1",
            "--telegram-updates",
            "10",
            "--no-write",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "| 1,000 | talksbot (postings) |" in out
    assert "| 1,000 | rank-bm25 (plain) |" in out
    assert "| 1,000 | bm25s |" in out  # measured, or skipped with the reason when bm25s is not installed
    assert "| cold start ratio |" in out
    assert "talksbot cold build of 1,000 passages" in out
    assert "## Telegram path" in out and "## Targets" in out
    assert "10 questions through the loopback Bot API imitation" in out
    assert "| 1,000 | talksbot (postings) | failed" not in out
