"""Run the benchmarks and print them; by default also write BENCHMARKS.md and benchmarks/latency.png.

python -m benchmarks                  # the article, archives of 1k, 10k and 100k passages
python -m benchmarks --million        # and 1M passages (slow; needs several GB for rank-bm25)
python -m benchmarks --sizes 1000 --queries 200 --no-write    # a quick smoke run
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.article import ArticleResult, load_questions, measure_article
from benchmarks.engines import EngineResult, parse_result
from benchmarks.generate import DEFAULT_SEED, write_archive
from benchmarks.measure import ROOT, run_command
from benchmarks.report import (
    MILLION,
    PLOT_FILE,
    Row,
    agreement,
    archive_header,
    archive_row,
    article_table,
    benchmarks_markdown,
    evaluate_targets,
    plot,
    reload_line,
    stages_line,
    targets_table,
    telegram_text,
)
from benchmarks.telegram import TelegramResult, measure_telegram

DEFAULT_SIZES = (1_000, 10_000, 100_000)
# Plain rank-bm25 takes about 2 s per question at 1M passages: it answers only this many there.
MILLION_REFERENCE_QUERIES = 100


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="archive sizes in passages")
    parser.add_argument("--million", action="store_true", help=f"add an archive of {MILLION:,} passages")
    parser.add_argument("--queries", type=int, default=1000, help="questions per archive")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out", help="where archives are generated")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the article's questions")
    parser.add_argument("--cold-repeat", type=int, default=11, help="runs of the cold-start commands")
    parser.add_argument("--no-references", action="store_true", help="skip rank-bm25 and bm25s")
    parser.add_argument("--no-article", action="store_true", help="skip the article section")
    parser.add_argument(
        "--telegram-updates", type=int, default=300, help="questions sent through the Bot API imitation"
    )
    parser.add_argument("--no-telegram", action="store_true", help="skip the Telegram section")
    parser.add_argument("--no-write", action="store_true", help="print only: no BENCHMARKS.md, no plot")
    return parser.parse_args(argv)


def run_engine(engine: str, folder: Path, queries: int) -> EngineResult:
    """Run one engine in a child process; a failure becomes a skipped result that says why."""
    result = run_command([sys.executable, "-m", "benchmarks.engines", engine, str(folder), "--queries", str(queries)])
    if result.status != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return EngineResult(engine, 0, skipped=f"failed (exit {result.status}): {last}")
    return parse_result(result.stdout)


def measure_archive(size: int, args: argparse.Namespace) -> list[Row]:
    """Generate (or reuse) one archive and run every engine on it; print rows as they come."""
    archive = write_archive(args.out / f"archive-{size}", size, args.queries, args.seed)
    build = run_engine("talksbot-build", archive.folder, args.queries)
    ours = run_engine("talksbot", archive.folder, args.queries)
    reload = run_engine("talksbot-reload", archive.folder, args.queries)
    if not build.skipped and build.stages:
        print(stages_line(build), flush=True)
    if reload.skipped:
        print(f"talksbot reload: {reload.skipped}", flush=True)
    else:
        print(f"talksbot reload of {size:,} passages: {reload_line(reload)}", flush=True)
    engines: list[tuple[str, EngineResult, EngineResult | None]] = [
        ("talksbot", ours, None if build.skipped else build)
    ]
    reference: EngineResult | None = None
    if not args.no_references:
        reference_queries = args.queries if size < MILLION else min(args.queries, MILLION_REFERENCE_QUERIES)
        reference = run_engine("rank-bm25", archive.folder, reference_queries)
        engines.append(("rank-bm25", reference, None))
        engines.append(("bm25s", run_engine("bm25s", archive.folder, args.queries), None))
    rows = [Row(size, name, result, built, agreement(result, reference)) for name, result, built in engines]
    if not reload.skipped:
        rows[0] = Row(size, "talksbot", ours, rows[0].build, rows[0].agreement, reload)
    for row in rows:
        print(archive_row(row, reference), flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run every section, print it, and write the report unless told not to."""
    args = parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | ({MILLION} if args.million else set()))
    article: ArticleResult | None = None
    if not args.no_article:
        print("## The article\n", flush=True)
        article = measure_article(args.repeat, args.cold_repeat)
        print(article_table(article) + "\n", flush=True)
    print("## Archives\n", flush=True)
    print(archive_header(), flush=True)
    rows: list[Row] = []
    build_lines: list[str] = []
    for size in sizes:
        measured = measure_archive(size, args)
        rows += measured
        build_lines += [stages_line(r.build) for r in measured if r.build is not None]
        for row in measured:
            if row.reload is not None:
                build_lines.append(f"talksbot reload of {row.passages:,} passages: {reload_line(row.reload)}")
    print("\n## Telegram path\n", flush=True)
    telegram: TelegramResult | str = "skipped (--no-telegram)"
    if not args.no_telegram:
        telegram = measure_telegram(load_questions()[0], args.telegram_updates)
    print(telegram if isinstance(telegram, str) else telegram_text(telegram), flush=True)
    targets = evaluate_targets(article, rows, telegram)
    print("\n## Targets\n\n" + targets_table(targets), flush=True)
    if not args.no_write:
        archive_text = "\n".join([archive_header()] + [archive_row(r, _reference(rows, r.passages)) for r in rows])
        command = "python -m benchmarks" + (" --million" if args.million else "")
        notes = [*build_lines]
        (ROOT / "BENCHMARKS.md").write_text(
            benchmarks_markdown(command, article, archive_text, targets, telegram, notes), encoding="utf-8"
        )
        print(f"\nwrote {ROOT / 'BENCHMARKS.md'}; {plot(rows, ROOT / PLOT_FILE)}", flush=True)
    return 0


def _reference(rows: Sequence[Row], size: int) -> EngineResult | None:
    for row in rows:
        if row.passages == size and row.engine == "rank-bm25" and not row.result.skipped:
            return row.result
    return None


if __name__ == "__main__":
    sys.exit(main())
