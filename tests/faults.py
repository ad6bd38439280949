"""Corpus and config faults, and how the bot must meet them.

Each fault breaks a scratch copy of the corpus (or writes a bad config); the runners check the
promises: `talksbot check` names the file and the problem, one line each, exits 1, no traceback;
Library.reload() refuses with the same problems and keeps answering exactly as before.
Shared by tests/test_corpus_faults.py, tests/test_config_faults.py and reports/reliability.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge import Settings
from bot.library import Library
from bot.render import to_json
from tests.common import REPO
from tests.hostile import check_question, shared_library

DOC = "2022-01-12-nato-russia-brussels-talks.md"
CLI_TIMEOUT = 60
# A fake token of the real shape (digits, colon, 35 characters); never a real one.
FAKE_TOKEN = "123456789:" + "AAHfakeTOKEN" + "fakeTOKENfakeTOKEN12345"  # split: no real-token shape in the source

PROBE_QUESTIONS = (
    "Who led the Russian delegation?",
    "What did NATO and Russia agree on?",
    "What did Wendy Sherman say about diplomacy?",
    "Who chaired the meeting?",
    "When did the meeting take place?",
    "Does Russia have a veto?",
    "What is the recipe for borscht?",
    "",
)


def front_matter(url: str | None = "https://example.com/a", **overrides: str | None) -> str:
    """Return a front matter block; an override of None leaves that key out."""
    meta: dict[str, str | None] = {
        "title": "A title",
        "url": url,
        "publisher": "A publisher",
        "published": "2022-01-12",
    }
    meta.update(overrides)
    lines = [f"{key}: {value}" for key, value in meta.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n"


def document(
    url: str | None = "https://example.com/a", body: str = "Some story text. It has sentences.", **kw: str | None
) -> str:
    """Return a whole valid corpus document (front matter and body) unless overridden."""
    return front_matter(url, **kw) + body + "\n"


# --- how each fault breaks the corpus ------------------------------------------------------------


def _write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return apply


def _huge(folder: Path) -> None:
    path = folder / "huge.md"
    with path.open("wb") as handle:  # sparse: 50 MB long, next to nothing on disk, instant
        handle.write(front_matter().encode())
        handle.truncate(50 * 1024 * 1024)


def _symlink_outside(folder: Path) -> None:
    outside = folder.parent / "outside.md"
    outside.write_text(document("https://example.com/outside"), encoding="utf-8")
    (folder / "linked.md").symlink_to(outside)


def _symlink_loop(folder: Path) -> None:
    (folder / "loop.md").symlink_to(folder / "loop.md")


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.md")  # reading it would block for ever


def _no_documents(folder: Path) -> None:
    for path in folder.glob("*.md"):
        path.unlink()


def _remove_folder(folder: Path) -> None:
    shutil.rmtree(folder)


def alias_bomb() -> str:
    """A YAML flow list of 1 KB whose str() would be 9**9 "lol"s (a "billion laughs")."""
    levels = ['&l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "[" + ", ".join(levels) + "]"


def _several(folder: Path) -> None:
    _write("latin1.md", document("https://example.com/latin", body="Café crème.").encode("latin-1"))(folder)
    _write("nourl.md", document(url=None))(folder)
    _write("synonyms.txt", "alliance => nato => west\n")(folder)


@dataclass(frozen=True)
class CorpusFault:
    """One way to break the corpus, and what the error must say (each string, in one line)."""

    name: str
    apply: Callable[[Path], None]
    expect: tuple[tuple[str, ...], ...]  # per problem line: the strings it must contain
    requires: str = ""  # a platform feature ("mkfifo") the fault needs


CORPUS_FAULTS: tuple[CorpusFault, ...] = (
    CorpusFault(
        "non-UTF-8 file",
        _write("latin1.md", document(body="Café crème, naïve façade.").encode("latin-1")),
        (("latin1.md", "is not UTF-8 text"),),
    ),
    CorpusFault(
        "binary file",
        _write("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8),
        (("image.md", "binary file"),),
    ),
    CorpusFault("50 MB file", _huge, (("huge.md", "too large", "52,428,800 bytes"),)),
    CorpusFault(
        "symlink pointing outside corpus/", _symlink_outside, (("linked.md", "links outside the corpus folder"),)
    ),
    CorpusFault("symlink loop", _symlink_loop, (("loop.md", "cannot be read"),)),
    CorpusFault("FIFO named *.md", _fifo, (("pipe.md", "is not a regular file"),), requires="mkfifo"),
    CorpusFault("document with only front matter", _write("empty.md", front_matter()), (("empty.md", "empty body"),)),
    CorpusFault("no front matter", _write("notes.md", "# Notes\n\nJust text.\n"), (("notes.md", "no front matter"),)),
    CorpusFault(
        "duplicate URL",
        _write("copy.md", (REPO / "corpus" / DOC).read_bytes()),
        (("copy.md", f"same url as {DOC}"),),
    ),
    CorpusFault(
        "broken front matter YAML",
        _write("broken.md", "---\ntitle: [unclosed\nurl: https://example.com/b\n---\nText.\n"),
        (("broken.md", "broken front matter"),),
    ),
    CorpusFault(
        "control character in front matter",
        _write("ctrl.md", document("https://example.com/c", title="Bad\x01title")),
        (("ctrl.md", "broken front matter", "character"),),
    ),
    CorpusFault("missing url", _write("nourl.md", document(url=None)), (("nourl.md", "missing 'url'"),)),
    CorpusFault(
        "url not a link",
        _write("badurl.md", document(url="javascript:alert(1)")),
        (("badurl.md", "'url' must be an http(s) link"),),
    ),
    CorpusFault(
        "bad date",
        _write("baddate.md", document(published="someday")),
        (("baddate.md", "'published' must be a date like 2022-01-12", "someday"),),
    ),
    CorpusFault(
        "impossible date (2022-13-45)",
        _write("baddate.md", document(published="2022-13-45")),
        (("baddate.md", "broken front matter", "month must be in 1..12"),),
    ),
    CorpusFault(
        "unknown front matter key",
        _write("extra.md", document(author="Someone")),
        (("extra.md", "unknown front matter key 'author'"),),
    ),
    CorpusFault(
        "YAML alias bomb",
        _write("bomb.md", document("https://example.com/bomb", title=alias_bomb())),
        (("bomb.md", "'title' must be a single value"),),
    ),
    CorpusFault(
        "deeply nested YAML",
        _write("deep.md", document("https://example.com/deep", title="[" * 1000 + "]" * 1000)),
        (("deep.md", "nest"),),
    ),
    CorpusFault(
        "malformed synonyms.txt",
        _write("synonyms.txt", "alliance => nato => west\n# fine\nlonely\nstoltenberg, , nato chief\n"),
        (
            ("synonyms.txt line 1", "more than one '=>'"),
            ("synonyms.txt line 3", "a group needs two or more"),
            ("synonyms.txt line 4", "empty entry"),
        ),
    ),
    CorpusFault("no documents", _no_documents, (("corpus", "no documents"),)),
    CorpusFault("corpus folder removed", _remove_folder, (("corpus", "corpus folder does not exist"),)),
    CorpusFault(
        "several broken files at once",
        _several,
        (("latin1.md", "not UTF-8"), ("nourl.md", "missing 'url'"), ("synonyms.txt line 1", "more than one '=>'")),
    ),
)


def available(fault: CorpusFault) -> bool:
    """Whether this platform can make the fault (a FIFO needs os.mkfifo)."""
    return not fault.requires or hasattr(os, fault.requires)


# --- running the command line --------------------------------------------------------------------


@dataclass(frozen=True)
class CliResult:
    """What one `python -m bot …` run did."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        """stderr's non-empty lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a CLI run: no inherited config or token, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("TALKSBOT_CONFIG", "TELEGRAM_BOT_TOKEN", "CI")}
    env.update(extra or {})
    return env


