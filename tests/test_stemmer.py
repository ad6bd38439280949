"""The C stemmer (PyStemmer, which snowballstemmer uses when installed) gives pure-Python Snowball's stems."""

from __future__ import annotations

import gzip
import random
from importlib import resources

from snowballstemmer.english_stemmer import EnglishStemmer

from bot.text import stem


def test_stems_are_pure_python_snowballs() -> None:
    raw = resources.files("bot").joinpath("data/english-zipf.tsv.gz").read_bytes()
    table = [line.partition("\t")[0] for line in gzip.decompress(raw).decode().splitlines()]
    rng = random.Random(4)
    suffixes = ["", "ing", "ed", "ly", "ness", "ational", "ization", "ies", "sses", "eed", "ement", "ous", "li", "y"]
    made_up = [
        "".join(rng.choice("abcdeilnorstuyé'") for _ in range(rng.randint(1, 9))) + rng.choice(suffixes)
        for _ in range(3000)
    ]
    words = rng.sample(table, 8000) + made_up + ["stoltenberg", "zelenskyy", "київ", "café", "2022", "buildup"]
    reference = EnglishStemmer()
    assert [w for w in words if stem(w) != reference.stemWord(w)] == []
