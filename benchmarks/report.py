"""Reporting: the tables, the targets met or missed (and by how much), BENCHMARKS.md and the plot."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.article import ArticleResult
from benchmarks.engines import EngineResult
from benchmarks.telegram import TelegramResult

ENGINE_NAMES = {"talksbot": "talksbot (postings)", "rank-bm25": "rank-bm25 (plain)", "bm25s": "bm25s"}
PLOT_FILE = Path("benchmarks") / "latency.png"
TARGET_SIZE = 100_000
MILLION = 1_000_000


@dataclass(frozen=True)
class Row:
    """One engine on one archive, with its build run folded in (talksbot)."""

    passages: int
    engine: str
    result: EngineResult
    build: EngineResult | None  # talksbot's cold build, run in its own process
    agreement: float | None  # share of queries whose top passage is rank-bm25's (ties aside)
    reload: EngineResult | None = None  # talksbot's reload after adding one article, in its own process


@dataclass(frozen=True)
class Target:
    """One target: what was measured, the limit, and whether it was met."""

    name: str
    measured: str
    limit: str
    met: bool | None  # None: not measured in this run
    miss: str = ""  # by how much, when missed


def agreement(result: EngineResult, reference: EngineResult | None) -> float | None:
    """Return the share of queries where the engine's top passage is one of the reference's best."""
    if reference is None or not reference.ties or not result.top1:
        return None
    pairs = list(zip(result.top1, reference.ties, strict=False))
    return sum(top in ties for top, ties in pairs) / len(pairs)


def machine() -> str:
    """Return one line describing this machine and the software measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024**2:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    versions = []
    for package in ("numpy", "rank-bm25", "bm25s"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {', '.join(versions)}"
    )


def _ms(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def article_table(article: ArticleResult) -> str:
    """Return the article section as Markdown."""
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| answer latency p50 / p99, semantic (in-process, {article.questions} questions × repeats) | "
        f"{_ms(article.answer.p50)} / {_ms(article.answer.p99)} ms |",
        f'| cold start of `talksbot ask "…"` (median, bytecode cached) | {article.cold_start_s * 1000:.0f} ms |',
        f'| bare `python -c "import rank_bm25, yaml"` (median) | {article.bare_import_s * 1000:.0f} ms |',
        f"| cold start ratio | {article.cold_ratio:.2f}× |",
        f"| peak RSS of `talksbot ask` | {article.ask_rss_mb:.0f} MB |",
    ]
    if article.lexical is not None:
        lines += [
            f"| answer latency p50 / p99, lexical only (`answer.semantic: off`) | "
            f"{_ms(article.lexical.p50)} / {_ms(article.lexical.p99)} ms |",
            f"| cold start of `talksbot ask`, lexical only | {article.cold_lexical_s * 1000:.0f} ms |",
            f"| peak RSS of `talksbot ask`, lexical only | {article.ask_rss_lexical_mb:.0f} MB |",
            f"| peak RSS of a process serving both variants | {article.serving_rss_mb:.0f} MB |",
            f"| installed packages (venv) / of which the semantic model and runtime | "
            f"{article.install_mb:.0f} / {article.semantic_install_mb:.0f} MB |",
        ]
    lines.append("")
    lines.append(f"Questions: {article.source}.")
    if article.profile:
        spent = ", ".join(f"{name} {ms:.2f}" for name, ms in article.profile)
        lines.append(f"Where an answer's time goes (cProfile, cumulative ms per answer, nested): {spent}.")
    if article.imports:
        spent = ", ".join(f"{name} {ms:.0f} ms" for name, ms in article.imports)
        lines.append(f"Import time of `bot.cli` by package (python -X importtime, self time summed): {spent}.")
    return "\n".join(lines)


def archive_header() -> str:
    """Return the archive table's header as Markdown."""
    return (
        "| passages | engine | build s | cache load s | reload +1 article s | RSS MB (serve / build) "
        "| search p50 / p99 ms | answer p50 / p99 ms | second stage p50 / p99 ms | top-1 = rank-bm25 "
        "| × faster than rank-bm25 (p99) |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )


def archive_row(row: Row, reference: EngineResult | None) -> str:
    """Return one archive table row as Markdown."""
    result = row.result
    name = ENGINE_NAMES.get(row.engine, row.engine)
    if result.skipped:
        return f"| {row.passages:,} | {name} | {result.skipped} |||||||||"
    build_s = row.build.build_s if row.build is not None else result.build_s
    rss = f"{result.rss_mb:.0f}" + (f" / {row.build.rss_mb:.0f}" if row.build is not None else "")
    search = result.search
    answer = result.answer
    second = result.second_stage
    reload = _s(row.reload.reload_s) if row.reload is not None else "–"
    agreement_text = "–" if row.agreement is None else f"{100 * row.agreement:.2f}%"
    speedup = "–"
    if reference is not None and reference.search is not None and search is not None and search.p99 > 0:
        speedup = f"{reference.search.p99 / search.p99:.1f}×"
    return (
        f"| {row.passages:,} | {name} | {_s(build_s)} | {_s(result.cache_load_s)} | {reload} | {rss} "
        f"| {_ms(search.p50 if search else None)} / {_ms(search.p99 if search else None)} "
        f"| {_ms(answer.p50 if answer else None)} / {_ms(answer.p99 if answer else None)} "
        f"| {_ms(second.p50 if second else None)} / {_ms(second.p99 if second else None)} "
        f"| {agreement_text} | {speedup} |"
    )


def stages_line(build: EngineResult) -> str:
    """Return where talksbot's cold build spent its time, and how much of it is text processing."""
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in build.stages.items())
    text = sum(seconds for name, seconds in build.stages.items() if name.split()[0] in ("read", "parse,"))
    share = ""
    if build.build_s:
        share = f" (reading, parsing, splitting and tokenizing text: {100 * text / build.build_s:.0f}%)"
    return f"talksbot cold build of {build.passages:,} passages, seconds per stage: {parts}{share}."


