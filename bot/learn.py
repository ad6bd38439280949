"""Fitting the second stage from labelled questions, and cross-validating it honestly.

A labelled question (the format of shared/eval/dev-questions.yaml) teaches the ranker that the
passage holding one of its gold fragments answers it and its other candidates do not, and
teaches the answerability model whether the best candidate answers (`answers: []`: it does not).
Readers' 👍/👎 votes teach the same about the passage they voted on.

Everything here is deterministic: the same data gives the same model file, byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.answer import Candidates, assess, consider, question_features
from bot.corpus import Corpus, Document, parse_document, read_text
from bot.evaluate import Item, load_items
from bot.features import EVIDENCE, PAIR_FEATURES, QUESTION_FEATURES, SEMANTIC_FEATURES, remember
from bot.index import Index
from bot.knowledge import Knowledge, Settings, embed_passages
from bot.memory import Recall, Recollection, build_memory, merge, recall
from bot.model import Logistic, Model, Stage, parse_model
from bot.passages import split_all
from bot.semantic import Encoder
from bot.text import WordRarity, fold, matchable

# L2 penalty of both regressions (on standardised features); cross-validation chose it over
# 0.1-10: the scores are flat from 0.3 to 3.
L2 = 1.0
# Folds of the training data used to give the answerability model honest ranker scores.
INNER_FOLDS = 5
NEWTON_STEPS = 100


@dataclass(frozen=True)
class Example:
    """One labelled question with its candidates: which of them hold a gold fragment."""

    group: str  # the question set (or article) it came from: the unit of leave-one-out
    item: Item
    candidates: Candidates
    labels: tuple[bool, ...]  # one per candidate
    answerable: bool | None  # None: unknown (a 👎 vote says only that one passage is wrong)
    recalls: Mapping[str, Recall] = field(default_factory=dict)  # what each set's questions recall


def recalled(examples: Sequence[Example], groups: Collection[str]) -> list[Example]:
    """Return the examples with the memory features of the given sets' questions only, never their own.

    A question never recalls its own set: trained that way, the model learns what memory is
    worth for a question nobody has labelled, which is what it will meet.
    """
    result = []
    for example in examples:
        if not example.recalls:
            result.append(example)
            continue
        candidates = example.candidates
        parts = [r for g, r in example.recalls.items() if g in groups and g != example.group]
        memory = merge(parts, len(candidates.positions))
        pairs = candidates.pairs.copy()
        remember(pairs, memory)
        updated = dataclasses.replace(candidates, pairs=pairs)
        result.append(dataclasses.replace(example, candidates=updated))
    return result


def label(knowledge: Knowledge, candidates: Candidates, gold: Sequence[str]) -> tuple[bool, ...]:
    """Return, per candidate, whether its passage holds one of the gold fragments."""
    fragments = [matchable(g) for g in gold]
    texts = [matchable(knowledge.index.passages[p].text) for p in candidates.positions]
    return tuple(any(f in text for f in fragments) for text in texts)


def collect(group: str, items: Iterable[Item], knowledge: Knowledge, settings: Settings) -> list[Example]:
    """Describe every labelled question of one set against the corpus it is about."""
    examples = []
    memory = knowledge.memory
    groups = sorted(set(memory.groups)) if memory is not None else []
    for item in items:
        candidates = consider(fold(item.question), knowledge, settings)
        labels = label(knowledge, candidates, item.answers)
        recalls: dict[str, Recall] = {}
        if memory is not None and candidates.question_vector is not None:
            vector, positions = candidates.question_vector, candidates.positions
            documents = [knowledge.index.passages[p].doc_id for p in positions]
            recalls = {g: recall(memory, vector, positions, documents, {g}) for g in groups}
        examples.append(Example(group, item, candidates, labels, bool(item.answers), recalls))
    return examples


def collect_feedback(path: Path, knowledge: Knowledge, settings: Settings) -> list[Example]:
    """Turn readers' votes (one JSON object a line) into examples; unknown passages are skipped."""
    by_id = {p.passage_id: n for n, p in enumerate(knowledge.index.passages)}
    examples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
            question, passage_id, vote = str(record["question"]), str(record["passage_id"]), str(record["vote"])
        except (ValueError, KeyError, TypeError):
            continue
        if passage_id not in by_id or vote not in ("up", "down"):
            continue
        candidates = consider(fold(question), knowledge, settings)
        labels = tuple(p == by_id[passage_id] and vote == "up" for p in candidates.positions)
        if vote == "down":  # only the voted passage is known to be wrong: keep just that row
            keep = [i for i, p in enumerate(candidates.positions) if p == by_id[passage_id]]
            candidates = _subset(candidates, keep)
            labels = tuple(False for _ in keep)
        item = Item(f"feedback-{n}", question, (), "feedback")
        examples.append(Example("feedback", item, candidates, labels, True if vote == "up" else None))
    return examples


