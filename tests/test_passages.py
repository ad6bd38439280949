"""Passage shaping on the shipped article, and sentence splitting."""

from __future__ import annotations

from bot.corpus import Document
from bot.knowledge import Knowledge
from bot.passages import MAX_PASSAGE_CHARS, split_passages, split_sentences


def _doc(body: str) -> Document:
    return Document("d", "T", "https://example.org/a", "P", "2022-01-12", body)


def test_quote_split_over_two_paragraphs_is_one_passage(knowledge: Knowledge) -> None:
    texts = [p.text for p in knowledge.index.passages]
    joined = [t for t in texts if "both parties had" in t]
    assert len(joined) == 1
    assert "expressed the need to dialogue" in joined[0]


def test_photo_caption_is_kept_as_a_passage(knowledge: Knowledge) -> None:
    assert any("Colonel General Aleksandr Fomin" in p.text for p in knowledge.index.passages)


def test_no_site_boilerplate_in_any_passage(knowledge: Knowledge) -> None:
    text = " ".join(p.text for p in knowledge.index.passages)
    for junk in ("Cookie", "Copyright", "Patron", "ad blocker", "Related Posts", "An ultimatum in any language"):
        assert junk not in text


def test_short_quote_paragraph_joins_its_context() -> None:
    body = (
        "Mr. Stoltenberg stressed that NATO wanted to continue diplomacy and keep its door open to new members.\n\n"
        "“Russia does not have a veto,” he said.\n\nA later paragraph about something else entirely, long enough "
        "to stand on its own as a passage of the story, with a second clause that makes it longer still, "
        "and it ends here."
    )
    passages = split_passages(_doc(body))
    assert len(passages) == 2
    assert passages[0].text.endswith("he said.")


def test_long_paragraph_is_cut_at_sentences() -> None:
    sentence = "This sentence says one thing about the talks in Brussels and nothing else at all. "
    passages = split_passages(_doc(sentence * 30))
    assert len(passages) > 1
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    assert all(p.text.endswith(".") for p in passages)


def test_sentences_do_not_split_after_titles() -> None:
    text = "Mr. Stoltenberg spoke. The U.S. envoy left? Yes “quite” so."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Mr. Stoltenberg spoke.",
        "The U.S. envoy left?",
        "Yes “quite” so.",
    ]


def test_passage_ids_name_document_and_position() -> None:
    passages = split_passages(_doc("First paragraph, complete and long enough to stand alone as it is. " * 3))
    assert passages[0].passage_id == "d#0"



def test_a_paragraph_without_sentence_breaks_is_cut_at_words_into_capped_passages() -> None:
    """A 4.9 MB paragraph with no full stop was one passage, and every question then cost 9 s."""
    words = " ".join(f"word{i}" for i in range(30_000))  # about 270,000 characters, no sentence break
    body = words + " " + "x" * 2_000  # and one 'word' longer than a passage
    passages = split_passages(_doc(body))
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    assert len(passages) >= len(body) // MAX_PASSAGE_CHARS
    assert "".join(p.text.replace(" ", "") for p in passages) == body.replace(" ", "")
    cut_inside = [p for p in passages[:-3] if not p.text.split()[-1].startswith("word")]
    assert cut_inside == []  # ordinary words are never cut
