"""Benchmarks: synthetic archives, engines measured in their own processes, and the report (python -m benchmarks)."""
