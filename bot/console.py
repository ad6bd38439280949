"""The operator's console: a prompt with line editing and history that answers in plain text."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.library import Library
from bot.render import attribution, to_plain

HELP = """Ask a question about the story in plain words, for example:
  Who chaired the meeting?
Commands:
  /help    this text
  /source  the article(s) answers come from
  /reload  re-read the corpus folder
  /quit    leave (end of input works too)"""


def run_console(library: Library, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Answer lines from stdin until /quit or end of input; return the exit code."""
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        _enable_line_editing()
    print(f"talksbot: ask about the story ({library.size}). /help for commands, /quit to leave.", file=stdout)
    while True:
        try:
            line = input("> ") if interactive else stdin.readline()
        except EOFError:  # Ctrl-D at the prompt
            print(file=stdout)
            return 0
        except KeyboardInterrupt:  # Ctrl-C drops the line being typed; Ctrl-D or /quit leaves
            if not interactive:
                raise
            print(file=stdout)
            continue
        if line == "" and not interactive:  # end of input (an empty line reads as "\n")
            return 0
        text = line.strip()
        if not text:
            continue
        command = text.split()[0].casefold()
        if command in ("/quit", "/exit", "/q"):
            return 0
        if command == "/help":
            print(HELP, file=stdout)
        elif command == "/source":
            for doc in library.documents:
                print(f"{attribution(doc)}\n  {doc.url}", file=stdout)
        elif command == "/reload":
            result = library.reload()
            if result.ok:
                print(f"Reloaded: {result.before} before, {result.after} now.", file=stdout)
            else:
                print(f"Reload failed, still serving {result.before}: {result.error}", file=stdout)
        elif command.startswith("/"):
            print(f"Unknown command {command}; /help lists the commands.", file=stdout)
        else:
            print(to_plain(library.ask(text), library.settings.max_question_chars) + "\n", file=stdout)
        stdout.flush()


def _enable_line_editing() -> None:
    """Turn on readline editing and a history file kept between sessions."""
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return
    history = Path.home() / ".talksbot_history"
    try:
        readline.read_history_file(history)
    except OSError:
        pass
    readline.set_history_length(1000)
    import atexit

    atexit.register(_save_history, readline, history)


def _save_history(readline_module: object, history: Path) -> None:
    try:
        readline_module.write_history_file(history)  # type: ignore[attr-defined]
    except OSError:
        pass