def fit_logistic(rows: npt.NDArray[np.float64], labels: npt.NDArray[np.float64], names: Sequence[str]) -> Logistic:
    """Fit an L2-regularised logistic regression by Newton's method (deterministic).

    Each weight stays on the side bot.features.EVIDENCE gives its feature: a feature whose weight
    would cross is held at 0 and the rest refitted, the worst offender first.
    """
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = np.hstack([(rows - mean) / scale, np.ones((len(rows), 1))])
    signs = np.array([EVIDENCE.get(name, 0) for name in names] + [0])
    active = np.ones(x.shape[1], dtype=bool)
    while True:
        w = np.zeros(x.shape[1])
        w[active] = _newton(x[:, active], labels, active[:-1].sum())
        wrong = np.flatnonzero(signs * w < 0)
        if not len(wrong):
            break
        active[wrong[np.argmax(np.abs(w[wrong]))]] = False
    return Logistic(tuple(names), mean, scale, w[:-1], float(w[-1]), columns=np.arange(len(names), dtype=np.int64))


def _newton(x: npt.NDArray[np.float64], labels: npt.NDArray[np.float64], features: int) -> npt.NDArray[np.float64]:
    """Return the weights (the last is the bias) minimising the L2-penalised logistic loss."""
    penalty = np.full(x.shape[1], L2)
    penalty[features:] = 0.0  # the bias is not shrunk
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - labels) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return w


def fit_stage(examples: Sequence[Example], rarity: WordRarity, semantic: bool) -> Stage:
    """Fit the ranker, then the answerability model on honest (cross-fitted) ranker scores."""
    pair_names = [n for n in PAIR_FEATURES if semantic or n not in SEMANTIC_FEATURES]
    question_names = [n for n in QUESTION_FEATURES if semantic or "semantic" not in n]
    pair_columns = [PAIR_FEATURES.index(n) for n in pair_names]
    question_columns = [QUESTION_FEATURES.index(n) for n in question_names]
    ranker = _fit_ranker(examples, pair_names, pair_columns)
    # Each example's ranker scores come from a ranker that did not see it.
    groups = sorted({e.group for e in examples})
    if len(groups) >= INNER_FOLDS:
        folds = [groups[i::INNER_FOLDS] for i in range(INNER_FOLDS)]
    else:
        folds = [[g] for g in groups]
    rows, targets = [], []
    for fold_groups in folds:
        held = [e for e in examples if e.group in fold_groups]
        rest = [e for e in examples if e.group not in fold_groups]
        inner = _fit_ranker(rest, pair_names, pair_columns) if _has_positives(rest) else ranker
        for example in held:
            target = _answerability_target(example, inner)
            if target is not None:
                ranking = inner.probabilities(example.candidates.pairs)
                rows.append(question_features(example.candidates, ranking, rarity)[question_columns])
                targets.append(target)
    answerable = _with_columns(
        fit_logistic(np.array(rows), np.array(targets, dtype=np.float64), question_names), question_columns
    )
    return Stage(ranker=ranker, answerable=answerable, threshold=0.5)


