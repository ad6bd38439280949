"""The Telegram HTML checker itself: it must accept what Telegram accepts and refuse what it refuses."""

from __future__ import annotations

import pytest

from tests.telegram_html import telegram_html_problems, utf16_length, visible_text

VALID = [
    "plain text",
    "<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>i</ins> <s>s</s> <strike>s</strike> <del>d</del>",
    '<span class="tg-spoiler">spoiler</span> <tg-spoiler>spoiler</tg-spoiler>',
    '<a href="https://example.com/?a=1&amp;b=2">link</a>',
    '<a href="tg://user?id=123">user</a>',
    '<code>x &lt; y</code> <pre>block</pre> <pre><code class="language-python">x</code></pre>',
    "<blockquote>quote</blockquote> <blockquote expandable>long</blockquote>",
    "&lt;&gt;&amp;&quot; &#39; &#x27; &#8230;",
    '“<b>Stoltenberg</b> chaired.”\n\n— <a href="https://e.example/a">T</a>, P, 12 January 2022',
]

INVALID = [
    ("<script>alert(1)</script>", "tag <script>"),
    ('<a href="javascript:alert(1)">x</a>', "unsafe"),
    ('<a href=" JaVa\tScript:alert(1)">x</a>', "unsafe"),
    ('<a href="/relative">x</a>', "unsafe"),
    ("<a>x</a>", "without href"),
    ("<b>unclosed", "unclosed"),
    ("<b><i>crossed</b></i>", "closes"),
    ("</b>", "closes nothing"),
    ("a < b", "unescaped '<'"),
    ("a > b", "unescaped '>'"),
    ("fish & chips", "bare '&'"),
    ("&nbsp;", "unsupported named entity"),
    ("&am", "bare '&'"),
    ("&#0;", "invalid character reference"),
    ("&#xD800;", "invalid character reference"),
    ('<span class="x">s</span>', "tg-spoiler"),
    ("<span>s</span>", "without class"),
    ('<b onclick="x">b</b>', "attribute 'onclick'"),
    ("<b/>", "self-closing"),
    ("<!-- comment -->x", "comments"),
    ("<code><b>x</b></code>", "plain text only"),
    ('<a href="https://a.example"><a href="https://b.example">x</a></a>', "<a> inside <a>"),
    ("<a href='https://e.example'>x</a>", "malformed start tag"),
    ("x" * 4097, "characters after entity parsing"),
    ("🙂" * 2049, "characters after entity parsing"),
    ("", "empty message"),
    ("\ud800", "lone surrogate"),
]


@pytest.mark.parametrize("text", VALID)
def test_accepts_valid_telegram_html(text: str) -> None:
    assert telegram_html_problems(text) == []


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_refuses_what_telegram_refuses(text: str, expected: str) -> None:
    problems = telegram_html_problems(text)
    assert any(expected in p for p in problems), problems


def test_visible_text_and_length() -> None:
    assert visible_text("<b>a&amp;b</b> &#8230;") == "a&b …"
    assert utf16_length("🙂a") == 3