def run_cli(args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, stdin: bytes = b"") -> CliResult:
    """Run `python -m bot ARGS` in cwd and return its exit status and output (bounded in time)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=cli_env(env),
        input=stdin,
        capture_output=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    return CliResult(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


def one_line_errors(result: CliResult, expect: Sequence[Sequence[str]]) -> list[str]:
    """Return how a failed run breaks "one clear line per problem, exit 1, no traceback"."""
    problems = []
    if result.returncode != 1:
        problems.append(f"exit status {result.returncode}, not 1")
    if "Traceback" in result.stderr or "Traceback" in result.stdout:
        problems.append("a traceback was printed")
    lines = result.error_lines
    if len(lines) != len(expect):
        problems.append(f"{len(lines)} error lines for {len(expect)} problems: {lines[:5]}")
    for line in lines:
        if not line.startswith("Error: "):
            problems.append(f"line not starting 'Error: ': {line[:100]!r}")
        if len(line) > 400:
            problems.append(f"error line of {len(line)} characters")
    for wanted in expect:
        if not any(all(part in line for part in wanted) for line in lines):
            problems.append(f"no line names {' / '.join(wanted)}: {lines[:5]}")
    return problems


# --- corpus faults: `check` and reload -----------------------------------------------------------


@dataclass
class FaultOutcome:
    """How the bot met one fault: its problems (none: every promise kept) and the figures."""

    name: str
    problems: list[str] = field(default_factory=list)
    questions: int = 0  # probe questions asked after the refused reload
    same_answers: int = 0
    first_error: str = ""
    seconds: float = 0.0


def make_workdir(base: Path) -> tuple[Path, Path]:
    """Copy the corpus to base/corpus and write base/config.yaml; return (corpus, config)."""
    corpus = base / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    config = base / "config.yaml"
    config.write_text("corpus:\n  path: corpus\n", encoding="utf-8")
    return corpus, config


def probe(library: Library) -> list[str]:
    """The library's answers to PROBE_QUESTIONS, as `ask --json` lines."""
    return [json.dumps(to_json(library.ask(q)), sort_keys=True) for q in PROBE_QUESTIONS]


