"""The Telegram rows of RELIABILITY.md: tests/reliability_telegram.py's scenarios, registered.

Each runs the real bot as a subprocess against the Bot API imitation (slow, so not in the quick
sample; tests/test_telegram_reliability.py asserts on the same rows in every CI run).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from tests import reliability_telegram as telegram
from tests.scenarios import Row, scenario


def _adapt(run: Callable[[Path], list[Row]]) -> Callable[[Path, bool], list[Row]]:
    """Turn a Telegram scenario into a report scenario (it has no quick sample: it runs whole)."""

    def measured(scratch: Path, quick: bool) -> list[Row]:
        rows = run(scratch)
        return [dataclasses.replace(row, note="; ".join(filter(None, [row.note, *row.problems]))) for row in rows]

    return measured


for _scenario in telegram.SCENARIOS:
    scenario(_scenario.group, unit="updates through the Bot API imitation, real bot process", cheap=False)(
        _adapt(_scenario.run)
    )
