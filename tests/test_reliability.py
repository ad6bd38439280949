"""The RELIABILITY.md generator runs (on a sample of each scenario) and reports what it measured."""

from __future__ import annotations

import re
from pathlib import Path

from reports import reliability
from tests.faults import CLI_QUESTIONS
from tests.scenarios import SCENARIOS, Row, Scenario

_ROW = re.compile(
    r"^\| (?P<name>[^|]+) \| (?P<tried>[\d,]+) \| (?P<answered>[\d,]+) \| (?P<lost>[\d,]+) \| "
    r"(?P<dup>[\d,]+) \| (?P<kept>[^|]+) \|"
)


def test_the_quick_report_has_every_cheap_scenario_and_no_losses(tmp_path: Path) -> None:
    output = tmp_path / "RELIABILITY.md"
    assert reliability.main(["--quick", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    for chosen in SCENARIOS:
        assert (f"## {chosen.group}" in text) == chosen.cheap
    rows = [m.groupdict() for line in text.splitlines() if (m := _ROW.match(line))]
    assert len(rows) >= 15
    for row in rows:
        assert (row["lost"], row["dup"], row["kept"].strip()) == ("0", "0", "yes"), row
        assert int(row["answered"].replace(",", "")) == int(row["tried"].replace(",", "")), row
    cli = next(r for r in rows if r["name"].startswith("hostile lines"))
    assert int(cli["tried"]) == len(CLI_QUESTIONS) + 1
    assert "## Not measured yet" not in text  # every fault listed has a measured row
    assert "/tmp/" not in text  # scratch paths are masked, so the report is reproducible


def test_a_row_that_loses_a_case_fails_unless_explained() -> None:
    fake = Scenario("Faults from Telegram", "questions", lambda scratch, quick: [], cheap=True)
    broken = Row("a fault", 10, 9, 1, 0, note="one lost", kept=False)
    text = reliability.render([(fake, [broken])], quick=True)
    assert "| a fault | 10 | 9 | 1 | 0 | **NO** | one lost |" in text
    assert reliability.failing_rows([(fake, [Row("silent", 10, 9, 1)])]) == ["Faults from Telegram / silent: "]
    explained = Row("dropped send", 10, 9, 1, note="Telegram may have dropped it; never resent")
    assert reliability.failing_rows([(fake, [explained])]) == []