def run_corpus_fault(fault: CorpusFault, base: Path) -> FaultOutcome:
    """Serve the good corpus, break it, reload, ask again, and run `talksbot check` on it."""
    started = time.monotonic()
    outcome = FaultOutcome(fault.name)
    corpus, config = make_workdir(base)
    library = Library(corpus, Settings(), rarity=shared_library().rarity)
    before_size, before = library.size, probe(library)

    fault.apply(corpus)
    result = library.reload()
    after = probe(library)
    outcome.questions = len(after)
    outcome.same_answers = sum(a == b for a, b in zip(before, after, strict=True))
    if result.ok:
        outcome.problems.append("reload accepted the broken corpus")
    if library.size != before_size or result.after != before_size:
        outcome.problems.append(f"serving {library.size} after the refused reload, not {before_size}")
    if outcome.same_answers != len(before):
        outcome.problems.append(f"{len(before) - outcome.same_answers} answers changed after the refused reload")
    for wanted in fault.expect:
        if not any(all(part in line for part in wanted) for line in result.problems):
            outcome.problems.append(f"reload did not name {' / '.join(wanted)}: {result.problems[:3]}")
    if "\n" in result.error:
        outcome.problems.append("reload error is not one line")

    checked = run_cli(["--config", str(config), "check"], cwd=base)
    outcome.problems.extend(f"check: {p}" for p in one_line_errors(checked, fault.expect))
    lines = checked.error_lines
    outcome.first_error = (lines[0] if lines else "") + (
        f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else ""
    )
    outcome.seconds = time.monotonic() - started
    return outcome


def many_documents(folder: Path, count: int) -> None:
    """Add `count` small valid documents with distinct URLs to a corpus folder."""
    sub = folder / "bulk"
    sub.mkdir()
    for n in range(count):
        body = (
            f"Report number {n} describes meeting {n} of the working group on topic {n * 7 % 101}.\n\n"
            f"Delegates from {n % 30 + 1} countries attended; the next round is planned for week {n % 52 + 1}."
        )
        (sub / f"doc-{n:04d}.md").write_text(
            document(f"https://example.com/bulk/{n}", body=body, title=f"Bulk report {n}"), encoding="utf-8"
        )


def run_many_documents(base: Path, count: int = 1000) -> FaultOutcome:
    """Grow the corpus to `count` more documents: the reload takes, `check` lists them all."""
    started = time.monotonic()
    outcome = FaultOutcome(f"{count:,} documents")
    corpus, config = make_workdir(base)
    library = Library(corpus, Settings(), rarity=shared_library().rarity)
    many_documents(corpus, count)
    result = library.reload()
    if not result.ok or library.size.documents != count + 1:
        outcome.problems.append(f"reload: {result.error or library.size}")
    for question in PROBE_QUESTIONS:
        problems, _ = check_question(question, library.ask, library.settings, library)
        outcome.questions += 1
        outcome.same_answers += not problems
        outcome.problems.extend(problems)
    if not library.ask("Who led the Russian delegation?").found:
        outcome.problems.append("the article's answers were crowded out")
    checked = run_cli(["--config", str(config), "check"], cwd=base)
    if checked.returncode != 0 or f"{count + 1} documents" not in checked.stdout or "Traceback" in checked.stderr:
        outcome.problems.append(f"check: exit {checked.returncode}: {checked.stderr.strip()[-200:]}")
    outcome.first_error = checked.stdout.splitlines()[-1] if checked.stdout else ""
    outcome.seconds = time.monotonic() - started
    return outcome


# --- config faults ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigFault:
    """One bad configuration: how to make it, and what its one error line must contain."""

    name: str
    setup: Callable[[Path], tuple[list[str], dict[str, str]]]  # workdir → (CLI args before the command, env)
    expect: tuple[str, ...]
    absent: tuple[str, ...] = ()  # what must NOT be printed (the token)


