"""End to end: `talksbot` run as a user runs it, as a subprocess fed through standard input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.common import ARTICLE, REPO, SHARED, shipped_config, write_config

URL = "https://euromaidanpress.com/2022/01/12/nato-and-russia-agreed-to-talk-more-at-brussels-talks/"


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` from a folder holding the shipped config.yaml (see shipped_config)."""
    environment = {k: v for k, v in os.environ.items() if k != "TALKSBOT_CONFIG"} | (env or {})
    with tempfile.TemporaryDirectory(prefix="talksbot-cli-") as folder:
        shipped_config(Path(folder))
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=folder,
            env=environment,
            timeout=120,
        )


def test_console_answers_each_question_and_quits_at_end_of_input() -> None:
    proc = run("console", stdin="Who chaired the meeting?\n\nrecipe for borscht\n")
    assert proc.returncode == 0, proc.stderr
    assert "Stoltenberg chaired the meeting" in proc.stdout
    assert URL in proc.stdout
    assert "The article does not cover that." in proc.stdout
    assert "You could ask:" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_console_commands_help_source_reload_and_quit(tmp_path: Path, corpus_copy: Path) -> None:
    config = write_config(tmp_path, corpus_copy)
    script = "/help\n/source\n/reload\n/quit\nWho chaired the meeting?\n"
    proc = run("--config", str(config), "console", stdin=script)
    assert proc.returncode == 0, proc.stderr
    assert "/reload" in proc.stdout and "/quit" in proc.stdout
    assert "Euromaidan Press, 12 January 2022" in proc.stdout
    assert "Reloaded: 1 document, 10 passages before, 1 document, 10 passages now." in proc.stdout
    assert "Stoltenberg chaired" not in proc.stdout  # /quit stopped before the question


def test_console_reload_of_a_broken_corpus_says_why_and_keeps_answering(tmp_path: Path, corpus_copy: Path) -> None:
    config = write_config(tmp_path, corpus_copy)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().startswith("talksbot: ask about the story (1 document, 10 passages)")
    (corpus_copy / "bad.md").write_text("---\ntitle: x\n---\nbody\n", encoding="utf-8")
    out, err = proc.communicate("/reload\nWho chaired the meeting?\n", timeout=60)
    assert proc.returncode == 0, err
    assert "Reload failed, still serving 1 document, 10 passages: bad.md: missing 'url' in front matter" in out
    assert "Stoltenberg chaired the meeting" in out


def test_ask_json_gives_one_object_per_question_in_order() -> None:
    questions = [
        "Who chaired the meeting?",
        "",
        "recipe for borscht",
        "x" * 5000,
        "🙂 <b>hi</b> \x07",
        "When did they meet?",
    ]
    proc = run("ask", "--json", stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in replies] == questions
    first = replies[0]
    assert first["found"] and "Stoltenberg chaired" in first["excerpt"] and first["url"] == URL
    assert set(first) >= {"question", "found", "excerpt", "url", "title", "score", "passage_id"}
    assert [r["found"] for r in replies[1:5]] == [False, False, False, False]
    assert all(len(r["excerpt"]) <= 500 for r in replies)
    assert all(r["excerpt"] == "" for r in replies if not r["found"])


def test_ask_with_arguments_answers_each_in_plain_text() -> None:
    proc = run("ask", "Who chaired the meeting?", "Does Russia have a veto?")
    assert proc.returncode == 0
    assert proc.stdout.count(URL) == 2
    assert "does not have a veto" in proc.stdout


def test_check_lists_documents_and_passages() -> None:
    proc = run("check")
    assert proc.returncode == 0, proc.stderr
    assert "2022-01-12-nato-russia-brussels-talks: 10 passages" in proc.stdout
    assert "OK:" in proc.stdout


def test_check_names_a_broken_file_and_fails(tmp_path: Path, corpus_copy: Path) -> None:
    (corpus_copy / "empty.md").write_text(
        "---\ntitle: t\nurl: https://e.org/x\npublisher: p\npublished: 2022-01-01\n---\n"
    )
    proc = run("--config", str(write_config(tmp_path, corpus_copy)), "check")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error: empty.md: empty body: the story text goes after the front matter"


def test_unknown_config_key_stops_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("answer:\n  exerpt_chars: 400\n", encoding="utf-8")
    proc = run("--config", str(config), "ask", "Who chaired the meeting?")
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: unknown config key 'answer.exerpt_chars'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_config_from_environment_variable(tmp_path: Path, corpus_copy: Path) -> None:
    config = write_config(tmp_path, corpus_copy, "answer:\n  excerpt_chars: 120\n")
    proc = run("ask", "--json", "Who chaired the meeting?", env={"TALKSBOT_CONFIG": str(config)})
    reply = json.loads(proc.stdout)
    assert reply["found"] and len(reply["excerpt"]) <= 120


@pytest.mark.skipif(not (SHARED / "seed").exists(), reason="shared/seed is not beside this checkout")
def test_import_writes_a_corpus_file_that_loads(tmp_path: Path) -> None:
    seed = next((SHARED / "seed").glob("*.txt"))
    target = tmp_path / "corpus" / "imported.md"
    target.parent.mkdir()
    proc = run(
        "import",
        str(seed),
        "--url",
        URL,
        "--title",
        "NATO and Russia agreed to talk more at Brussels talks",
        "--published",
        "2022-01-12",
        "--output",
        str(target),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Stoltenberg chaired the meeting" in target.read_text(encoding="utf-8")
    check = run("--config", str(write_config(tmp_path, target.parent)), "check")
    assert check.returncode == 0, check.stderr


def test_eval_scores_a_question_file(tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(
        '- {id: a, question: "Who chaired the meeting?", answers: ["Stoltenberg chaired"], kind: factoid}\n'
        '- {id: b, question: "recipe for borscht", answers: [], kind: unanswerable}\n',
        encoding="utf-8",
    )
    proc = run("eval", str(questions), "--show-misses")
    assert proc.returncode == 0, proc.stderr
    assert "overall: 2/2 (100.0%)" in proc.stdout


def test_ask_path_never_imports_telegram(tmp_path: Path) -> None:
    code = (
        "import sys; from bot.cli import main; main(['ask', 'Who chaired the meeting?']); "
        "print('telegram' in sys.modules)"
    )
    shipped_config(tmp_path)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.stdout.strip().endswith("False")


def test_article_file_is_shipped() -> None:
    assert ARTICLE.exists()
