"""Measuring: percentiles, peak memory, wall time of commands, and where import time goes."""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Latency:
    """A latency distribution, in milliseconds."""

    p50: float
    p99: float
    count: int


@dataclass(frozen=True)
class Run:
    """One run of a command: its wall time, exit status and output."""

    seconds: float
    status: int
    stdout: str
    stderr: str


def percentiles(samples_ns: Sequence[int]) -> Latency:
    """Return the p50 and p99 of latencies given in nanoseconds."""
    if not samples_ns:
        return Latency(float("nan"), float("nan"), 0)
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return Latency(statistics.median(ordered) / 1e6, p99 / 1e6, len(ordered))


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_command(command: Sequence[str], timeout: float = 3600, stdin: str | None = None) -> Run:
    """Run a command from the repository root; return its wall time and output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return Run(time.perf_counter() - started, process.returncode, out, err)


def time_cold(commands: Sequence[Sequence[str]], repeat: int) -> list[tuple[float, float]]:
    """Return each command's median wall time (s) and peak RSS (MB) over `repeat` runs after a warm-up.

    The commands take turns, run after run, so a noisy neighbour weighs on all of them alike.
    """
    walls: list[list[float]] = [[] for _ in commands]
    peaks: list[float] = [0.0 for _ in commands]
    for attempt in range(repeat + 1):
        for n, command in enumerate(commands):
            started = time.perf_counter()
            process = subprocess.Popen(
                list(command),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=python_env(),
            )
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
            if attempt:
                walls[n].append(elapsed)
                peaks[n] = max(peaks[n], usage.ru_maxrss / 1024)
    return [(statistics.median(w), peak) for w, peak in zip(walls, peaks, strict=True)]


def python_env() -> dict[str, str]:
    """Return the environment for child Pythons: the repository importable, bytecode cached as after an install."""
    env = dict(os.environ)
    # Installed packages carry compiled bytecode; a sandbox that forbids writing it would have the
    # bot recompile its own modules at every start while its libraries do not.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("DISABLE_TQDM", "1")
    return env


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(module: str, repeat: int = 3) -> list[tuple[str, float]]:
    """Return (top-level package, ms) of the import time of `module`, largest first (python -X importtime)."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=python_env(),
            check=True,
        )
        totals: dict[str, float] = {}
        for line in result.stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if match:
                package = match.group(4).split(".")[0]
                totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1000
        for package, ms in totals.items():
            best[package] = min(best.get(package, ms), ms)
    return sorted(best.items(), key=lambda item: -item[1])
