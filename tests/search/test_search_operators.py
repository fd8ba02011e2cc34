"""-word, -"phrase" and OR on the search page and API, on real indexes and the database fallback."""

from __future__ import annotations

import re
import shutil

import pytest

from forum.search import get_search
from tests.builders import make_thread


def results(html: str) -> list[str]:
    return re.findall(r'<li class="search-result">.*?</li>', html, flags=re.S)


def subjects(client, query: str) -> set[str]:
    html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return {re.search(r'">([^<]+)</a>', found)[1] for found in results(html)}


@pytest.fixture
def hardware(app, member, other_member, board) -> None:
    """Five threads about printers, scanners and drivers; one's reply alone mentions hp."""
    from forum.extensions import db
    from forum.models import Member, Thread
    from forum.threads import services

    make_thread(app, member, board, subject="Printer help", body="my printer is slow")
    laser = make_thread(
        app, member, board, subject="Laser printer jams", body="the printer jams on thick paper"
    )
    make_thread(app, other_member, board, subject="Scanner help", body="my scanner is slow")
    make_thread(app, member, board, subject="Scanner driver", body="where is the scanner driver")
    make_thread(app, member, board, subject="Mouse driver", body="where is the mouse driver")
    with app.app_context():
        services.reply(
            db.session.get(Member, member),
            db.session.get(Thread, laser),
            "an hp driver update fixed it",
        )


def test_a_minus_word_leaves_out_threads_with_it_in_any_post(client, hardware):
    assert subjects(client, "printer") == {"Printer help", "Laser printer jams"}
    assert subjects(client, "printer -hp") == {"Printer help"}  # the reply has it


def test_a_minus_word_is_stemmed_like_any_other(client, hardware):
    assert subjects(client, "printer -drivers") == {"Printer help"}


def test_a_minus_phrase_leaves_out_only_threads_with_those_words_in_that_order(client, hardware):
    assert subjects(client, 'printer -"thick paper"') == {"Printer help"}
    assert subjects(client, 'printer -"paper thick"') == {"Printer help", "Laser printer jams"}


def test_excluded_words_are_never_highlighted(client, hardware):
    html = client.get("/search", query_string={"q": "printer OR scanner -scanner"}).get_data(
        as_text=True
    )
    assert len(results(html)) == 2
    assert "<mark>printer</mark>" in html and "<mark>scanner" not in html.lower()


def test_a_search_of_only_excluded_words_says_what_to_add_and_lists_nothing(app, client, hardware):
    html = client.get("/search", query_string={"q": "-printer -scanner"}).get_data(as_text=True)
    assert "Add a word to search for: “-printer” only leaves threads out" in html
    assert results(html) == [] and "threads found" not in html
    data = client.get("/api/v1/search", query_string={"q": "-printer"}).get_json()
    assert data["total"] == 0 and data["results"] == []
    assert any(note.startswith("Add a word to search for") for note in data["notes"])
    assert get_search(app).misses() == []  # not a search that found nothing: nothing was asked


def test_or_matches_either_word(client, hardware):
    html = client.get("/search", query_string={"q": "printer OR scanner"}).get_data(as_text=True)
    assert len(results(html)) == 4
    assert "No thread has all of your words" not in html


def test_lower_case_or_is_an_ordinary_word_so_both_words_are_needed_first(client, hardware):
    html = client.get("/search", query_string={"q": "printer or scanner"}).get_data(as_text=True)
    assert "No thread has all of your words" in html  # then any word, as for any two words


@pytest.mark.parametrize("query", ["(printer OR scanner) driver", "printer OR scanner driver"])
def test_or_binds_the_words_beside_it_and_the_other_words_must_match_too(client, hardware, query):
    # the laser thread's reply has its subject's "printer" and "driver"; "Printer help" has no
    # driver, as it would need if OR joined "printer" with "scanner driver"
    assert subjects(client, query) == {"Scanner driver", "Laser printer jams"}


