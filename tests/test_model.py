"""The learned model and the semantic model: files, modes, training from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.knowledge import Settings
from bot.library import Library
from bot.model import ModelError, load_model, parse_model
from bot.semantic import Encoder, ModelUnavailable, load_encoder, model_file
from bot.text import WordRarity
from tests.common import CORPUS, SHARED, copy_corpus, write_config

NO_CACHE = "  cache: ''\n"  # the corpus section's cache off: nothing is written into the real corpus/

EVAL = SHARED / "eval"
needs_eval = pytest.mark.skipif(
    not (EVAL / "dev-questions.yaml").exists(), reason="shared/eval is not beside this checkout"
)


def test_the_packaged_model_has_both_variants_and_a_memory() -> None:
    model = load_model()
    assert model.semantic is not None
    assert {"bm25_share", "coverage"} <= set(model.lexical.ranker.features)
    assert not any(name.startswith("semantic") for name in model.lexical.ranker.features)
    assert any(name.startswith("semantic") for name in model.semantic.ranker.features)
    assert model.memory and all(r.urls for r in model.memory)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "broken model file"),
        ('{"format": 99}', "not a talksbot model file"),
        ('{"format": 1, "lexical": {"ranker": {}}}', "broken model file"),
    ],
)
def test_a_broken_model_file_is_a_one_line_error(text: str, problem: str) -> None:
    with pytest.raises(ModelError, match=problem):
        parse_model(text, "model.json")


def test_a_model_with_a_feature_this_version_lacks_is_refused() -> None:
    raw = json.loads(load_model().dumps())
    raw["lexical"]["ranker"]["features"]["moon_phase"] = {"weight": 1.0, "mean": 0.0, "scale": 1.0}
    with pytest.raises(ModelError, match="moon_phase"):
        parse_model(json.dumps(raw), "model.json")


def test_the_semantic_model_file_is_checked_before_it_is_loaded(tmp_path: Path) -> None:
    forged = tmp_path / "model.onnx"
    forged.write_bytes(model_file().read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelUnavailable, match="not the pinned file"):
        load_encoder(path=forged)


def test_embeddings_are_unit_vectors_closer_for_paraphrases(encoder: Encoder) -> None:
    vectors = encoder.embed(["Who chaired the meeting?", "Who presided over the session?", "Best pizza in town"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_semantic_off_answers_without_the_embedding_model(rarity: WordRarity) -> None:
    library = Library(CORPUS, Settings(semantic="off"), rarity, cache_dir=None)
    assert not library.semantic
    result = library.ask("Who chaired the meeting?")
    assert result.found and "Stoltenberg chaired the meeting" in result.excerpt


def test_a_missing_model_file_stops_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = copy_corpus(tmp_path)
    config = write_config(tmp_path, corpus, "answer:\n  semantic: 'on'\n")
    assert main(["--config", str(config), "ask", "Who chaired the meeting?"]) == 0  # installed: works
    config.write_text(f"corpus:\n  path: {corpus}\nanswer:\n  model: {tmp_path / 'missing.json'}\n", encoding="utf-8")
    assert main(["--config", str(config), "ask", "Who chaired the meeting?"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: cannot read the model") and "Traceback" not in err


@needs_eval
def test_train_and_cross_validate_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Train on two question files (one with its article) and use the model; --cv writes a report."""
    config = write_config(tmp_path, CORPUS, NO_CACHE)
    files = [str(EVAL / "dev-questions.yaml"), str(EVAL / "articles" / "rocket-failure-questions.yaml")]
    model = tmp_path / "model.json"
    assert main(["--config", str(config), "train", *files, "-o", str(model)]) == 0
    trained = load_model(model)
    assert trained.about["trained_on"] == ["dev-questions", "rocket-failure"]
    assert main(["--config", str(config), "train", *files, "-o", str(tmp_path / "again.json")]) == 0
    assert (tmp_path / "again.json").read_text() == model.read_text()  # deterministic
    config.write_text(f"corpus:\n  path: {CORPUS}\n{NO_CACHE}answer:\n  model: {model}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(config), "ask", "--json", "Who chaired the meeting?"]) == 0
    assert json.loads(capsys.readouterr().out)["found"] is True
    report = tmp_path / "QUALITY.md"
    assert main(["--config", str(config), "eval", "--cv", *files, "--report", str(report)]) == 0
    text = report.read_text()
    assert "leave-one-article-out" in text and "| rocket-failure |" in text and "| dev-questions |" in text


@needs_eval
def test_readers_votes_join_the_training(tmp_path: Path, rarity: WordRarity) -> None:
    library = Library(CORPUS, Settings(), rarity, cache_dir=None)
    chaired = library.ask("Who chaired the meeting?").passage_id
    votes = tmp_path / "feedback.jsonl"
    records = [
        {"question": "who ran the session", "passage_id": chaired, "vote": "up"},
        {"question": "who ran the session", "passage_id": "nato#99", "vote": "up"},  # no such passage: skipped
        {"question": "what about the weather", "passage_id": chaired, "vote": "down"},
        {"question": "broken", "vote": "up"},  # not a vote: skipped
    ]
    votes.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n", encoding="utf-8")
    config = write_config(tmp_path, CORPUS, NO_CACHE)
    model = tmp_path / "model.json"
    args = ["--config", str(config), "train", str(EVAL / "dev-questions.yaml"), "--feedback", str(votes)]
    assert main([*args, "-o", str(model)]) == 0
    assert load_model(model).about["votes"] == 2


def test_train_reports_a_bad_question_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad-questions.yaml"
    bad.write_text("- question: [not, text]\n", encoding="utf-8")
    config = write_config(tmp_path, CORPUS, NO_CACHE)
    assert main(["--config", str(config), "train", str(bad), "-o", str(tmp_path / "m.json")]) == 1
    assert capsys.readouterr().err.strip().startswith("Error:")
    assert not (tmp_path / "m.json").exists()
