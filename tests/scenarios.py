"""Reliability scenarios: each runs real cases and returns rows of the RELIABILITY.md table.

A scenario is a function (scratch folder, quick) → list[Row], registered with @scenario; when
quick is true it runs a small sample of its cases (tests/test_reliability.py does that on every
CI run, so the scenario cannot rot), else all of them. To add rows
(the Telegram faults: 429, 500/502, read timeout, connection refused, malformed JSON, 409 on
getUpdates, reload under load, rate-limit flood), write tests/scenarios_telegram.py:

    from tests.scenarios import Row, scenario

    @scenario("Faults from Telegram", unit="questions sent through the Bot API imitation", cheap=False)
    def telegram_faults(scratch: Path, quick: bool) -> list[Row]:
        ...  # run the same helper the pytest tests use, count, return one Row per fault

`python -m reports.reliability` imports every tests/scenarios*.py module, so nothing else needs
editing; delete the fault's entry from PENDING once its row is real. cheap=False marks a
scenario too slow even for a quick sample (the Hypothesis properties, which pytest runs anyway).
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests import faults
from tests.hostile import FIXED_CASES, TALLY, check_question, shared_library


@dataclass(frozen=True)
class Row:
    """One line of the table: a fault or input class and what happened to its cases.

    answered: cases that got the promised reply (an answer, a sensible refusal, or for a
    fault that stops the program, its one clear error line); lost: cases that got none or a
    wrong one; duplicated: cases answered more than once. `note` explains any non-zero
    lost or duplicated, or shows what the user saw.
    """

    name: str
    tried: int
    answered: int
    lost: int
    duplicated: int = 0
    note: str = ""
    problems: tuple[str, ...] = ()  # what checks beyond the counts found wrong
    kept: bool = True  # every promise of this row held (checks beyond the counts included): False if problems

    def __post_init__(self) -> None:
        if self.problems:
            object.__setattr__(self, "kept", False)

    def with_problems(self, more: list[str] | tuple[str, ...]) -> Row:
        """The same row with more problems found by checks beyond the counts."""
        return dataclasses.replace(self, problems=self.problems + tuple(more))


@dataclass(frozen=True)
class Scenario:
    """A registered scenario: its table section, what one case is, and how to run it."""

    group: str
    unit: str
    run: Callable[[Path, bool], list[Row]]
    cheap: bool


SCENARIOS: list[Scenario] = []

# Faults RELIABILITY.md should cover that no scenario measures yet (none: tests/scenarios_telegram.py has the
# Telegram adapter's).
PENDING: tuple[tuple[str, str], ...] = ()

_S = TypeVar("_S", bound=Callable[[Path, bool], list[Row]])


def scenario(group: str, *, unit: str, cheap: bool = True) -> Callable[[_S], _S]:
    """Register a scenario function under a table section."""

    def register(run: _S) -> _S:
        SCENARIOS.append(Scenario(group, unit, run, cheap))
        return run

    return register


_T = TypeVar("_T")
_R = TypeVar("_R")


def in_parallel(function: Callable[[_T, Path], _R], items: list[_T], workers: int = 4) -> list[_R]:
    """Run function(item, own scratch folder) for each item on a few threads (cases spawn processes)."""

    def one(item: _T) -> _R:
        with tempfile.TemporaryDirectory(prefix="talksbot-reliability-") as scratch:
            return function(item, Path(scratch))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, items))


def sample(items: Sequence[_T], quick: bool, size: int = 4) -> list[_T]:
    """All the items, or when quick about `size` of them spread over the list."""
    return list(items[:: max(1, len(items) // size)] if quick else items)


def _short(text: str, limit: int = 110) -> str:
    text = re.sub(r"/\S*?talksbot-reliability-[^/\s]+", "<scratch>", text)
    text = re.sub(r"/tmp/\S+?/(?=corpus\b|[\w.-]+\.yaml)", "<scratch>/", text)
    text = text.replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _found(found: int, tried: int) -> str:
    return f"{found:,} answered with an excerpt, {tried - found:,} refused"


# --- the scenarios of part A ---------------------------------------------------------------------


@scenario("Hostile and odd input: hand-picked cases", unit="questions, through Library.ask and all three renderers")
def fixed_hostile_cases(scratch: Path, quick: bool) -> list[Row]:
    library = shared_library()
    tried: dict[str, list[int]] = {}
    notes: dict[str, str] = {}
    for kind, question in FIXED_CASES:
        problems, found = check_question(question, library.ask, library.settings, library)
        counts = tried.setdefault(kind, [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += not problems
        counts[2] += bool(problems)
        counts[3] += found and not problems
        if problems:
            notes.setdefault(kind, "; ".join(problems))
    return [
        Row(kind, n, ok, lost, note=_short(notes.get(kind, _found(found, n))), kept=not lost)
        for kind, (n, ok, lost, found) in tried.items()
    ]


@scenario(
    "Hostile and odd input: property-based (Hypothesis)",
    unit="generated questions or answers; the same derandomized examples CI runs",
    cheap=False,
)
def hostile_properties(scratch: Path, quick: bool) -> list[Row]:
    from tests import test_properties  # here, so conftest's Hypothesis profile is loaded first

    TALLY.reset()
    failures: list[str] = []
    tests = (
        test_properties.test_library_ask_keeps_its_promises,
        test_properties.test_answer_keeps_its_promises_under_any_settings,
        test_properties.test_any_answer_renders_as_valid_telegram_html,
    )
    for test in tests:
        try:
            test()
        except Exception as exc:
            failures.append(f"{test.__name__}: {type(exc).__name__}")
    rows = []
    for kind in TALLY.tried:
        note = TALLY.examples.get(kind) or _found(TALLY.found[kind], TALLY.tried[kind])
        rows.append(
            Row(
                kind,
                TALLY.tried[kind],
                TALLY.answered[kind],
                TALLY.lost[kind],
                note=_short(note),
                kept=not TALLY.lost[kind],
            )
        )
    per_property = ", ".join(f"{name}: {count:,}" for name, count in TALLY.properties.items())
    rows.append(
        Row(
            "(all classes)",
            sum(TALLY.tried.values()),
            sum(TALLY.answered.values()),
            sum(TALLY.lost.values()),
            note=_short(per_property, 200),
            kept=not failures,
        )
    )
    return rows


@scenario("Hostile input through the command line", unit="questions piped to `talksbot ask --json` (one line each)")
def cli_questions(scratch: Path, quick: bool) -> list[Row]:
    names = sample(sorted(faults.CLI_ENVIRONMENTS), quick, 1)
    outcomes = in_parallel(lambda name, folder: faults.run_cli_questions(folder, faults.CLI_ENVIRONMENTS[name]), names)
    return [
        Row(
            f"hostile lines, {name}",
            o.tried,
            o.answered,
            o.lost,
            o.duplicated,
            note=_short("; ".join(o.problems) or "one JSON line per question, exit 0, no traceback"),
            kept=not o.problems,
        )
        for name, o in zip(names, outcomes, strict=True)
    ]


@scenario("Corpus faults", unit="probe questions asked across the refused reload (answers must not change)")
def corpus_faults(scratch: Path, quick: bool) -> list[Row]:
    chosen = sample([f for f in faults.CORPUS_FAULTS if faults.available(f)], quick)
    outcomes = in_parallel(faults.run_corpus_fault, chosen)
    rows = [
        Row(
            o.name,
            o.questions,
            o.same_answers,
            o.questions - o.same_answers,
            note=_short("; ".join(o.problems) or f"refused; `check`: {o.first_error}"),
            kept=not o.problems,
        )
        for o in outcomes
    ]
    many = faults.run_many_documents(scratch, 50 if quick else 1000)
    rows.append(
        Row(
            f"{many.name} (valid: must load)",
            many.questions,
            many.same_answers,
            many.questions - many.same_answers,
            note=_short("; ".join(many.problems) or f"reload accepted; `check`: {many.first_error}"),
            kept=not many.problems,
        )
    )
    return rows


@scenario("Config faults", unit="runs of `talksbot check` (answered: one clear `Error:` line, exit 1)")
def config_faults(scratch: Path, quick: bool) -> list[Row]:
    def run(fault: faults.ConfigFault, folder: Path) -> tuple[list[str], str]:
        args, env = fault.setup(folder)
        result = faults.run_cli([*args, "check"], cwd=folder, env=env)
        problems = faults.one_line_errors(result, [fault.expect])
        problems += ["the token was printed" for s in fault.absent if s in result.stderr + result.stdout][:1]
        return problems, (result.error_lines or [""])[0]

    chosen = sample(faults.CONFIG_FAULTS, quick)
    outcomes = in_parallel(run, chosen)
    return [
        Row(
            fault.name,
            1,
            int(not problems),
            int(bool(problems)),
            note=_short("; ".join(problems) or line),
            kept=not problems,
        )
        for fault, (problems, line) in zip(chosen, outcomes, strict=True)
    ]