def reload_line(reload: EngineResult) -> str:
    """Return what a reload after one added article cost, and the reload after removing it again."""
    return (
        f"one article added, `Library.reload` {_s(reload.reload_s)} s until the new article is served "
        f"({_s(reload.reload_saved_s)} s until its cache is written too, in the background); "
        f"the article removed again, {_s(reload.reload_remove_s)} s."
    )


def _ratio(seconds: float | None, build: EngineResult | None) -> float | None:
    """Return seconds as a share of the cold build's time."""
    if seconds is None or build is None or not build.build_s:
        return None
    return seconds / build.build_s


def _article_targets(add: Any, article: ArticleResult | None) -> None:
    """The targets on the shipped article: answer p99 both ways, RSS, cold start."""
    add("article: answer p99, with the semantic model", article.answer.p99 if article else None, 25, " ms")
    lexical = article.lexical if article else None
    add("article: answer p99, lexical only", lexical.p99 if lexical else None, 2, " ms")
    add("article: RSS of `talksbot ask`, semantic", article.ask_rss_mb if article else None, 400, " MB")
    lexical_cold = article.cold_lexical_s / article.bare_import_s if article and article.cold_lexical_s else None
    add("article: cold start / bare import, lexical only", lexical_cold, 2, "×")


def _million_targets(add: Any, million: Row | None) -> None:
    """The targets at 1M passages: cold build, warm start, answer p99 and RSS."""
    build = million.build if million else None
    add("1M: cold build", build.build_s if build else None, 180, " s")
    add("1M: warm start / cold build", _ratio(million.result.cache_load_s if million else None, build), 0.1, "×")
    answer = million.result.answer if million else None
    add("1M: answer p99, lexical", answer.p99 if answer else None, 15, " ms")
    add("1M: RSS (serving)", million.result.rss_mb if million else None, 2500, " MB")


def _scale_targets(add: Any, ours: Row | None, plain: Row | None) -> None:
    """The archive-scale targets at 100k: cold build against rank-bm25's, warm start and reload against the build,
    the second stage's cost per question."""
    build = ours.build if ours else None
    reference = plain.result.build_s if plain and not plain.result.skipped else None
    cold = build.build_s / reference if build and build.build_s and reference else None
    add("100k: cold build / plain rank-bm25's build", cold, 0.5, "×")
    add("100k: warm start / cold build", _ratio(ours.result.cache_load_s if ours else None, build), 0.1, "×")
    reload = ours.reload if ours else None
    reload_s = reload.reload_s if reload else None
    add("100k: reload after adding one article / cold build", _ratio(reload_s, build), 0.1, "×")
    second = ours.result.second_stage if ours else None
    add("100k: second stage p99 per question (lexical)", second.p99 if second else None, 25, " ms")


