"""Retrieval quality on the shared dev questions and on our own held-out ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluate import load_items, report, score
from bot.library import Library
from tests.conftest import ROOT, SHARED

DEV = SHARED / "eval" / "dev-questions.yaml"


@pytest.mark.skipif(not DEV.exists(), reason="shared/eval is not beside this checkout")
def test_dev_questions_score_at_least_42_of_45(library: Library) -> None:
    outcomes = score(load_items(DEV), library.ask)
    correct = sum(o.correct for o in outcomes)
    assert correct >= 42, report(outcomes, show_misses=True)


def test_held_out_questions_score_at_least_85_percent(library: Library) -> None:
    outcomes = score(load_items(ROOT / "tests" / "data" / "extra-questions.yaml"), library.ask)
    correct = sum(o.correct for o in outcomes)
    assert correct >= 0.85 * len(outcomes), report(outcomes, show_misses=True)


def test_every_found_answer_is_short_and_sourced(library: Library, tmp_path: Path) -> None:
    for item in load_items(ROOT / "tests" / "data" / "extra-questions.yaml"):
        result = library.ask(item.question)
        if result.found:
            assert len(result.excerpt) <= 500
            assert result.document is not None and result.document.url.startswith("https://")