def train(
    examples: Sequence[Example],
    rarity: WordRarity,
    about: dict[str, object],
    memory: Sequence[Recollection] = (),
    encoder: Encoder | None = None,
) -> Model:
    """Fit both variants (lexical, and semantic when the examples have similarities) into a Model.

    The model keeps `memory` with its embeddings (by `encoder`), so no start-up embeds them."""
    examples = recalled(examples, {e.group for e in examples})
    lexical = fit_stage(examples, rarity, semantic=False)
    has_semantic = bool(examples) and all(e.candidates.semantic for e in examples if e.candidates.positions)
    semantic = fit_stage(examples, rarity, semantic=True) if has_semantic else None
    vectors = encoder.embed([fold(r.question) for r in memory]) if encoder is not None and memory else None
    fingerprint = encoder.fingerprint if vectors is not None and encoder is not None else ""
    draft = Model(lexical, semantic, about, "", tuple(memory), vectors, fingerprint)
    return parse_model(draft.dumps(), "trained model")  # as it will be read back: rounded, fingerprinted


def decide(model: Model, candidates: Candidates, rarity: WordRarity) -> tuple[int | None, float]:
    """Return the candidate the model answers with (None: refuse) and its confidence."""
    if not candidates.positions:
        return None, 0.0
    stage = model.stage(candidates.semantic)
    ranking, confidence = assess(stage, candidates, rarity)
    top = int(np.argmax(ranking))
    return (top if confidence >= stage.threshold else None), confidence


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold's verdicts: per held-out example, right or wrong."""

    name: str
    examples: tuple[Example, ...]
    decisions: tuple[int | None, ...]  # the candidate answered with, None for a refusal

    @property
    def correct(self) -> tuple[bool, ...]:
        """Per held-out example, whether the decision was right."""
        return tuple(is_right(e, d) for e, d in zip(self.examples, self.decisions, strict=True))

    @property
    def score(self) -> float:
        """The share of held-out questions the model got right."""
        return sum(self.correct) / max(len(self.correct), 1)


def cross_validate(
    examples: Sequence[Example],
    held_out: Callable[[Example], bool],
    rarity: WordRarity,
    semantic: bool,
    name: str,
) -> Fold:
    """Train on the examples that are not held out, judge the ones that are.

    The memory holds only the training questions, as a model trained on them would."""
    groups = {e.group for e in examples if not held_out(e)}
    train_on = recalled([e for e in examples if not held_out(e)], groups)
    test_on = tuple(recalled([e for e in examples if held_out(e)], groups))
    lexical = fit_stage(train_on, rarity, semantic=False)
    model = Model(lexical, fit_stage(train_on, rarity, semantic=True) if semantic else None, {}, "")
    return Fold(name, test_on, tuple(decide(model, e.candidates, rarity)[0] for e in test_on))


def is_right(example: Example, chosen: int | None) -> bool:
    """Judge a decision as the scorer does: a refusal for `answers: []`, else a passage holding gold."""
    if not example.item.answers:
        return chosen is None
    return chosen is not None and example.labels[chosen]


def _fit_ranker(examples: Sequence[Example], names: Sequence[str], columns: Sequence[int]) -> Logistic:
    rows = [e.candidates.pairs[:, columns] for e in examples if any(e.labels) or e.answerable is None]
    labels = [np.array(e.labels, dtype=np.float64) for e in examples if any(e.labels) or e.answerable is None]
    fitted = fit_logistic(np.vstack(rows), np.concatenate(labels), names)
    return _with_columns(fitted, columns)


def _answerability_target(example: Example, ranker: Logistic) -> float | None:
    """1 when the best candidate answers, 0 when nothing does; None when unknown or ranked wrong.

    An answerable question whose best candidate is wrong teaches nothing about answerability (a
    refusal and the wrong passage score the same), so it is left out.
    """
    if not example.candidates.positions or example.answerable is None:
        return None  # no candidate at all is refused before the model is asked
    if example.answerable is False:
        return 0.0
    top = int(np.argmax(ranker.probabilities(example.candidates.pairs)))
    return 1.0 if example.labels[top] else None


