"""Engines under test, each run alone in a child process so its memory is its own.

    python -m benchmarks.engines ENGINE ARCHIVE_FOLDER [--queries N]

ENGINE is one of ENGINES. The child prints one line "RESULT {json}" (an EngineResult). Every
engine gets the same passages (bot.corpus + bot.passages) and the same query terms (bot.text.terms,
each distinct term once); latency is the time from query terms to the 10 best passages.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.measure import Latency, peak_rss_mb, percentiles

TOP_K = 10
WARM_UP = 10
CACHE_DIR = Path(".talksbot-cache")
ENGINES = ("talksbot-build", "talksbot", "talksbot-reload", "rank-bm25", "bm25s")
# The article an editor adds to the archive for the reload measurement (then removes again).
ADDED_ARTICLE = "zz-benchmark-added.md"
ADDED_PARAGRAPH = "A late paragraph about quarantined zeppelins and the ombudsman of Tromsø."


@dataclass
class EngineResult:
    """What one engine measured on one archive."""

    engine: str
    passages: int
    build_s: float | None = None
    cache_load_s: float | None = None
    rss_mb: float = 0.0
    search: Latency | None = None
    answer: Latency | None = None  # talksbot only: the whole answer path (Library.ask)
    second_stage: Latency | None = None  # talksbot only: per question, the answer path less its first stage
    reload_s: float | None = None  # talksbot-reload: Library.reload after one article was added
    reload_saved_s: float | None = None  # … until its cache was written too (in the background)
    reload_remove_s: float | None = None  # … after that article was removed again
    top1: list[int] = field(default_factory=list)  # per query; -1 when nothing scores above 0
    ties: list[list[int]] = field(default_factory=list)  # reference only: every passage tied at the top
    stages: dict[str, float] = field(default_factory=dict)  # talksbot-build: seconds per stage
    skipped: str = ""


def load_passages(folder: Path) -> list[Any]:
    """Return the archive's passages as the bot splits them."""
    from bot.corpus import load_corpus
    from bot.passages import split_all

    return split_all(load_corpus(folder / "corpus").documents)


def query_terms(folder: Path, count: int) -> tuple[list[str], list[list[str]]]:
    """Return the archive's first `count` questions and their distinct terms."""
    from bot.text import terms

    questions = (folder / "questions.txt").read_text(encoding="utf-8").splitlines()[:count]
    return questions, [list(dict.fromkeys(terms(q))) for q in questions]


def time_queries(search: Callable[[list[str]], int], queries: Sequence[list[str]]) -> tuple[Latency, list[int]]:
    """Run every query once (after a few warm-up runs); return the latency and each query's top passage."""
    for query in queries[:WARM_UP]:
        search(query)
    samples: list[int] = []
    top1: list[int] = []
    clock = time.perf_counter_ns
    for query in queries:
        started = clock()
        best = search(query)
        samples.append(clock() - started)
        top1.append(best)
    return percentiles(samples), top1


def run_talksbot_build(folder: Path, count: int) -> EngineResult:
    """Build from the corpus files with no cache (in two processes, as the bot does), then write the cache."""
    from bot.build import build
    from bot.cache import CACHE_FILE, Cached, code_key, save_index
    from bot.corpus import read_sources
    from bot.knowledge import Knowledge
    from bot.model import load_model
    from bot.text import WordRarity

    corpus_folder = folder / "corpus"
    shutil.rmtree(corpus_folder / CACHE_DIR, ignore_errors=True)
    stages: dict[str, float] = {}
    clock = time.perf_counter
    started = clock()
    rarity = WordRarity.load()
    stages["word table"] = clock() - started
    mark = clock()
    files = read_sources(corpus_folder)
    stages["read files"] = clock() - mark
    mark = clock()
    built = build(corpus_folder, files=files)
    stages["parse, split, tokenize (2 processes); postings"] = clock() - mark
    mark = clock()
    knowledge = Knowledge.build(built.corpus, rarity, load_model(), built.index)
    stages["speller, document terms"] = clock() - mark
    seconds = clock() - started
    mark = clock()
    state = Cached(files.key(code_key()), code_key(), built, files.stamps, files.read_ns)
    save_index(corpus_folder / CACHE_DIR / CACHE_FILE, state)
    stages["write cache"] = clock() - mark
    return EngineResult("talksbot-build", len(knowledge.index), build_s=seconds, rss_mb=peak_rss_mb(), stages=stages)


def run_talksbot(folder: Path, count: int) -> EngineResult:
    """Start from the cache (as a restart or a reload of an unchanged corpus does) and answer."""
    from bot.knowledge import Settings
    from bot.library import Library

    started = time.perf_counter()
    # The archive figures are the lexical path's: embedding 100k passages at build is its own
    # measurement (the semantic stage scores only each question's candidates).
    library = Library(folder / "corpus", Settings(semantic="off"), cache_dir=CACHE_DIR)
    cache_load = time.perf_counter() - started
    index = library.knowledge.index
    questions, queries = query_terms(folder, count)

    def search(query: list[str]) -> int:
        hits = index.search(dict.fromkeys(query, 1.0), TOP_K)
        return hits[0].position if hits else -1

    latency, top1 = time_queries(search, queries)
    answers = time_queries(lambda q: int(library.ask(" ".join(q)).found), [[q] for q in questions])[0]
    return EngineResult(
        "talksbot",
        len(index),
        cache_load_s=cache_load,
        rss_mb=peak_rss_mb(),
        search=latency,
        answer=answers,
        second_stage=time_second_stage(library, questions),
        top1=top1,
    )


