"""The generators of the repository's measured reports, each beside the others (see README, Reports).

RELIABILITY.md: `python -m reports.reliability`. QUALITY.md: `talksbot eval --cv` (bot/quality.py).
BENCHMARKS.md: `python -m benchmarks`.
"""
