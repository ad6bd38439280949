"""Admin-editable synonym lists, in the format search engines use (Solr's synonyms.txt).

    # comment
    alliance => nato                  one way: a question saying "alliance" also looks for "nato"
    troops, soldiers, forces          a group: each word also looks for the others
    secretary general, nato chief     multi-word entries are phrases

Rules are stored as stem sequences so "negotiators" meets "negotiations". A group is stored once,
as the rule (GROUP, its phrases), and every word of it points to that one tuple: a group of n
entries costs O(n), not the O(n²) of one rule per entry listing all the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import CorpusError, CorpusProblems
from bot.text import terms

Phrase = tuple[str, ...]
Rule = tuple[Phrase, tuple[Phrase, ...]]
# The source of a group's rule: no stem can be "<group>" (stems are folded words, no "<").
GROUP: Phrase = ("<group>",)


@dataclass(frozen=True)
class Synonyms:
    """Expansion rules: a phrase of stems → the phrases it also looks for."""

    rules: tuple[Rule, ...] = ()
    by_first_stem: Mapping[str, tuple[Rule, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Group the rules by their phrase's first stem, so expanding a question is a look-up."""
        grouped: dict[str, list[Rule]] = {}
        for source, targets in self.rules:
            for phrase in targets if source == GROUP else (source,):
                grouped.setdefault(phrase[0], []).append((phrase, targets))
        object.__setattr__(self, "by_first_stem", {k: tuple(v) for k, v in grouped.items()})

    @classmethod
    def parse(cls, text: str, source: str = "synonyms.txt") -> Synonyms:
        """Parse synonyms.txt; malformed lines raise CorpusProblems naming each line."""
        rules: list[tuple[Phrase, tuple[Phrase, ...]]] = []
        problems: list[CorpusError] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            try:
                rules.extend(_rules(raw, f"{source} line {number}"))
            except CorpusError as exc:
                problems.append(exc)
        if problems:
            raise CorpusProblems(problems)
        return cls(tuple(rules))

    def expand(self, stems: list[str]) -> list[tuple[int, str]]:
        """Return (position of the question word it came from, extra stem) for each expansion."""
        extra: list[tuple[int, str]] = []
        for start, first in enumerate(stems):
            for phrase, targets in self.by_first_stem.get(first, ()):
                if tuple(stems[start : start + len(phrase)]) == phrase:
                    extra.extend((start, s) for target in targets if target != phrase for s in target)
        return extra


def _rules(raw: str, where: str) -> list[tuple[Phrase, tuple[Phrase, ...]]]:
    """Return the rules of one line of synonyms.txt (none for a blank or comment line)."""
    line = raw.split("#", 1)[0].strip()
    if not line:
        return []
    if line.count("=>") > 1:
        raise CorpusError(where, "more than one '=>'")
    if "=>" in line:
        left, right = line.split("=>")
        sources = _phrases(left, where)
        targets = _phrases(right, where)
        return [(s, targets) for s in sources]
    group = _phrases(line, where)
    if len(group) < 2:
        raise CorpusError(where, "a group needs two or more comma-separated entries")
    return [(GROUP, group)]


def _phrases(part: str, where: str) -> tuple[Phrase, ...]:
    phrases = []
    for entry in part.split(","):
        if not entry.strip():
            raise CorpusError(where, "empty entry")
        stems = tuple(terms(entry))
        if not stems:
            raise CorpusError(where, f"'{entry.strip()}' has only stop words")
        phrases.append(stems)
    return tuple(phrases)