def test_or_and_exclusions_combine_with_phrases_and_operators(client, hardware):
    assert subjects(client, '"is slow" OR mouse -scanner') == {"Printer help", "Mouse driver"}
    assert subjects(client, "printer OR scanner -driver board:freelancers") == {
        "Printer help",
        "Scanner help",
    }
    assert subjects(client, "printer OR scanner -driver author:bob") == {"Scanner help"}
    assert subjects(client, "printer OR scanner -driver before:2000-01-01") == set()


def test_the_any_word_fallback_keeps_the_exclusions(client, hardware):
    html = client.get(
        "/search", query_string={"q": "(printer OR scanner) keyboard -driver"}
    ).get_data(as_text=True)
    assert "No thread has all of your words" in html
    found = "".join(results(html))
    assert len(results(html)) == 2 and "Printer help" in found and "Scanner help" in found


def test_a_filter_with_only_exclusions_lists_the_rest_of_what_the_filter_finds(client, hardware):
    assert subjects(client, "author:bob -printer") == {"Scanner help"}
    assert subjects(client, "author:bob -scanner") == set()


def test_showing_results_for_keeps_the_exclusion_and_never_corrects_it(client, hardware):
    html = client.get("/search", query_string={"q": "scaner -driver"}).get_data(as_text=True)
    assert re.search(r"Showing results for <a [^>]*><strong>scanner -driver</strong></a>", html)
    assert 'href="/search?q=scanner+-driver"' in html
    assert subjects(client, "scaner -driver") == {"Scanner help"}
    html = client.get("/search", query_string={"q": "scanner -drivr"}).get_data(as_text=True)
    assert len(results(html)) == 2  # "drivr" is in no post, so nothing is left out
    assert "Did you mean" not in html and "Showing results for" not in html


def test_corrections_keep_or_as_typed(client, hardware):
    html = client.get("/search", query_string={"q": "printr OR scaner"}).get_data(as_text=True)
    assert re.search(r"Showing results for <a [^>]*><strong>printer OR scanner</strong>", html)
    html = client.get("/search", query_string={"q": "printr OR scanner"}).get_data(as_text=True)
    assert re.search(r"Did you mean: <a [^>]*><strong>printer OR scanner</strong>", html)


def test_the_api_answers_operators_as_the_page_does(client, hardware):
    data = client.get("/api/v1/search", query_string={"q": "scaner OR mouse -driver"}).get_json()
    assert data["corrected_query"] == "scanner OR mouse -driver"
    assert [hit["subject"] for hit in data["results"]] == ["Scanner help"]


def test_without_an_index_the_database_match_understands_or_and_exclusions(app, client, hardware):
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    html = client.get("/search", query_string={"q": "printer OR scanner -driver"}).get_data(
        as_text=True
    )
    assert "The search index is not built yet" in html
    assert subjects(client, "printer OR scanner -driver") == {"Printer help", "Scanner help"}
    assert subjects(client, 'printer -"thick paper"') == {"Printer help"}
    assert subjects(client, "(printer OR scanner) driver") == {
        "Scanner driver",
        "Laser printer jams",
    }


def test_without_an_index_the_same_flow_falls_back_to_any_word_and_keeps_phrases_required(
    app, client, hardware
):
    """The database fallback runs the service's one query flow: all words, then any word."""
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    html = client.get(
        "/search", query_string={"q": "(printer OR scanner) keyboard -driver"}
    ).get_data(as_text=True)
    assert "The search index is not built yet" in html
    assert "No thread has all of your words" in html
    assert subjects(client, "(printer OR scanner) keyboard -driver") == {
        "Printer help",
        "Scanner help",
    }
    # any of the words, but every phrase
    assert subjects(client, 'printer keyboard "thick paper"') == {"Laser printer jams"}
    assert subjects(client, 'mouse keyboard "thick paper"') == set()


def test_the_tips_under_the_search_box_list_or_and_exclusions(client, hardware):
    html = client.get("/search", query_string={"q": "(printer OR scanner) driver"}).get_data(
        as_text=True
    )
    tips = re.search(r'<p class="help">Tips:(.*?)</p>', html, flags=re.S)[1]
    assert "<code>printer OR scanner</code>" in tips and "<code>-word</code>" in tips
    assert "<code>(printer OR scanner) driver</code>" in tips
    assert len(results(html)) == 2