def time_second_stage(library: Any, questions: Sequence[str]) -> Latency:
    """Per question, the time of the whole answer less that of its first stage (analysis, BM25, top candidates)."""
    from bot.answer import rank_scores
    from bot.index import select
    from bot.query import analyze
    from bot.text import fold

    knowledge = library.knowledge
    clock = time.perf_counter_ns
    samples: list[int] = []
    for n, question in enumerate(questions):
        started = clock()
        query = analyze(fold(question), knowledge)
        select(rank_scores(query, knowledge.index), library.settings.candidates)
        first = clock() - started
        started = clock()
        library.ask(question)
        if n >= WARM_UP:
            samples.append(max(0, clock() - started - first))
    return percentiles(samples)


def run_talksbot_reload(folder: Path, count: int) -> EngineResult:
    """Start from the cache, add one article and reload, then remove it and reload (the cache ends as it began)."""
    from bot.knowledge import Settings
    from bot.library import Library

    corpus = folder / "corpus"
    added = corpus / ADDED_ARTICLE
    added.unlink(missing_ok=True)
    library = Library(corpus, Settings(semantic="off"), cache_dir=CACHE_DIR)
    before = library.size.documents
    source = sorted(corpus.rglob("*.md"))[before // 2]
    text = source.read_text(encoding="utf-8").replace("url: https://", "url: https://added.")
    clock = time.perf_counter
    try:
        added.write_text(f"{text.rstrip()}\n\n{ADDED_PARAGRAPH}\n", encoding="utf-8")
        started = clock()
        result = library.reload()
        reload_s = clock() - started
        library.wait_saved()
        saved_s = clock() - started
        if not result.ok or library.size.documents != before + 1 or not library.ask(ADDED_PARAGRAPH).found:
            raise RuntimeError(f"the added article is not served: {result}")
    finally:
        added.unlink(missing_ok=True)
    started = clock()
    removed = library.reload()
    remove_s = clock() - started
    library.wait_saved()
    if not removed.ok or library.size.documents != before:
        raise RuntimeError(f"the added article is still served: {removed}")
    return EngineResult(
        "talksbot-reload",
        library.size.passages,
        rss_mb=peak_rss_mb(),
        reload_s=reload_s,
        reload_saved_s=saved_s,
        reload_remove_s=remove_s,
    )


def run_rank_bm25(folder: Path, count: int) -> EngineResult:
    """Plain rank-bm25 BM25Okapi (with talksbot's idf floor): every query scores every passage."""
    from rank_bm25 import BM25Okapi

    from bot.index import IDF_FLOOR_MIN, IDF_FLOOR_SHARE
    from bot.text import terms

    started = time.perf_counter()
    passages = load_passages(folder)
    model = BM25Okapi([terms(p.text) or ["\x00empty"] for p in passages])
    floor = max(IDF_FLOOR_SHARE * model.average_idf, IDF_FLOOR_MIN)
    for term, value in model.idf.items():
        if value < floor:
            model.idf[term] = floor
    build = time.perf_counter() - started
    del passages
    gc.collect()
    _, queries = query_terms(folder, count)
    ties: list[list[int]] = []

    def search(query: list[str]) -> int:
        scores = model.get_scores(query)
        best = np.argpartition(-scores, TOP_K)[:TOP_K] if len(scores) > TOP_K else np.arange(len(scores))
        best = best[np.lexsort((best, -scores[best]))]
        top = float(scores[best[0]])
        ties.append(np.flatnonzero(scores == top)[:TOP_K].tolist() if top > 0 else [-1])
        return int(best[0]) if top > 0 else -1

    latency, top1 = time_queries(search, queries)
    ties = ties[-len(queries) :]
    return EngineResult(
        "rank-bm25", len(model.doc_len), build_s=build, rss_mb=peak_rss_mb(), search=latency, top1=top1, ties=ties
    )


def run_bm25s(folder: Path, count: int) -> EngineResult:
    """bm25s (eager sparse scores, numpy backend), Robertson's BM25 as rank-bm25's Okapi."""
    try:
        import bm25s
        from bm25s.selection import topk
    except ImportError:
        return EngineResult("bm25s", 0, skipped="bm25s is not installed (pip install -e '.[bench]')")
    from bot.text import terms

    started = time.perf_counter()
    passages = load_passages(folder)
    model = bm25s.BM25(k1=1.5, b=0.75, method="robertson")
    model.index([terms(p.text) or ["\x00empty"] for p in passages], show_progress=False)
    build = time.perf_counter() - started
    size = len(passages)
    del passages
    gc.collect()
    _, queries = query_terms(folder, count)

    def search(query: list[str]) -> int:
        known = [t for t in query if t in model.vocab_dict]
        if not known:
            return -1
        scores, positions = topk(model.get_scores(known), k=min(TOP_K, size), backend="numpy", sorted=True)
        return int(positions[0]) if scores[0] > 0 else -1

    latency, top1 = time_queries(search, queries)
    return EngineResult("bm25s", size, build_s=build, rss_mb=peak_rss_mb(), search=latency, top1=top1)


RUNNERS: dict[str, Callable[[Path, int], EngineResult]] = {
    "talksbot-build": run_talksbot_build,
    "talksbot": run_talksbot,
    "talksbot-reload": run_talksbot_reload,
    "rank-bm25": run_rank_bm25,
    "bm25s": run_bm25s,
}


def parse_result(stdout: str) -> EngineResult:
    """Read the RESULT line a child printed."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            data = json.loads(line[len("RESULT ") :])
            for name in ("search", "answer", "second_stage"):
                if data.get(name) is not None:
                    data[name] = Latency(**data[name])
            return EngineResult(**data)
    raise ValueError("the engine printed no RESULT line")


def main(argv: Sequence[str] | None = None) -> None:
    """Run one engine on one archive and print its RESULT line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args(argv)
    result = RUNNERS[args.engine](args.folder, args.queries)
    print("RESULT " + json.dumps(asdict(result)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