def evaluate_targets(
    article: ArticleResult | None, rows: Sequence[Row], telegram: TelegramResult | str | None
) -> list[Target]:
    """Check the targets against this run's figures."""
    targets: list[Target] = []

    def add(name: str, value: float | None, limit: float, unit: str, *, higher: bool = False, shown: str = "") -> None:
        if value is None or value != value:
            targets.append(Target(name, "not measured", f"{'≥' if higher else '≤'} {limit:g}{unit}", None))
            return
        met = value >= limit if higher else value <= limit
        miss = ""
        if not met:
            miss = f"{limit / value:.2f}× short" if higher else f"{value / limit:.2f}× over"
        text = shown or f"{value:.3g}{unit}"
        targets.append(Target(name, text, f"{'≥' if higher else '≤'} {limit:g}{unit}", met, miss))

    _article_targets(add, article)
    by_engine = {row.engine: row for row in rows if row.passages == TARGET_SIZE}
    ours = by_engine.get("talksbot")
    plain = by_engine.get("rank-bm25")
    other = by_engine.get("bm25s")
    search = ours.result.search if ours else None
    add("100k: search p99", search.p99 if search else None, 10, " ms")
    speedup = None
    if search and plain and plain.result.search:
        speedup = plain.result.search.p99 / search.p99
    add("100k: faster than rank-bm25 (p99)", speedup, 20, "×", higher=True)
    versus = None
    if search and other and other.result.search:
        versus = search.p99 / other.result.search.p99
    add("100k: p99 over bm25s's p99", versus, 3, "×")
    add(
        "100k: top-1 identical to rank-bm25",
        100 * ours.agreement if ours and ours.agreement is not None else None,
        99.9,
        "%",
        higher=True,
    )
    add("100k: build (cold, from the corpus files)", ours.build.build_s if ours and ours.build else None, 15, " s")
    add("100k: cache load", ours.result.cache_load_s if ours else None, 3, " s")
    add("100k: RSS (serving)", ours.result.rss_mb if ours else None, 500, " MB")
    _scale_targets(add, ours, plain)
    _million_targets(add, {row.engine: row for row in rows if row.passages == MILLION}.get("talksbot"))
    if isinstance(telegram, TelegramResult):
        add("Telegram: per-update time / echo bot's", telegram.ratio, 1.2, "×")
    else:
        targets.append(Target("Telegram: per-update time / echo bot's", "not measured", "≤ 1.2×", None))
    return targets


def targets_table(targets: Sequence[Target]) -> str:
    """Return the targets as Markdown."""
    lines = ["| target | measured | limit | met |", "|---|---:|---:|---|"]
    for t in targets:
        verdict = "–" if t.met is None else "yes" if t.met else f"**no** ({t.miss})"
        lines.append(f"| {t.name} | {t.measured} | {t.limit} | {verdict} |")
    return "\n".join(lines)


def plot(rows: Sequence[Row], path: Path) -> str:
    """Draw p50 latency against archive size (log-log, whiskers to p99), one line per engine."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install -e '.[bench]')"
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    for engine, name in ENGINE_NAMES.items():
        points = sorted((r.passages, r.result.search) for r in rows if r.engine == engine and r.result.search)
        if not points:
            continue
        sizes = [p for p, _ in points]
        p50 = [s.p50 for _, s in points if s]
        p99 = [s.p99 for _, s in points if s]
        spread = [[0.0] * len(p50), [hi - lo for lo, hi in zip(p50, p99, strict=True)]]
        axes.errorbar(sizes, p50, yerr=spread, marker="o", capsize=3, label=name)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("passages in the archive")
    axes.set_ylabel("latency per question, ms (p50, whisker to p99)")
    axes.set_title("BM25 top-10 retrieval latency vs archive size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
    return f"wrote {path}"


def benchmarks_markdown(
    command: str,
    article: ArticleResult | None,
    archive: str,
    targets: Sequence[Target],
    telegram: TelegramResult | str | None,
    notes: Sequence[str],
) -> str:
    """Return the whole of BENCHMARKS.md."""
    parts = [
        "# Benchmarks",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}` on: {machine()}.",
        "The machine is shared and noisy: compare the ratios within one run rather than absolute times.",
        "",
        "## Targets",
        "",
        targets_table(targets),
        "",
        "## The article",
        "",
        article_table(article) if article else "Not measured in this run.",
        "",
        "## Archives",
        "",
        "Synthetic archives from `benchmarks/generate.py` (English words drawn by their real frequencies, "
        "passages of 60–120 words, questions of 3–8 content words), written in the corpus format and loaded "
        "by the bot's own loader. Build is from the corpus files to ready to answer: every engine reads, "
        "splits and tokenizes with the bot's own code, then builds its index; cache load is a restart of an "
        "unchanged corpus. Search is query terms → the 10 best passages; answer is the whole `Library.ask` "
        "path (analysis, retrieval, re-ranking, excerpt). Each engine ran in its own process; RSS is that "
        "process's peak.",
        "",
        archive,
        "",
        f"![latency against archive size]({PLOT_FILE.as_posix()})",
        "",
        "## Telegram path",
        "",
        telegram if isinstance(telegram, str) else telegram_text(telegram),
        "",
    ]
    if notes:
        parts += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(parts)


def telegram_text(telegram: TelegramResult | None) -> str:
    """Return the Telegram section's figures as a sentence."""
    if telegram is None:
        return "Not measured in this run."
    return (
        f"{telegram.updates} questions through the loopback Bot API imitation (tests/fake_bot_api.py), each bot "
        f"in its own process. Per update, one question at a time, p50 / p99: talksbot "
        f"{_ms(telegram.update.p50)} / {_ms(telegram.update.p99)} ms, a bare python-telegram-bot echo bot "
        f"{_ms(telegram.echo_update.p50)} / {_ms(telegram.echo_update.p99)} ms ({telegram.ratio:.2f}× at p50). "
        f"All at once: talksbot {telegram.answers_per_s:.0f} answers/s, the echo bot {telegram.echo_answers_per_s:.0f} "
        "replies/s (sending limits lifted; in production `telegram.messages_per_second` caps both at 30/s)."
    )
