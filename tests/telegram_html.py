"""The one checker of Telegram's HTML parse mode in the tests (Bot API, "HTML style"): the property
tests run it over every rendered answer, and the Bot API imitation over every text the bot sends.

Telegram accepts only a few tags, only four named entities, and wants every other <, > and &
escaped; a reply that breaks these rules is refused with "can't parse entities", which to the
user looks like the bot ignoring them. This checker is stricter than Telegram where that is
simpler (attribute values must be double-quoted), never looser.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

# tag → the attributes it may carry (Bot API, formatting options, HTML style)
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
SAFE_SCHEMES = ("http://", "https://", "tg://")
TELEGRAM_MAX_CHARS = 4096

_ENTITY = re.compile(r"&(?:([A-Za-z][A-Za-z0-9]*)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));")
_START_TAG = re.compile(r'<[a-z][a-z-]*(?:\s+[a-z][a-z-]*(?:="[^"<>]*")?)*\s*>\Z')


def utf16_length(text: str) -> int:
    """Return the length Telegram counts: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass
class ParsedHTML:
    """What Telegram would show for an HTML text (its visible text, links and bold text), and why it
    would refuse it (errors: empty when the markup is valid)."""

    visible: str
    links: list[str]
    bold: str
    errors: list[str]


class _Checker(HTMLParser):
    """Parses like Telegram: collects the problems, the visible text, the links and the bold text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.visible: list[str] = []
        self.links: list[str] = []
        self.bold: list[str] = []

    def _show(self, text: str) -> None:
        self.visible.append(text)
        if "b" in self.stack or "strong" in self.stack:
            self.bold.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed")
            return
        if not _START_TAG.match(raw):
            self.problems.append(f"malformed start tag {raw!r}")
        names = [name for name, _ in attrs]
        if len(set(names)) != len(names):
            self.problems.append(f"repeated attribute in {raw!r}")
        for name, value in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.problems.append(f"attribute {name!r} not allowed on <{tag}>")
            elif tag == "span" and value != "tg-spoiler":
                self.problems.append(f'<span> needs class="tg-spoiler", not {value!r}')
            elif tag == "code" and not (value or "").startswith("language-"):
                self.problems.append(f"<code class> must be language-…, not {value!r}")
        if tag == "a":
            href = dict(attrs).get("href")
            if href is None:
                self.problems.append("<a> without href")
            else:
                self.links.append(href)
                plain = re.sub(r"[\x00-\x20\x7f]", "", href).casefold()
                if not plain.startswith(SAFE_SCHEMES):
                    self.problems.append(f"unsafe or relative href {href!r}")
            if "a" in self.stack:
                self.problems.append("<a> inside <a>")
        if tag == "span" and not attrs:
            self.problems.append("<span> without class")
        if any(t in ("code", "pre") for t in self.stack) and not (tag == "code" and self.stack[-1:] == ["pre"]):
            self.problems.append(f"<{tag}> inside <{self.stack[-1]}>: code and pre hold plain text only")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing tag <{tag}/> is not allowed")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self.problems.append(f"</{tag}> closes nothing")
        elif self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1]}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                self.problems.append(f"unescaped {char!r} in text")
        self._show(data)

    def handle_entityref(self, name: str) -> None:
        self._show(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._show(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.problems.append("HTML comments are not allowed")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration <!{decl}> is not allowed")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instructions are not allowed")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("CDATA and other declarations are not allowed")


def check_entities(text: str) -> list[str]:
    """Every & must start one of the four named entities or a valid numeric one."""
    problems: list[str] = []
    position = 0
    while (amp := text.find("&", position)) >= 0:
        match = _ENTITY.match(text, amp)
        if match is None:
            problems.append(f"bare '&' at {amp}: {text[amp : amp + 12]!r}")
        elif match.group(1) is not None and match.group(1) not in NAMED_ENTITIES:
            problems.append(f"unsupported named entity {match.group()!r}")
        elif match.group(1) is None:
            code = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                problems.append(f"invalid character reference {match.group()!r}")
        position = amp + 1
    return problems


def parse_telegram_html(text: str) -> ParsedHTML:
    """Parse a text in Telegram's HTML parse mode: what it shows, and any markup Telegram refuses
    ("can't parse entities"; an empty or too long message is refused for other reasons)."""
    problems = check_entities(text)
    checker = _Checker()
    checker.feed(text)
    checker.close()
    problems.extend(checker.problems)
    if checker.rawdata:  # an unterminated "<..." left over
        problems.append(f"unterminated tag in {checker.rawdata[:30]!r}")
    if checker.stack:
        problems.append(f"unclosed tags: {', '.join('<' + t + '>' for t in checker.stack)}")
    return ParsedHTML("".join(checker.visible), checker.links, "".join(checker.bold), problems)


def visible_text(text: str) -> str:
    """Return what the user sees: tags removed, entities decoded."""
    return parse_telegram_html(text).visible


def telegram_html_problems(text: str) -> list[str]:
    """Return why Telegram would refuse this HTML message (an empty list: it is valid)."""
    parsed = parse_telegram_html(text)
    problems, visible = parsed.errors, parsed.visible
    if not visible.strip():
        problems.append("empty message")
    if utf16_length(visible) > TELEGRAM_MAX_CHARS:
        problems.append(f"{utf16_length(visible)} characters after entity parsing (limit {TELEGRAM_MAX_CHARS})")
    if re.search(r"[\ud800-\udfff]", text):
        problems.append("lone surrogate (cannot be sent as UTF-8)")
    return problems
