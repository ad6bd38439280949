"""The `talksbot` command: parses arguments, sets up logging, and turns errors into one line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
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
    evaluate = commands.add_parser("eval", help="score the answers on a question file")
    evaluate.add_argument("questions", type=Path, help="YAML file like shared/eval/dev-questions.yaml")
    evaluate.add_argument("--show-misses", action="store_true")
    evaluate.add_argument("--calibrate", action="store_true", help="sweep the refusal threshold")
    page = commands.add_parser("import", help="turn a raw page copied from the site into a corpus file")
    page.add_argument("page", type=Path, help="the raw page text")
    page.add_argument("--url", required=True)
    page.add_argument("--title", required=True)
    page.add_argument("--published", required=True, metavar="YYYY-MM-DD")
    page.add_argument("--publisher", default="Euromaidan Press")
    page.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
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
        return _import(args)
    if args.command == "telegram":
        from bot.telegram_reload import StartupSignals

        startup_signals = StartupSignals()  # before the slow imports and the corpus load
        from bot.telegram_app import run_telegram

        return run_telegram(config, startup_signals)
    library = Library(config.corpus.path, config.answer, cache_dir=config.corpus.cache_dir)
    if args.command == "console":
        from bot.console import run_console

        return run_console(library)
    if args.command == "ask":
        questions: Iterable[str] = args.question or (line.rstrip("\r\n") for line in sys.stdin)
        return _ask(library, questions, args.json)
    if args.command == "check":
        knowledge = library.knowledge
        for doc in knowledge.corpus.documents:
            count = sum(1 for p in knowledge.index.passages if p.doc_id == doc.doc_id)
            print(f"{doc.doc_id}: {count} passages — {doc.title} ({doc.published}) {doc.url}")
        from bot.render import telegram_warnings

        for warning in telegram_warnings(knowledge.corpus.documents):
            print(f"Warning: {warning}")
        rules = len(knowledge.corpus.synonyms.rules)
        source = config.source or "defaults"
        print(f"OK: config {source}; corpus {config.corpus.path}: {library.size}, {rules} synonym rules")
        return 0
    if args.command == "eval":
        return _eval(library, args.questions, args.show_misses, args.calibrate)
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


def _eval(library: Library, path: Path, show_misses: bool, calibrate: bool) -> int:
    from bot.answer import answer
    from bot.evaluate import load_items, report, score

    items = load_items(path)
    print(report(score(items, library.ask), show_misses))
    if calibrate:
        # The refusal threshold is the minimum question coverage; sweep it and print accuracy, so
        # the default in answer.Settings can be set to the middle of the best plateau.
        print("min_coverage sweep (threshold: correct answers)")
        for step in range(0, 21):
            threshold = step / 20
            settings = dataclasses.replace(library.settings, min_coverage=threshold)
            knowledge = library.knowledge
            outcomes = score(items, lambda q: answer(q, knowledge, settings))  # noqa: B023
            print(f"  {threshold:.2f}: {sum(o.correct for o in outcomes)}/{len(outcomes)}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from bot.corpus import import_page, parse_document

    try:
        raw = args.page.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise TalksbotError(f"cannot read {args.page}: {exc.strerror or exc}") from None
    text = import_page(raw, url=args.url, title=args.title, published=args.published, publisher=args.publisher)
    parse_document(text, "imported", str(args.output or "output"))  # the result must load
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
