"""The answer path stays light: `ask` and `console` import neither python-telegram-bot nor the benchmarks' engines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.common import shipped_config

HEAVY = ("telegram", "rank_bm25", "bm25s", "matplotlib", "benchmarks")

PROBE = """
import sys
from bot.cli import main
status = main(sys.argv[1:])
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))
print('HEAVY', heavy, file=sys.stderr)
sys.exit(status or (3 if heavy else 0))
"""


@pytest.mark.parametrize(
    ("arguments", "stdin"),
    [
        (["ask", "Who chaired the meeting?"], ""),
        (["ask", "--json"], "What did they agree on?\n"),
        (["console"], "/quit\n"),
    ],
)
def test_ask_and_console_never_import_heavy_modules(arguments: list[str], stdin: str, tmp_path: Path) -> None:
    config = shipped_config(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), "--config", str(config), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr
    assert result.stdout.strip()
