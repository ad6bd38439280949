"""Scoring the engine on a question file (the format of shared/eval/dev-questions.yaml)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.answer import Answer
from bot.errors import TalksbotError
from bot.text import matchable

EXCERPT_LIMIT = 500


@dataclass(frozen=True)
class Item:
    """One question and its gold answer fragments ([] when the article does not answer)."""

    item_id: str
    question: str
    answers: tuple[str, ...]
    kind: str = ""


@dataclass(frozen=True)
class Outcome:
    """How one answer scored."""

    item: Item
    answer: Answer
    correct: bool


def load_items(path: Path) -> list[Item]:
    """Read a question file; a malformed one raises TalksbotError naming the problem."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TalksbotError(f"cannot read questions {path}: {exc}".splitlines()[0]) from None
    if not isinstance(raw, list):
        raise TalksbotError(f"{path}: expected a list of questions")
    items = []
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("question"), str):
            raise TalksbotError(f"{path}: item {n} needs a 'question'")
        answers = entry.get("answers") or []
        item_id, kind = str(entry.get("id", n)), str(entry.get("kind", ""))
        items.append(Item(item_id, entry["question"], tuple(map(str, answers)), kind))
    return items


def is_correct(item: Item, answer: Answer) -> bool:
    """An answerable item needs an excerpt holding a gold fragment; an unanswerable one a refusal."""
    if not item.answers:
        return not answer.found
    if not answer.found or len(answer.excerpt) > EXCERPT_LIMIT:
        return False
    return any(matchable(g) in matchable(answer.excerpt) for g in item.answers)


def score(items: Sequence[Item], ask: Callable[[str], Answer]) -> list[Outcome]:
    """Answer every item and judge it."""
    outcomes = []
    for item in items:
        result = ask(item.question)
        outcomes.append(Outcome(item, result, is_correct(item, result)))
    return outcomes


def report(outcomes: Sequence[Outcome], show_misses: bool) -> str:
    """Return the score lines: per kind, overall, and the misses if asked."""
    lines = []
    kinds = sorted({o.item.kind for o in outcomes})
    for kind in kinds:
        group = [o for o in outcomes if o.item.kind == kind]
        lines.append(f"{kind or '-':>14}: {sum(o.correct for o in group)}/{len(group)}")
    if show_misses:
        for o in outcomes:
            if not o.correct:
                lines.append(
                    f"MISS {o.item.item_id} [{o.item.kind}] {o.item.question!r} -> found={o.answer.found} "
                    f"coverage={o.answer.coverage} {o.answer.excerpt[:120]!r}"
                )
    correct = sum(o.correct for o in outcomes)
    lines.append(f"overall: {correct}/{len(outcomes)} ({100 * correct / max(len(outcomes), 1):.1f}%)")
    return "\n".join(lines)