def _has_positives(examples: Sequence[Example]) -> bool:
    return any(any(e.labels) for e in examples)


def _with_columns(model: Logistic, columns: Sequence[int]) -> Logistic:
    return Logistic(model.features, model.mean, model.scale, model.weights, model.bias, np.array(columns))


def _subset(candidates: Candidates, keep: Sequence[int]) -> Candidates:
    return Candidates(
        candidates.query,
        tuple(candidates.positions[i] for i in keep),
        candidates.pairs[list(keep)],
        candidates.semantic,
        tuple(candidates.sentence_similarity[i] for i in keep) if candidates.sentence_similarity else (),
        tuple(candidates.document_numbers[i] for i in keep),
    )



@dataclass(frozen=True)
class QuestionSet:
    """A question file and the corpus its questions are about."""

    name: str
    path: Path
    article: Document | None  # an article the set comes with (DATE-SLUG.md beside SLUG-questions.yaml)


def find_sets(paths: Sequence[Path]) -> list[QuestionSet]:
    """Name each question file and find the article it comes with, if any.

    `SLUG-questions.yaml` comes with the article `DATE-SLUG.md` in the same folder, which is
    added to the corpus for its questions, the way an admin adds an article.
    """
    sets = []
    for path in paths:
        name = path.name.removesuffix(".yaml").removesuffix(".yml")
        slug = name.removesuffix("-questions")
        matches = sorted(path.parent.glob(f"????-??-??-{slug}.md")) if slug != name else []
        article = None
        if matches:
            article = parse_document(read_text(matches[0], matches[0].parent), matches[0].stem, matches[0].name)
        sets.append(QuestionSet(slug if article else name, path, article))
    return sets


def recollections_of(sets: Sequence[QuestionSet], corpus: Corpus) -> list[Recollection]:
    """Return every labelled question of the sets as the model's memory keeps it."""
    base = tuple(d.url for d in corpus.documents)
    memory = []
    for question_set in sets:
        urls = (question_set.article.url,) if question_set.article is not None else base
        for item in load_items(question_set.path):
            memory.append(Recollection(item.question, item.answers, urls, question_set.name))
    return memory


def collect_sets(
    sets: Sequence[QuestionSet],
    corpus: Corpus,
    rarity: WordRarity,
    encoder: Encoder | None,
    settings: Settings,
    memory: Sequence[Recollection] = (),
) -> list[Example]:
    """Describe every question of every set against its corpus (the corpus, plus the set's article).

    With an encoder, `memory` (see recollections_of) gives each question what the other sets'
    questions recall; see `recalled` for how it is used in training.
    """
    examples: list[Example] = []
    built: dict[str, Knowledge] = {}
    embedded: dict[str, npt.NDArray[np.float32]] = {}

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        assert encoder is not None
        new = [t for t in dict.fromkeys(texts) if t not in embedded]
        if new:
            embedded.update(zip(new, encoder.embed(new), strict=True))
        return np.array([embedded[t] for t in texts], dtype=np.float32)

    for question_set in sets:
        documents = corpus.documents
        if question_set.article is not None and all(d.url != question_set.article.url for d in documents):
            documents = (*documents, question_set.article)
        key = "\n".join(d.doc_id for d in documents)
        if key not in built:
            index = Index(split_all(documents))
            vectors = embed_passages(index.passages, encoder) if encoder is not None else None
            knowledge = Knowledge.build(Corpus(documents, corpus.synonyms), rarity, None, index, vectors, encoder)
            if encoder is not None and memory:
                urls = {d.url: d.doc_id for d in documents}
                knowledge = dataclasses.replace(knowledge, memory=build_memory(memory, index.passages, urls, embed))
            built[key] = knowledge
        examples.extend(collect(question_set.name, load_items(question_set.path), built[key], settings))
    return examples
