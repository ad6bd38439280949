"""talksbot's tests; a package so `python -m tests.reliability` can share their code."""
