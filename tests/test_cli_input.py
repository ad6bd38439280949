"""Hostile questions through `talksbot ask`: one JSON line per question, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import CLI_ENVIRONMENTS, CLI_QUESTIONS, run_cli_questions


@pytest.mark.parametrize("environment", sorted(CLI_ENVIRONMENTS))
def test_ask_json_answers_every_line_once(environment: str, tmp_path: Path) -> None:
    outcome = run_cli_questions(tmp_path, CLI_ENVIRONMENTS[environment])
    assert outcome.problems == []
    assert (outcome.tried, outcome.answered, outcome.lost, outcome.duplicated) == (len(CLI_QUESTIONS) + 1,) * 2 + (0, 0)
