"""The query parser: how OR, '-' and brackets are read, and how a query is written back."""

from __future__ import annotations

import pytest

from forum.search.query import QueryTerm, parse_query


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("printer OR scanner", "printer OR scanner"),
        ("(printer OR scanner) driver", "(printer OR scanner) driver"),
        ("printer OR scanner driver", "(printer OR scanner) driver"),
        ('-"paper jam" printer -hp', 'printer -"paper jam" -hp'),
        ("printer OR -hp scanner", "printer scanner -hp"),
        ("printer -hp OR canon", "printer canon -hp"),
        ("a OR (b OR c) OR d", "a OR b OR c OR d"),
        ("-(hp OR canon) printer", "printer -hp -canon"),
        ("OR printer OR", "printer"),
        ("e-mail - printer", "e-mail printer"),
        ("Printer OR author:bob scanner", "printer scanner author:bob"),
    ],
)
def test_queries_are_written_back_as_they_were_understood(typed, written):
    assert parse_query(typed).text() == written


def test_lower_case_or_is_a_word_and_upper_case_or_is_not():
    assert parse_query("printer or scanner").words == ("printer", "or", "scanner")
    parsed = parse_query("printer OR scanner")
    assert parsed.words == ("printer", "scanner") and len(parsed.clauses) == 1


def test_a_hyphen_inside_a_word_excludes_nothing():
    parsed = parse_query("wi-fi -e-mail")
    assert parsed.clauses == ((QueryTerm("wi fi"),),)
    assert parsed.excluded == (QueryTerm("e mail"),)


def test_excluded_words_are_not_words_to_correct():
    parsed = parse_query("scaner -drivr")
    assert parsed.words == ("scaner",)
    assert parsed.with_words(("scanner",)).text() == "scanner -drivr"


def test_only_exclusions_is_an_empty_query_with_the_exclusions_kept():
    parsed = parse_query("-printer")
    assert parsed.is_empty and parsed.excluded == (QueryTerm("printer"),)


def test_or_beside_a_group_of_several_words_says_how_it_was_read():
    parsed = parse_query("(hp printer) OR scanner")
    assert parsed.text() == "hp (printer OR scanner)"
    assert parsed.notes == (
        "OR joins single words or phrases, so this was searched as: hp (printer OR scanner)",
    )
    assert parse_query("(hp OR canon) OR scanner").notes == ()


def test_an_excluded_operator_is_ignored_with_a_note():
    parsed = parse_query("printer -author:bob")
    assert parsed.author is None
    assert parsed.notes == ("Only words and phrases can be left out; “-author:bob” was ignored.",)
