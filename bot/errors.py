"""The exceptions talksbot raises; adapters turn them into one short line for the user."""

from __future__ import annotations

from collections.abc import Sequence


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

    def __reduce__(self) -> tuple[type[CorpusError], tuple[str, str]]:
        """Pickle by path and problem (a build's child process sends its problems back)."""
        return (type(self), (self.path, self.problem))

    @property
    def problems(self) -> tuple[CorpusError, ...]:
        """Every problem found, one per file or line (a single CorpusError is its own list)."""
        return (self,)


class CorpusProblems(CorpusError):
    """Several corpus problems found in one pass; `path` and `problem` are those of the first.

    str() is one line naming up to SHOWN problems, so a /reload reply or a log line stays short;
    `problems` has them all (`talksbot check` prints one line each).
    """

    SHOWN = 5

    def __init__(self, problems: Sequence[CorpusError]) -> None:
        found = tuple(p for problem in problems for p in problem.problems)
        if not found:
            raise ValueError("CorpusProblems needs at least one problem")
        super().__init__(found[0].path, found[0].problem)
        self._problems = found

    def __reduce__(self) -> tuple[type[CorpusProblems], tuple[tuple[CorpusError, ...]]]:  # type: ignore[override]
        """Pickle by the problems."""
        return (type(self), (self._problems,))

    @property
    def problems(self) -> tuple[CorpusError, ...]:
        """Every problem found, in the order the files were read."""
        return self._problems

    def __str__(self) -> str:
        if len(self._problems) == 1:
            return str(self._problems[0])
        shown = "; ".join(str(p) for p in self._problems[: self.SHOWN])
        more = len(self._problems) - self.SHOWN
        return f"{len(self._problems)} problems: {shown}" + (f"; and {more} more" if more > 0 else "")


class ImportPageError(TalksbotError):
    """A raw page could not be turned into a corpus document."""


class FetchError(ImportPageError):
    """A page could not be downloaded: refused address, timeout, too large, not a web page, an HTTP error."""


class OutputError(TalksbotError):
    """An imported article could not be written where asked (no such folder, a folder, not writable)."""


class OutputExists(OutputError):
    """The file to write already exists and may not be replaced."""
