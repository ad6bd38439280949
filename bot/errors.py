"""The exceptions talksbot raises; adapters turn them into one short line for the user."""

from __future__ import annotations


class TalksbotError(Exception):
    """Base class: a problem a user or admin can fix, reported without a traceback."""


class ConfigError(TalksbotError):
    """config.yaml (or its override) is unreadable, has an unknown key or a bad value."""


class CorpusError(TalksbotError):
    """A corpus file cannot be used; the message names the file and the problem."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ImportPageError(TalksbotError):
    """A raw page could not be turned into a corpus document."""
