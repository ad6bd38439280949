"""Cross-validated answer quality, and QUALITY.md, the report `talksbot eval --cv` writes.

Every figure here is on questions the model did not train on:
- leave-one-set-out: for each question set about the configured corpus, train on every other set
  (other articles' included) and judge the held-out one;
- leave-one-article-out: for each set that comes with its own article, train without that
  article's questions and judge them with a corpus of it plus ours, the way an admin adds one;
- k-fold: every question in exactly one of k held-out folds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import load_corpus
from bot.errors import TalksbotError
from bot.knowledge import Knowledge, Settings
from bot.learn import Example, Fold, collect_feedback, collect_sets, cross_validate, find_sets, recollections_of, train
from bot.memory import Recollection, relevant
from bot.model import Model
from bot.semantic import Encoder
from bot.text import WordRarity

K_FOLDS = 5


@dataclass(frozen=True)
class Quality:
    """The cross-validated folds of one variant (semantic or lexical-only)."""

    semantic: bool
    by_set: tuple[Fold, ...]  # leave-one-set-out, sets about the configured corpus
    by_article: tuple[Fold, ...]  # leave-one-article-out
    k_fold: tuple[Fold, ...]

    @staticmethod
    def share(folds: Sequence[Fold]) -> tuple[int, int]:
        """Return (right, total) over folds."""
        return sum(sum(f.correct) for f in folds), sum(len(f.correct) for f in folds)


def measure(
    examples: Sequence[Example], article_sets: frozenset[str], rarity: WordRarity, semantic: bool
) -> Quality:
    """Cross-validate one variant three ways (see the module's docstring)."""
    groups = sorted({e.group for e in examples})
    own = [g for g in groups if g not in article_sets and g != "feedback"]
    by_set = tuple(cross_validate(examples, _in_group(g), rarity, semantic, g) for g in own)
    by_article = tuple(cross_validate(examples, _in_group(g), rarity, semantic, g) for g in groups if g in article_sets)
    numbered = {id(e): n for n, e in enumerate(examples)}
    k_fold = tuple(
        cross_validate(examples, lambda e, k=k: numbered[id(e)] % K_FOLDS == k, rarity, semantic, f"fold {k + 1}")  # type: ignore[misc]
        for k in range(K_FOLDS)
    )
    return Quality(semantic, by_set, by_article, k_fold)


def _in_group(group: str) -> Callable[[Example], bool]:
    """Return a test for the examples of one question set."""
    return lambda example: example.group == group


def render(qualities: Sequence[Quality], model: Model, command: str) -> str:
    """Return QUALITY.md: the figures, the misses by kind of asker, the model's largest weights."""
    lines = [
        "# Answer quality",
        "",
        f"Written by `{command}`. Every figure is cross-validated: the questions judged were",
        "never seen by the model that answered them (see bot/quality.py for the three schemes).",
        "",
        "| variant | leave-one-set-out (our article) | leave-one-article-out | 5-fold, all questions |",
        "|---|---|---|---|",
    ]
    for q in qualities:
        cells = [_percent(*Quality.share(folds)) for folds in (q.by_set, q.by_article, q.k_fold)]
        lines.append(f"| {'semantic (MiniLM)' if q.semantic else 'lexical only'} | " + " | ".join(cells) + " |")
    for q in qualities:
        lines += ["", f"## {'Semantic' if q.semantic else 'Lexical-only'} variant, per held-out set", ""]
        lines += ["| held out | right | unanswerable refused |", "|---|---|---|"]
        for fold in (*q.by_set, *q.by_article):
            refusals = [c for e, c in zip(fold.examples, fold.correct, strict=True) if not e.item.answers]
            lines.append(
                f"| {fold.name} | {_percent(sum(fold.correct), len(fold.correct))} | "
                f"{sum(refusals)}/{len(refusals)} |"
            )
    best = qualities[0]
    lines += ["", "## Misses by kind of asker (held-out sets and articles, first variant)", ""]
    lines += ["| kind | right | wrongly refused | wrong passage | answered the unanswerable |", "|---|---|---|---|---|"]
    for kind, counts in sorted(_misses_by_kind((*best.by_set, *best.by_article)).items()):
        lines.append(
            f"| {kind or '-'} | {counts['right']}/{counts['total']} | {counts['refused']} | {counts['wrong']} | "
            f"{counts['answered']} |"
        )
    lines += ["", "## The shipped model's largest weights (standardised features)", ""]
    stage = model.stage(semantic=True)
    for title, part in (("Ranker", stage.ranker), ("Answerability", stage.answerable)):
        order = sorted(zip(part.features, part.weights, strict=True), key=lambda fw: -abs(fw[1]))[:8]
        lines.append(f"- {title}: " + ", ".join(f"`{name}` {weight:+.2f}" for name, weight in order))
    return "\n".join(lines) + "\n"


def _misses_by_kind(folds: Sequence[Fold]) -> dict[str, Counter[str]]:
    kinds: dict[str, Counter[str]] = {}
    for fold in folds:
        for example, decision, correct in zip(fold.examples, fold.decisions, fold.correct, strict=True):
            counts = kinds.setdefault(example.item.kind, Counter())
            counts["total"] += 1
            counts["right"] += correct
            if correct:
                continue
            if not example.item.answers:
                counts["answered"] += 1
            elif decision is None:
                counts["refused"] += 1
            else:
                counts["wrong"] += 1
    return kinds


def _percent(right: int, total: int) -> str:
    return f"{right}/{total} ({100 * right / max(total, 1):.1f}%)"


@dataclass(frozen=True)
class Learned:
    """A model fitted to question files, with what it learned from and, if asked, how it cross-validates."""

    model: Model
    questions: int  # labelled questions and votes it was fitted to
    files: int
    qualities: tuple[Quality, ...]  # empty unless cross-validated


def learn(
    paths: Sequence[Path],
    corpus_path: Path,
    settings: Settings,
    encoder: Encoder | None,
    feedback: Knowledge | None = None,
    feedback_path: Path | None = None,
    cross_validated: bool = False,
) -> Learned:
    """Fit the second stage to question files (and votes), cross-validating it first if asked.

    `feedback` is the served corpus's knowledge, which the votes in `feedback_path` are about."""
    rarity = WordRarity.load()
    sets = find_sets(paths)
    corpus = load_corpus(corpus_path)
    memory = recollections_of(sets, corpus)
    examples = collect_sets(sets, corpus, rarity, encoder, settings, memory)
    if feedback is not None and feedback_path is not None:
        try:
            examples += collect_feedback(feedback_path, feedback, settings)
        except OSError as exc:
            raise TalksbotError(f"cannot read feedback {feedback_path}: {exc.strerror or exc}") from None
    articles = frozenset(s.name for s in sets if s.article is not None)
    variants = (True, False) if encoder is not None else (False,)
    qualities = tuple(measure(examples, articles, rarity, semantic) for semantic in variants) if cross_validated else ()
    # The model remembers the questions about the configured corpus (the others' articles are not in it).
    shipped = relevant(memory, {d.url for d in corpus.documents})
    model = fit_shipped(examples, rarity, qualities, [s.name for s in sets], shipped, encoder)
    return Learned(model, len(examples), len(sets), qualities)


def fit_shipped(
    examples: Sequence[Example],
    rarity: WordRarity,
    qualities: Sequence[Quality],
    sets: Sequence[str],
    memory: Sequence[Recollection] = (),
    encoder: Encoder | None = None,
) -> Model:
    """Train on everything, recording the data and the cross-validated scores in the model's `about`."""
    votes = sum(1 for e in examples if e.group == "feedback")
    about: dict[str, object] = {"trained_on": list(sets), "questions": len(examples) - votes, "votes": votes}
    for q in qualities:
        name = "semantic" if q.semantic else "lexical"
        about[f"cv_{name}"] = {
            "leave_one_set_out": round(_ratio(*Quality.share(q.by_set)), 4),
            "leave_one_article_out": round(_ratio(*Quality.share(q.by_article)), 4),
            "k_fold": round(_ratio(*Quality.share(q.k_fold)), 4),
        }
    return train(examples, rarity, about, memory, encoder)


def _ratio(right: int, total: int) -> float:
    return right / max(total, 1)