def _config(text: str | bytes, name: str = "config.yaml") -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    def setup(base: Path) -> tuple[list[str], dict[str, str]]:
        (base / "corpus").mkdir(exist_ok=True)
        shutil.copy(REPO / "corpus" / DOC, base / "corpus" / DOC)
        path = base / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return ["--config", str(path)], {}

    return setup


def _config_via_env(text: str) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    def setup(base: Path) -> tuple[list[str], dict[str, str]]:
        _, env = _config(text, "env-config.yaml")(base)
        return [], {**env, "TALKSBOT_CONFIG": str(base / "env-config.yaml")}

    return setup


def _config_is_directory(base: Path) -> tuple[list[str], dict[str, str]]:
    (base / "config-dir.yaml").mkdir()
    return ["--config", str(base / "config-dir.yaml")], {}


def _missing(base: Path) -> tuple[list[str], dict[str, str]]:
    return ["--config", str(base / "no-such-config.yaml")], {}


def _missing_via_env(base: Path) -> tuple[list[str], dict[str, str]]:
    return [], {"TALKSBOT_CONFIG": str(base / "nowhere" / "config.yaml")}


CONFIG_FAULTS: tuple[ConfigFault, ...] = (
    ConfigFault("typo'd key", _config("answer:\n  exerpt_chars: 400\n"), ("unknown config key 'answer.exerpt_chars'",)),
    ConfigFault("typo'd section", _config("anwser:\n  excerpt_chars: 400\n"), ("unknown config key 'anwser'",)),
    ConfigFault(
        "wrong type", _config("answer:\n  excerpt_chars: lots\n"), ("'answer.excerpt_chars' must be a whole number",)
    ),
    ConfigFault("section not a mapping", _config("answer: 5\n"), ("'answer' must be a mapping",)),
    ConfigFault(
        "excerpt_chars above 500",
        _config("answer:\n  excerpt_chars: 501\n"),
        ("'answer.excerpt_chars' must be between 50 and 500", "501"),
    ),
    ConfigFault(
        "admins not numeric ids", _config("telegram:\n  admins: [alice]\n"), ("'telegram.admins' must be a list",)
    ),
    ConfigFault(
        "missing corpus folder", _config("corpus:\n  path: no-such-folder\n"), ("no-such-folder", "does not exist")
    ),
    ConfigFault(
        "token pasted into config.yaml",
        _config(f"telegram:\n  token: {FAKE_TOKEN}\n"),
        ("looks like a bot token", "TELEGRAM_BOT_TOKEN"),
        absent=(FAKE_TOKEN, FAKE_TOKEN.split(":")[1]),
    ),
    ConfigFault(
        "token in invalid YAML",
        _config(f"telegram: [{FAKE_TOKEN}\n"),
        ("looks like a bot token",),
        absent=(FAKE_TOKEN, FAKE_TOKEN.split(":")[1]),
    ),
    ConfigFault("invalid YAML", _config("answer: [unclosed\n"), ("is not valid YAML",)),
    ConfigFault("not UTF-8", _config("answer:\n  # caf\xe9\n".encode("latin-1")), ("is not UTF-8",)),
    ConfigFault("impossible date value", _config("answer:\n  excerpt_chars: 2022-13-45\n"), ("is not valid YAML",)),
    ConfigFault("deeply nested YAML", _config("answer: " + "[" * 1000 + "]" * 1000 + "\n"), ("nest",)),
    ConfigFault(
        "YAML alias bomb as a value",
        _config(f"answer:\n  excerpt_chars: {alias_bomb()}\n"),
        ("'answer.excerpt_chars' must be a whole number", "..."),
    ),
    ConfigFault(
        "100,000-character value",
        _config("answer:\n  excerpt_chars: " + "x" * 100_000 + "\n"),
        ("'answer.excerpt_chars' must be a whole number", "..."),
    ),
    ConfigFault("top level not a mapping", _config("- corpus\n- answer\n"), ("must be a mapping of sections",)),
    ConfigFault("config is a directory", _config_is_directory, ("cannot read config",)),
    ConfigFault("--config pointing nowhere", _missing, ("cannot read config", "no-such-config.yaml")),
    ConfigFault("TALKSBOT_CONFIG pointing nowhere", _missing_via_env, ("cannot read config", "nowhere")),
    ConfigFault(
        "TALKSBOT_CONFIG with a typo", _config_via_env("answer:\n  exerpt_chars: 400\n"), ("'answer.exerpt_chars'",)
    ),
)


