"""The learned second stage: two logistic regressions in a small JSON file (no pickle).

The ranker scores each (question, passage) candidate from bot.features.PAIR_FEATURES; the
answerability model decides from bot.features.QUESTION_FEATURES whether the best candidate
answers at all. A model file holds two variants: "semantic" (with the embedding model's
similarities) and "lexical" (without, for when the embedding model is not installed or is off).
`talksbot train` writes the file; this module only reads and applies it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import TalksbotError
from bot.features import PAIR_FEATURES, QUESTION_FEATURES
from bot.memory import Recollection

MODEL_FORMAT = 1
PACKAGED_MODEL = "data/model.json"


class ModelError(TalksbotError):
    """The model file is missing, unreadable or does not fit this version's features."""


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over named features, standardised by the training set's mean and scale."""

    features: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    bias: float
    columns: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def logits(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the log-odds for each row of the full feature table."""
        x = (rows[:, self.columns] - self.mean) / self.scale
        result: npt.NDArray[np.float64] = x @ self.weights + self.bias
        return result

    def probabilities(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return the probability of the positive class for each row."""
        result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-self.logits(rows)))
        return result

    def to_json(self) -> dict[str, Any]:
        """Return the model as plain JSON values, largest weights first for a reader."""
        order = np.argsort(-np.abs(self.weights), kind="stable")
        return {
            "bias": round(float(self.bias), 6),
            "features": {
                self.features[i]: {
                    "weight": round(float(self.weights[i]), 6),
                    "mean": round(float(self.mean[i]), 6),
                    "scale": round(float(self.scale[i]), 6),
                }
                for i in order
            },
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], known: Sequence[str]) -> Logistic:
        """Read a model written by to_json; features must be among `known`."""
        names = tuple(raw["features"])
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ModelError(f"the model uses features this version does not compute: {', '.join(unknown)}")
        values = [raw["features"][n] for n in names]
        return cls(
            features=names,
            mean=np.array([float(v["mean"]) for v in values]),
            scale=np.array([float(v["scale"]) or 1.0 for v in values]),
            weights=np.array([float(v["weight"]) for v in values]),
            bias=float(raw["bias"]),
            columns=np.array([list(known).index(n) for n in names], dtype=np.int64),
        )


@dataclass(frozen=True)
class Stage:
    """One variant of the second stage: a ranker, an answerability model and its threshold."""

    ranker: Logistic
    answerable: Logistic
    threshold: float = 0.5

    def to_json(self) -> dict[str, Any]:
        """Return the stage as plain JSON values."""
        return {"threshold": self.threshold, "ranker": self.ranker.to_json(), "answerable": self.answerable.to_json()}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Stage:
        """Read a stage written by to_json."""
        return cls(
            ranker=Logistic.from_json(raw["ranker"], PAIR_FEATURES),
            answerable=Logistic.from_json(raw["answerable"], QUESTION_FEATURES),
            threshold=float(raw.get("threshold", 0.5)),
        )


@dataclass(frozen=True)
class Model:
    """The learned second stage in both variants, and where it came from."""

    lexical: Stage
    semantic: Stage | None
    about: Mapping[str, Any]  # how it was trained: data, counts, cross-validated scores
    fingerprint: str  # a digest of the whole model
    memory: tuple[Recollection, ...] = ()  # labelled questions, recalled by meaning (bot.memory)
    memory_vectors: npt.NDArray[np.float32] | None = None  # their embeddings, row by row
    memory_encoder: str = ""  # the fingerprint of the encoder that made them

    def stage(self, semantic: bool) -> Stage:
        """Return the variant to use with or without semantic similarity."""
        return self.semantic if semantic and self.semantic is not None else self.lexical

    def dumps(self) -> str:
        """Return the model file's text."""
        body: dict[str, Any] = {"format": MODEL_FORMAT, "about": dict(self.about), "lexical": self.lexical.to_json()}
        if self.semantic is not None:
            body["semantic"] = self.semantic.to_json()
        if self.memory:
            body["memory"] = {
                "encoder": self.memory_encoder,
                "vectors": _pack(self.memory_vectors) if self.memory_vectors is not None else "",
                "questions": [r.to_json() for r in self.memory],
            }
        return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def parse_model(text: str, source: str) -> Model:
    """Read a model file's text; a bad one raises ModelError naming the source."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("format") != MODEL_FORMAT:
            raise ModelError(f"{source}: not a talksbot model file of format {MODEL_FORMAT}")
        lexical = Stage.from_json(raw["lexical"])
        semantic = Stage.from_json(raw["semantic"]) if "semantic" in raw else None
        remembered = raw.get("memory", {})
        memory = tuple(Recollection.from_json(r) for r in remembered.get("questions", ()))
        vectors = _unpack(remembered["vectors"], len(memory)) if remembered.get("vectors") else None
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"{source}: broken model file ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    parts = {k: raw[k] for k in ("lexical", "semantic", "memory") if k in raw}
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    encoder = str(remembered.get("encoder", ""))
    return Model(lexical, semantic, raw.get("about", {}), digest, memory, vectors, encoder)


def _pack(vectors: npt.NDArray[np.float32]) -> str:
    """Return embeddings as base64 text of little-endian float16 (cosines keep three decimals)."""
    return base64.b64encode(vectors.astype("<f2").tobytes()).decode("ascii")


def _unpack(text: str, rows: int) -> npt.NDArray[np.float32]:
    """Read embeddings written by _pack; raises ValueError if they do not fit `rows`."""
    flat = np.frombuffer(base64.b64decode(text, validate=True), dtype="<f2")
    if rows == 0 or flat.size % rows:
        raise ValueError("the memory's vectors do not fit its questions")
    return flat.reshape(rows, -1).astype(np.float32)


def load_model(path: str | Path = "") -> Model:
    """Load the model file at `path`, or the packaged one for ""; raises ModelError."""
    if not str(path):
        try:
            text = resources.files("bot").joinpath(PACKAGED_MODEL).read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError) as exc:
            raise ModelError(f"the packaged model is missing ({exc}); reinstall, or run `talksbot train`") from None
        return parse_model(text, f"bot/{PACKAGED_MODEL}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the model {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_model(text, str(path))
