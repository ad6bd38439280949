"""The shipped article: answer latency in-process, cold start of `talksbot ask`, memory, imports."""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import ROOT, Latency, percentiles, time_cold
from bot.config import load_config
from bot.library import Library

DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev-questions.yaml"
COLD_QUESTION = "Who chaired the meeting?"


@dataclass(frozen=True)
class ArticleResult:
    """What the article section measured."""

    questions: int
    source: str
    answer: Latency
    cold_start_s: float
    bare_import_s: float
    ask_rss_mb: float
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
    library = Library(config.corpus.path, config.answer)
    questions, source = load_questions()
    for question in questions:
        library.ask(question)
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(repeat):
        for question in questions:
            started = clock()
            library.ask(question)
            samples.append(clock() - started)
    profile = profile_answers(library, questions)
    ask = [*talksbot_command(), "--config", str(ROOT / "config.yaml"), "ask", COLD_QUESTION]
    (cold, rss), (bare, _) = time_cold([ask, [sys.executable, "-c", "import rank_bm25, yaml"]], cold_repeat)
    return ArticleResult(
        questions=len(questions),
        source=source,
        answer=percentiles(samples),
        cold_start_s=cold,
        bare_import_s=bare,
        ask_rss_mb=rss,
        imports=import_times("bot.cli")[:8],
        profile=profile,
    )


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
