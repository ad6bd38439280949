"""Folding, words, stems, rarity and spelling tolerance."""

from __future__ import annotations

from bot.text import Speller, WordRarity, fold, proper_nouns, stem, terms, words


def test_fold_plain_quotes_hyphens_and_no_control_characters() -> None:
    assert fold("Russia\u2019s \u201cserious\u201d build\u2013up\x00\u200b now") == 'Russia\'s "serious" build-up now'


def test_words_drop_stop_words_and_possessives() -> None:
    assert words("What did NATO's chief say about the talks?") == ["nato", "chief", "say", "talks"]


def test_hyphenated_compounds_meet_their_joined_spelling() -> None:
    assert "buildup" in words("military build-up")
    assert {"build", "buildup"} <= set(words("the build-up"))


def test_acronym_that_spells_a_stop_word_is_kept_but_not_when_shouting() -> None:
    assert "us" in words("the US urged Russia")
    assert "us" not in words("tell us more")
    assert "us" not in words("TELL US WHO CHAIRED THE MEETING")


def test_chat_abbreviations_read_as_words() -> None:
    assert words("wht did sherman say abt russia") == ["sherman", "say", "russia"]
    assert "government" in words("govt")


def test_stems_join_word_forms() -> None:
    assert stem("negotiations") == stem("negotiating") == stem("negotiators")
    assert terms("Meetings") == terms("meeting")


def test_rarity_weighs_names_above_everyday_words(rarity: WordRarity) -> None:
    assert rarity.weight("stoltenberg") > rarity.weight("meeting") > rarity.weight("said")


def test_speller_corrects_misspelt_names_to_corpus_words(rarity: WordRarity) -> None:
    speller = Speller.build(["stoltenberg", "council", "ukraine", "meeting", "sherman"], rarity)
    assert speller.correct("stoltenburg") == "stoltenberg"
    assert speller.correct("councel") == "council"
    assert speller.correct("ukrane") == "ukraine"
    assert speller.correct("meating") == "meeting"
    assert speller.correct("shermann") == "sherman"


def test_speller_leaves_real_words_alone(rarity: WordRarity) -> None:
    speller = Speller.build(["whether", "council"], rarity)
    assert speller.correct("weather") == "weather"
    assert speller.correct("zelensky") == "zelensky"


def test_misspelt_stop_words_are_recognised(rarity: WordRarity) -> None:
    speller = Speller.build(["meeting"], rarity)
    assert speller.is_misspelt_stop_word("wher")
    assert not speller.is_misspelt_stop_word("brussels")


def test_proper_nouns_are_capitalised_words_inside_a_sentence() -> None:
    assert proper_nouns("What did Lavrov say after the meeting?") == {"lavrov"}
    assert proper_nouns("Who Won The Cup") == set()


def test_a_synonym_group_of_thousands_costs_linear_memory_and_expands_to_the_others() -> None:
    """One line of 8,000 synonyms cost 540 MB (every entry listed all the others)."""
    import tracemalloc

    from bot.synonyms import Synonyms

    small_line = ", ".join(f"zq{i}x" for i in range(500))
    big_line = ", ".join(f"zq{i}x" for i in range(8_000))
    tracemalloc.start()
    try:
        Synonyms.parse(small_line)
        small = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        big_synonyms = Synonyms.parse(big_line)
        big = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert big < small * 16 * 3  # 16 times the entries: about 16 times the memory, not 256
    expanded = big_synonyms.expand(["zq7x"])
    assert len(expanded) == 7_999 and (0, "zq7x") not in expanded and (0, "zq8x") in expanded
    one_way = Synonyms.parse("alliance => nato")
    assert one_way.expand(["allianc"]) == [(0, "nato")] or one_way.expand(["alliance"]) == [(0, "nato")]
