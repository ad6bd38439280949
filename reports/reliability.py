"""Write RELIABILITY.md: run every reliability scenario and tabulate what happened.

    python -m reports.reliability              # all scenarios (about a minute), writes RELIABILITY.md
    python -m reports.reliability --quick      # a sample of each cheap scenario (tests/test_reliability.py)
    python -m reports.reliability --check      # exit 1 if RELIABILITY.md is not what a fresh run writes

The figures come from running the cases with the same code the pytest tests use (tests/faults.py,
tests/hostile.py, and the Hypothesis properties themselves under the CI profile), so they match
CI. The output has no dates or timings, so a regenerated report differs only when a figure does.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import tempfile
from pathlib import Path

import tests
import tests.conftest  # registers and loads the Hypothesis profile CI uses
from tests.common import REPO
from tests.scenarios import PENDING, SCENARIOS, Row, Scenario

HEADER = """# Reliability

What talksbot survives, measured: every figure below comes from running the cases, with the
same code the test suite runs in CI. Regenerate with `python -m reports.reliability`.

Columns: **cases tried**; **answered**, cases that got the promised reply (an answer, a sensible
refusal, or, for a fault that stops the program, its one clear `Error:` line); **lost**, cases
that got no reply or a wrong one; **duplicated**, cases answered more than once. **kept** says
whether every promise of the row held, including checks beyond the counts (the fault named in
one line, no traceback, valid Telegram HTML, at most 500 characters of article text, …).
"""


def load_scenario_modules() -> None:
    """Import tests/scenarios*.py, so each registers its scenarios."""
    for module in pkgutil.iter_modules(tests.__path__):
        if module.name.startswith("scenarios"):
            importlib.import_module(f"tests.{module.name}")


def run(quick: bool) -> list[tuple[Scenario, list[Row]]]:
    """Run the scenarios (only the cheap ones when quick) and return their rows."""
    load_scenario_modules()
    results = []
    for chosen in SCENARIOS:
        if quick and not chosen.cheap:
            continue
        with tempfile.TemporaryDirectory(prefix="talksbot-reliability-") as scratch:
            results.append((chosen, chosen.run(Path(scratch), quick)))
    return results


def render(results: list[tuple[Scenario, list[Row]]], quick: bool) -> str:
    """Return RELIABILITY.md's text."""
    from hypothesis import settings

    profile = settings()
    lines = [HEADER]
    lines.append(
        f"Hypothesis profile: {settings.get_current_profile_name()} ({profile.max_examples:,} examples per property, "
        f"derandomized: {profile.derandomize})." + (" Quick run: a sample of the cases only." if quick else "")
    )
    measured = set()
    for chosen, rows in results:
        lines += ["", f"## {chosen.group}", "", f"A case: {chosen.unit}.", ""]
        lines += ["| fault or input class | cases tried | answered | lost | duplicated | kept | notes |"]
        lines += ["|---|---:|---:|---:|---:|:---:|---|"]
        for row in rows:
            measured.add((chosen.group, row.name))
            kept = "yes" if row.kept else "**NO**"
            lines.append(
                f"| {row.name} | {row.tried:,} | {row.answered:,} | {row.lost:,} | {row.duplicated:,} | {kept} "
                f"| {row.note} |"
            )
    pending = [(group, name) for group, name in PENDING if (group, name) not in measured]
    if pending:
        lines += [
            "",
            "## Not measured yet",
            "",
            "Faults to cover that no scenario measures yet.",
            "",
        ]
        lines += [f"- {group}: {name}" for group, name in pending]
    return "\n".join(lines) + "\n"


def failing_rows(results: list[tuple[Scenario, list[Row]]]) -> list[str]:
    """Rows that broke a promise, or lost or duplicated a case with no explanation in their note.

    A documented loss (a send Telegram may have dropped, never resent so nothing is answered
    twice) keeps its row: the scenario asserts exactly that behaviour and says why in the note.
    """
    return [
        f"{chosen.group} / {row.name}: {row.note}"
        for chosen, rows in results
        for row in rows
        if not row.kept or ((row.lost or row.duplicated) and not row.note)
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and write (or --check) the report; exit 1 if a row failed."""
    parser = argparse.ArgumentParser(prog="python -m reports.reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "RELIABILITY.md")
    parser.add_argument("--quick", action="store_true", help="a few cases of each cheap scenario")
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # refused reloads log warnings by design
    results = run(args.quick)
    text = render(results, args.quick)
    failed = failing_rows(results)
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m reports.reliability", file=sys.stderr)
            return 1
        return 1 if failed else 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {sum(len(rows) for _, rows in results)} rows, {len(failed)} failing")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
