"""talksbot's tests; a package so the report generators in reports/ can share their code."""
