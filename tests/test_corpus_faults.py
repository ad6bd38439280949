"""Corpus faults: `talksbot check` names each problem in one line; a reload refuses and loses nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bot.answer import answer
from bot.corpus import load_corpus
from bot.errors import CorpusError, CorpusProblems
from bot.knowledge import Knowledge, Settings
from bot.library import Library
from bot.model import load_model
from tests.faults import (
    CORPUS_FAULTS,
    DOC,
    CorpusFault,
    available,
    document,
    probe,
    run_cli,
    run_corpus_fault,
    run_many_documents,
)
from tests.hostile import shared_library


@pytest.mark.parametrize("fault", CORPUS_FAULTS, ids=[f.name for f in CORPUS_FAULTS])
def test_check_names_the_problem_and_reload_keeps_serving(fault: CorpusFault, tmp_path: Path) -> None:
    if not available(fault):
        pytest.skip(f"needs os.{fault.requires}")
    outcome = run_corpus_fault(fault, tmp_path)
    assert outcome.problems == [], outcome.problems
    assert outcome.same_answers == outcome.questions > 0


def test_a_thousand_documents_load(tmp_path: Path) -> None:
    outcome = run_many_documents(tmp_path, 1000)
    assert outcome.problems == []
    assert outcome.first_error.startswith("OK: config") and "1001 documents" in outcome.first_error


def test_readme_and_hidden_files_are_not_documents(corpus_copy: Path, config_file: Path) -> None:
    (corpus_copy / "README.md").write_text("# How to add articles\n", encoding="utf-8")
    (corpus_copy / ".drafts").mkdir()
    (corpus_copy / ".drafts" / "draft.md").write_bytes(b"\xff\xfe not even UTF-8")
    checked = run_cli(["--config", str(config_file), "check"], cwd=config_file.parent)
    assert checked.returncode == 0, checked.stderr
    assert "1 document," in checked.stdout


def test_a_fixed_corpus_takes_effect_after_a_refused_reload(corpus_copy: Path) -> None:
    library = Library(corpus_copy, Settings(), rarity=shared_library().rarity)
    before = probe(library)
    (corpus_copy / "new.md").write_text(document(url=None, body="Borscht is a beet soup."), encoding="utf-8")
    refused = library.reload()
    assert not refused.ok and "new.md: missing 'url'" in refused.error
    assert probe(library) == before
    assert not library.ask("What is borscht?").found
    (corpus_copy / "new.md").write_text(document(body="Borscht is a beet soup."), encoding="utf-8")
    accepted = library.reload()
    assert accepted.ok and accepted.after.documents == 2
    assert library.ask("What is borscht?").found


def test_one_problem_reads_as_before_and_many_stay_one_line() -> None:
    single = CorpusProblems([CorpusError("a.md", "empty body")])
    assert str(single) == "a.md: empty body" and (single.path, single.problem) == ("a.md", "empty body")
    assert isinstance(single, CorpusError) and len(single.problems) == 1
    many = CorpusProblems([CorpusError(f"doc-{n}.md", "missing 'url' in front matter") for n in range(12)])
    text = str(many)
    assert "\n" not in text and text.startswith("12 problems: doc-0.md: missing 'url'") and "and 7 more" in text
    assert [p.path for p in many.problems] == [f"doc-{n}.md" for n in range(12)]
    assert CorpusError("x.md", "bad").problems[0].path == "x.md"


# --- any bytes in a corpus file: a corpus that can be answered from, or a CorpusError -------------

# fmt: off
_yaml_values = st.text(max_size=30) | st.sampled_from(
    [
        "2022-01-12", "2022-13-45", "2022-01-12 25:61:00", "[a, b]", "{a: 1}", "&x [1]", "*x", "*undefined",
        "!!binary AAA", "!!python/object:os.system", "~", "null", "'", '"', "|", ">", "- x", "1e9999", "0x1F",
        ".inf", "!!int abc", "!!float x", "!!timestamp 2022-99-99", "!!set {a}", "!!omap [a: 1]", "!!str",
        "https://example.com/x", "http://", "9" * 5000, "[" * 50, "\t", "\x85", "\ufeff", "@", "`", "%TAG",
    ]
)
# fmt: on
_keys = st.sampled_from(["title", "url", "publisher", "published", "questions", "author", "", "? [a]", "<<", "-"])
_front = st.lists(st.tuples(_keys, _yaml_values), max_size=8).map(lambda kv: "\n".join(f"{k}: {v}" for k, v in kv))
_valid_front = st.builds(
    lambda extra: f"title: T\nurl: https://example.com/x\npublisher: P\npublished: 2022-01-12\n{extra}", _front
)
_texts = st.builds(
    lambda front, dashes, body: f"{dashes}\n{front}\n{dashes}\n{body}",
    _front | _valid_front,
    st.sampled_from(["---", "---", "--- ", "---\r", "----", ""]),
    st.text(max_size=400),
)
_valid_documents = st.builds(
    lambda title, body: (
        f"---\ntitle: {json.dumps(title)}\nurl: https://example.com/x\npublisher: P\npublished: 2022-01-12\n---\n{body}"
    ),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=80),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=2000),
)
_texts = _texts | _valid_documents
_contents = (
    _texts.map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.binary(max_size=400)
    | st.builds(lambda t, junk: t.encode("utf-8", "surrogatepass") + junk, _texts, st.binary(min_size=1, max_size=8))
)


@given(_contents)
def test_any_file_content_loads_or_is_refused_with_a_corpus_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "doc.md").write_bytes(content)
        try:
            corpus = load_corpus(folder)
        except CorpusError as exc:
            event(f"refused: {exc.problem.split(':')[0][:40]}")
            assert exc.problems and all("\n" not in str(p) for p in exc.problems), str(exc)
            assert str(exc).startswith(("doc.md: ", str(folder))), str(exc)
            return
    event("loaded")
    knowledge = Knowledge.build(corpus, shared_library().rarity, load_model())
    for question in ("Who?", "T", corpus.documents[0].body[:50]):
        answer(question, knowledge, Settings())


def test_the_real_corpus_is_named_in_a_duplicate_error(corpus_copy: Path) -> None:
    (corpus_copy / "zz-copy.md").write_bytes((corpus_copy / DOC).read_bytes())
    with pytest.raises(CorpusError, match=f"zz-copy.md: same url as {DOC}"):
        load_corpus(corpus_copy)
