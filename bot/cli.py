"""The `talksbot` command: parses arguments, sets up logging, and turns errors into one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot import __version__
from bot.config import Config, config_path, load_config
from bot.errors import CorpusError, TalksbotError
from bot.library import Library
from bot.logsafety import install_redaction

logger = logging.getLogger(__name__)
# Line breaks to readers other than Python's file iteration (str.splitlines, JavaScript): escaped in
# `ask --json` output so that each answer is exactly one line whoever splits it.
_JSON_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for all subcommands."""
    parser = argparse.ArgumentParser(
        prog="talksbot",
        description="Answers questions about the NATO-Russia Council talks of 12 January 2022 "
        "with sourced excerpts of the article.",
    )
    parser.add_argument("--config", metavar="FILE", help="config file (default: $TALKSBOT_CONFIG, then ./config.yaml)")
    parser.add_argument("--version", action="version", version=f"talksbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("console", help="ask questions at an interactive prompt")
    ask = commands.add_parser("ask", help="answer questions given as arguments, or one per line of stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object per question per line")
    ask.add_argument("question", nargs="*", help="questions, one per argument (none: one per line of stdin)")
    commands.add_parser("check", help="validate the config and the corpus")
    evaluate = commands.add_parser("eval", help="score the answers on question files, or cross-validate the model")
    evaluate.add_argument("questions", type=Path, nargs="+", help="YAML files like shared/eval/dev-questions.yaml")
    evaluate.add_argument("--show-misses", action="store_true")
    evaluate.add_argument("--cv", action="store_true", help="cross-validate training on these files instead")
    evaluate.add_argument("--report", type=Path, metavar="FILE", help="with --cv: also write the report (QUALITY.md)")
    learn = commands.add_parser("train", help="fit the answer model on labelled questions (and readers' votes)")
    learn.add_argument("questions", type=Path, nargs="+", help="YAML files like shared/eval/dev-questions.yaml")
    learn.add_argument("--feedback", type=Path, metavar="FILE", help="readers' 👍/👎 votes (feedback.jsonl)")
    learn.add_argument("--output", "-o", type=Path, required=True, help="the model file to write")
    page = commands.add_parser(
        "import",
        help="turn a web page, a saved page, a page copy or a corpus file into a corpus file",
        description="Import an article: SOURCE is an http(s) address, a saved page (.html, .htm), a text copy "
        "of a page (.txt: needs --title, --url, --published) or a corpus file (.md, validated and normalised). "
        "The options replace what the page says.",
    )
    page.add_argument("source", help="https://… address, or a .html, .htm, .txt or .md file")
    page.add_argument("--url", help="the article's address (default: the page's canonical address)")
    page.add_argument("--title", help="the headline (default: the page's title)")
    page.add_argument("--published", metavar="YYYY-MM-DD", help="publication date (default: the page's date)")
    page.add_argument("--publisher", help="the publisher's name (default: the page's site name)")
    page.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    page.add_argument("--force", action="store_true", help="replace the output file if it exists")
    commands.add_parser("telegram", help="run the Telegram bot (token in $TELEGRAM_BOT_TOKEN)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        args.command = "console"
    # Bytes that are not UTF-8 on stdin, or lone surrogates from argv, become U+FFFD or "?"
    # instead of a UnicodeDecodeError/UnicodeEncodeError traceback halfway through the answers.
    for stream in (sys.stdin, sys.stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        config = load_config(config_path(args.config))
        logging.basicConfig(
            level=config.logging.level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        install_redaction(os.environ.get("TELEGRAM_BOT_TOKEN", ""), os.environ.get("TELEGRAM_WEBHOOK_SECRET", ""))
        return _run(args, config)
    except CorpusError as exc:
        for problem in exc.problems:  # every broken file or line, one line each
            print(f"Error: {problem}", file=sys.stderr)
        if args.command == "check" and config_path(args.config) is None:
            print(f"(config: {_config_used(args.config)})", file=sys.stderr)
        return 1
    except TalksbotError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _config_used(explicit: str | None) -> str:
    """Which config a command read, for `check`'s report: the file, or none (the defaults)."""
    path = config_path(explicit)
    if path is None:
        return "none found (no --config, no $TALKSBOT_CONFIG, no ./config.yaml): the defaults, corpus ./corpus"
    return str(path.resolve())


def _run(args: argparse.Namespace, config: Config) -> int:
    if args.command == "import":
        return _import(args, config)
    if args.command == "telegram":
        from bot.telegram.reload import StartupSignals

        startup_signals = StartupSignals()  # before the slow imports and the corpus load
        from bot.telegram.app import run_telegram

        return run_telegram(config, startup_signals)
    if args.command == "train" or (args.command == "eval" and args.cv):
        return _learn(args, config)
    library = Library(config.corpus.path, config.answer, cache_dir=config.corpus.cache_dir)
    if args.command == "console":
        from bot.console import run_console

        return run_console(library)
    if args.command == "ask":
        questions: Iterable[str] = args.question or (line.rstrip("\r\n") for line in sys.stdin)
        return _ask(library, questions, args.json)
    if args.command == "check":
        counts = library.passage_counts()
        for doc in library.documents:
            print(f"{doc.doc_id}: {counts[doc.doc_id]} passages — {doc.title} ({doc.published}) {doc.url}")
        from bot.render import telegram_warnings

        for warning in telegram_warnings(library.documents):
            print(f"Warning: {warning}")
        rules = library.synonym_rules
        source = config.source or "defaults"
        print(f"OK: config {source}; corpus {config.corpus.path}: {library.size}, {rules} synonym rules")
        return 0
    if args.command == "eval":
        return _eval(library, args.questions, args.show_misses)
    raise TalksbotError(f"unknown command {args.command}")  # pragma: no cover - argparse prevents it


def _ask(library: Library, questions: Iterable[str], as_json: bool) -> int:
    from bot.render import to_json, to_plain

    for question in questions:
        result = library.ask(question)
        if as_json:
            print(json.dumps(to_json(result), ensure_ascii=False).translate(_JSON_LINE_BREAKS), flush=True)
        else:
            print(to_plain(result, library.settings.max_question_chars) + "\n", flush=True)
    return 0


def _eval(library: Library, paths: Sequence[Path], show_misses: bool) -> int:
    from bot.library import score_file

    for path in paths:
        if len(paths) > 1:
            print(f"== {path}")
        print(score_file(path, library, show_misses))
    return 0


def _learn(args: argparse.Namespace, config: Config) -> int:
    """`train`: fit and write the model; `eval --cv`: cross-validate, print and write the report."""
    from bot.library import learn_model, quality_report

    cross_validated = getattr(args, "cv", False)
    feedback = getattr(args, "feedback", None)
    learned = learn_model(args.questions, config.corpus.path, config.answer, feedback, cross_validated)
    if args.command == "train":
        _write(args.output, learned.model.dumps())
        trained = f"trained on {learned.questions} questions from {learned.files} files"
        print(f"wrote {args.output}: {trained}", file=sys.stderr)
        return 0
    text = quality_report(learned, "talksbot eval --cv " + " ".join(str(p) for p in args.questions))
    print(text)
    if args.report is not None:
        _write(args.report, text)
    return 0


def _write(path: Path, text: str) -> None:
    """Write a file whole, or raise TalksbotError saying why not."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TalksbotError(f"cannot write {path}: {exc.strerror or exc}") from None


def _import(args: argparse.Namespace, config: Config) -> int:
    from bot.errors import OutputExists
    from bot.library import check_output, fetch_page, page_kind, page_overrides, read_page, write_page

    overrides = page_overrides(args.url, args.title, args.published, args.publisher)
    output: Path | None = args.output
    try:
        if output is not None:  # before any download: a wrong -o is said at once
            check_output(output, overwrite=args.force)
        source: str = args.source
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source):
            article = fetch_page(source, config.import_, overrides, option="SOURCE")
        else:
            kind = page_kind(source)
            path = Path(source)
            try:
                if not path.is_file():
                    raise TalksbotError(f"cannot read {path}: {'a folder' if path.is_dir() else 'no such file'}")
                data = path.read_bytes()
            except OSError as exc:
                raise TalksbotError(f"cannot read {path}: {exc.strerror or exc}") from None
            article = read_page(data, kind, overrides)
        if output is None:
            sys.stdout.write(article.to_markdown())
            return 0
        write_page(article, output, overwrite=args.force)
    except OutputExists as exc:
        raise TalksbotError(f"{exc}; add --force to replace it") from None
    paragraphs = len(article.paragraphs)
    print(f"wrote {output}: {article.title} ({article.published}), {paragraphs} paragraphs", file=sys.stderr)
    return 0