def run_config_fault(fault: ConfigFault, base: Path) -> list[str]:
    """Run `talksbot check` with this config; return how it breaks "one clear line, exit 1"."""
    args, env = fault.setup(base)
    result = run_cli([*args, "check"], cwd=base, env=env)
    problems = one_line_errors(result, [fault.expect])
    for secret in fault.absent:
        if secret in result.stderr or secret in result.stdout:
            problems.append("the token was printed")
    return problems


# --- hostile questions through `talksbot ask --json` -----------------------------------------------

# One question per stdin line (only \n, \r and \r\n end a line for Python's text stdin).
CLI_QUESTIONS: tuple[bytes, ...] = (
    b"",
    b"   \t  \xc2\xa0 ",
    b"x" * 5000,
    ("Who chaired the meeting? " * 200).encode(),
    "🇺🇦🙂 who chaired the meeting? 👨‍👩‍👧‍👦".encode(),
    "\u202eWho chaired the meeting\u202c مرحبا".encode(),
    b'<a href="javascript:alert(1)">Who chaired the meeting?</a>',
    b"**Who** _led_ the `Russian` [delegation](javascript:x)? <b>&amp;</b>",
    b"Who\x00 chaired\x1b[31m the\x07 meeting\x7f? \x0b\x0c\x1c\x1d\x1e",
    "Who\u2028chaired\u2029the\x85meeting\u200b?\ufeff".encode(),
    b"Who chaired the \xff\xfe meeting?",
    b"\xed\xa0\x80 lone surrogate, encoded",
    b"Stoltenberg" * 500,
    b"?!...;;;---",
    b"what is the of and to who",
    b"/reload",
)
# The environments a console may give: the inherited one, and a strict UTF-8 locale such as
# en_US.UTF-8, where Python refuses undecodable bytes instead of smuggling them through.
CLI_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "inherited locale": {},
    "strict UTF-8 locale": {"PYTHONIOENCODING": "utf-8:strict"},
}


@dataclass
class CliOutcome:
    """How `ask --json` met a batch of questions."""

    tried: int
    answered: int
    lost: int
    duplicated: int
    problems: list[str]


def run_cli_questions(base: Path, env: Mapping[str, str]) -> CliOutcome:
    """Pipe CLI_QUESTIONS (plus one as an argument with a non-UTF-8 byte) through `ask --json`."""
    _, config = make_workdir(base)
    problems: list[str] = []
    expected = [q.decode("utf-8", "replace") for q in CLI_QUESTIONS]
    batch = run_cli(["--config", str(config), "ask", "--json"], cwd=base, env=env, stdin=b"\n".join(CLI_QUESTIONS))
    argv = run_cli(["--config", str(config), "ask", "--json", os.fsdecode(b"Who chaired \xff the meeting?")], base, env)
    plain = run_cli(["--config", str(config), "ask"], cwd=base, env=env, stdin=b"\n".join(CLI_QUESTIONS))
    answered = 0
    lines = batch.stdout.split("\n")[:-1]
    if lines != batch.stdout.splitlines():
        problems.append("a JSON line holds a character str.splitlines() breaks at (U+2028, U+0085, …)")
    for n, line in enumerate(lines):
        try:
            data = json.loads(line)
        except ValueError:
            problems.append(f"line {n + 1} is not JSON: {line[:80]!r}")
            continue
        if n < len(expected) and data.get("question") == expected[n] and isinstance(data.get("found"), bool):
            answered += 1
        else:
            problems.append(f"line {n + 1} answers {str(data.get('question'))[:40]!r}")
    argv_lines = argv.stdout.splitlines()
    if len(argv_lines) != 1 or json.loads(argv_lines[0])["question"] != "Who chaired ? the meeting?":
        problems.append(f"argument with a non-UTF-8 byte: {argv.stdout[:120]!r} {argv.stderr[-200:]!r}")
    for name, run in (("ask --json", batch), ("ask (argument)", argv), ("ask", plain)):
        if run.returncode != 0 or "Traceback" in run.stderr:
            problems.append(f"{name}: exit {run.returncode}: {run.stderr.strip()[-300:]}")
    if plain.stdout.count("\n\n") < len(CLI_QUESTIONS):
        problems.append("plain `ask` gave fewer replies than questions")
    tried = len(CLI_QUESTIONS) + 1
    answered += len(argv_lines) == 1
    duplicated = max(0, len(lines) - len(CLI_QUESTIONS)) + max(0, len(argv_lines) - 1)
    return CliOutcome(tried, answered, tried - answered, duplicated, problems)
