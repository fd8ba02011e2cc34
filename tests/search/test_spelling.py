"""The spelling corrector on small vocabularies: what it corrects, what it leaves alone."""

from __future__ import annotations

import pytest

from forum.search.spelling import EditCosts, SpellingCorrector

COUNTS = {
    "interview": 50,
    "interval": 3,
    "interviews": 20,
    "the": 1000,
    "tent": 900,
    "receive": 10,
    "relieve": 30,
    "beginning": 12,
    "café": 4,
}


@pytest.fixture(scope="module")
def speller() -> SpellingCorrector:
    return SpellingCorrector.from_counts(COUNTS)


def test_known_word_is_returned_unchanged(speller: SpellingCorrector) -> None:
    assert speller.correct("interval") == "interval"
    assert speller.is_known("interval")


def test_common_misspelling_is_corrected(speller: SpellingCorrector) -> None:
    assert speller.correct("intervew") == "interview"


def test_transposition_counts_as_one_edit(speller: SpellingCorrector) -> None:
    # Levenshtein would put "the" two edits away; "teh" is too short to be corrected that far.
    assert EditCosts.uniform().align("teh", "the") == (1.0, (("swap", "he"),))
    assert speller.correct("teh") == "the"


def test_closer_word_beats_a_more_frequent_one_further_away() -> None:
    speller = SpellingCorrector.from_counts({"interview": 1, "interval": 10_000})
    assert speller.correct("intervew") == "interview"  # "interval" is two substitutions away


def test_learned_costs_prefer_the_usual_slip_over_the_commoner_word(
    speller: SpellingCorrector,
) -> None:
    # Both are one edit away and "relieve" is three times commoner, but people swap "ie"/"ei"
    # far more often than they type "c" for "l"; Norvig's corrector would say "relieve".
    assert speller.correct("recieve") == "receive"
    assert speller.correct("begining") == "beginning"  # a dropped double letter


def test_unknown_word_with_nothing_close_is_returned_unchanged(speller: SpellingCorrector) -> None:
    assert speller.correct("xylophone") == "xylophone"
    assert speller.suggest("xylophone") == []


def test_correction_ignores_case(speller: SpellingCorrector) -> None:
    assert speller.correct("InterVew") == "interview"
    assert speller.correct("THE") == "the"
    assert speller.frequency("Interview") == 50


def test_counts_of_one_word_in_different_cases_are_added_up() -> None:
    speller = SpellingCorrector.from_counts({"Search": 2, "search": 3, "gone": 0})
    assert speller.frequency("search") == 5
    assert not speller.is_known("gone")


def test_empty_string_is_returned_unchanged(speller: SpellingCorrector) -> None:
    assert speller.correct("") == ""
    assert speller.suggest("") == []


def test_very_long_word_is_returned_unchanged(speller: SpellingCorrector) -> None:
    word = "interview" * 111 + "x"
    assert speller.correct(word) == word
    assert speller.suggest(word) == []


def test_terms_with_digits_or_too_short_are_left_alone(speller: SpellingCorrector) -> None:
    assert speller.correct("th3") == "th3"
    assert speller.correct("te") == "te"


def test_non_ascii_word_is_corrected_like_any_other(speller: SpellingCorrector) -> None:
    assert speller.correct("cafè") == "café"
    assert speller.correct("naïveté") == "naïveté"


def test_suggestions_are_ranked_with_the_word_itself_first_when_known(
    speller: SpellingCorrector,
) -> None:
    assert speller.suggest("intervew", limit=2) == ["interview", "interviews"]
    assert speller.suggest("interview")[0] == "interview"
    assert speller.suggest("intervew", limit=1) == [speller.correct("intervew")]


def test_shipped_costs_cover_every_edit_of_the_alphabet() -> None:
    costs = EditCosts.shipped()
    assert len(costs.costs["sub"]) == 2 * 26 * 25  # anywhere, and as the first letter
    assert all(cost > 0 for table in costs.costs.values() for cost in table.values())
