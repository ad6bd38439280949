"""talksbot: answers questions about a news story with sourced excerpts (BM25 retrieval)."""

__version__ = "0.1.0"
