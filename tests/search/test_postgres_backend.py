"""The PostgreSQL full-text backend (FORUM_SEARCH_BACKEND=postgresql) through the real service,
the /search page and the CLI: its index is a table written in each post's own transaction.

tests/search/test_search_page.py runs the page's behaviours over this backend too; these are the
parts only it has (no drain, its tables, its start-up check) and the brief's key behaviours.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from forum import create_app
from forum.search import get_search
from forum.search.postgres import documents, words
from tests.builders import make_member, make_thread
from tests.databases import config_for_tests, db_scalar, empty_postgres


@pytest.fixture
def database_url(pg_session_schema) -> str:
    """PostgreSQL only (skipped, or failed under FORUM_REQUIRE_SERVICES=1, without it)."""
    empty_postgres(pg_session_schema)
    return pg_session_schema


@pytest.fixture
def search_backend() -> str:
    return "postgresql"


def results(html: str) -> list[str]:
    return re.findall(r'<li class="search-result">.*?</li>', html, flags=re.S)


def found(app, query: str, **kwargs):
    with app.app_context():
        return get_search(app).search(query, **kwargs)


def test_the_backend_is_chosen_by_the_setting(app):
    from forum.search.postgres import PostgresSearch

    assert isinstance(get_search(app).backend, PostgresSearch)


def test_postgresql_search_on_sqlite_is_refused_at_start_up(tmp_path):
    config = config_for_tests(f"sqlite:///{tmp_path / 'forum.db'}", tmp_path)
    with pytest.raises(RuntimeError, match="FORUM_SEARCH_BACKEND=postgresql needs a PostgreSQL"):
        create_app(config | {"SEARCH_BACKEND": "postgresql"})


def test_an_unknown_backend_is_refused_at_start_up(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="must be whoosh or postgresql, not 'solr'"):
        create_app(config_for_tests(database_url, tmp_path) | {"SEARCH_BACKEND": "solr"})


def test_a_post_is_searchable_when_its_transaction_commits_with_nothing_to_drain(
    app, member, board
):
    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False  # no drain could have helped
    make_thread(app, member, board, subject="Kettle advice", body="My kettle whistles")
    outcome = found(app, "kettles")
    assert [hit.subject for hit in outcome.hits] == ["Kettle advice"]
    assert get_search(app).pending() == 0 and not get_search(app).backend.behind()


def test_a_rolled_back_change_leaves_the_documents_as_they_were(app, member, board):
    from forum.database import write_transaction
    from forum.models import Post

    make_thread(app, member, board, subject="Zebra", body="zebra stripes")
    with app.app_context(), pytest.raises(RuntimeError), write_transaction() as session:
        session.scalars(select(Post)).one().subject = "Quagga"
        session.flush()
        raise RuntimeError("the unit of work fails after its flush")
    assert found(app, "quagga").total == 0 and found(app, "zebra").total == 1
    assert db_scalar(app, select(documents.c.subject)) == "Zebra"


def test_stemming_all_words_then_any_word_phrase_and_exclusion(app, client, member, board):
    make_thread(app, member, board, subject="Interviews tomorrow", body="a video chat at noon")
    make_thread(app, member, board, subject="Apples", body="apple pie and a chat")
    make_thread(app, member, board, subject="Pears", body="pear tart, interview later")
    assert {h.subject for h in found(app, "interview").hits} == {"Interviews tomorrow", "Pears"}
    both = found(app, "apple tart")
    assert both.any_word and {h.subject for h in both.hits} == {"Apples", "Pears"}
    assert [h.subject for h in found(app, '"video chat"').hits] == ["Interviews tomorrow"]
    assert found(app, '"chat video"').total == 0
    assert {h.subject for h in found(app, "chat -apple").hits} == {"Interviews tomorrow"}
    html = client.get("/search", query_string={"q": "interview -tart"}).get_data(as_text=True)
    assert len(results(html)) == 1 and "Interviews tomorrow" in results(html)[0]


def test_author_and_board_operators(app, member, board):
    from forum.extensions import db
    from forum.models import Board

    with app.app_context():
        other = Board(name="Clients", slug="clients")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    bob = make_member(app, "bob", display_name="Bob B")
    make_thread(app, member, board, subject="Lamp one", body="lamp")
    make_thread(app, bob, other_id, subject="Lamp two", body="lamp")
    assert [h.subject for h in found(app, "lamp author:bob").hits] == ["Lamp two"]
    assert [h.subject for h in found(app, "lamp board:freelancers").hits] == ["Lamp one"]
    assert found(app, "author:bob").total == 1  # filters alone search too
    # a word in the author's name finds their posts; excluding it leaves out the word only
    assert [h.subject for h in found(app, "bob").hits] == ["Lamp two"]
    assert found(app, "lamp -bob").total == 2


def test_results_are_threads_with_their_best_post_and_its_position(app, client, member, board):
    from forum.extensions import db
    from forum.models import Member, Thread
    from forum.threads import services

    thread = make_thread(app, member, board, subject="Gadgets", body="about gadgets", replies=2)
    make_thread(app, member, board, subject="Other widget", body="widget")
    with app.app_context():
        author, t = db.session.get(Member, member), db.session.get(Thread, thread)
        services.reply(author, t, "the widget widget answer")
        services.reply(author, t, "one more widget")
    html = client.get("/search", query_string={"q": "widget"}).get_data(as_text=True)
    assert "2 threads found" in html
    shown = [r for r in results(html) if f"/t/{thread}-" in r]
    assert len(shown) == 1 and "4 of 5" in shown[0]


def test_snippets_are_escaped_and_highlighted(app, client, member, board):
    body = 'Is <script>alert("x")</script> & <b>bold</b> safe near the teapot?'
    make_thread(app, member, board, subject="Markup question", body=body)
    hit = found(app, "teapot").hits[0]
    assert "<mark>teapot</mark>" in hit.snippet
    assert "<script" not in hit.snippet and "<b>" not in hit.snippet
    assert "&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in hit.snippet
    html = client.get("/search", query_string={"q": "teapot"}).get_data(as_text=True)
    assert "<script>alert" not in html and "<mark>teapot</mark>" in results(html)[0]


def test_a_removed_post_leaves_the_results_and_its_words_the_vocabulary(
    app, member, moderator, board
):
    from forum.extensions import db
    from forum.models import Member, Post, Thread
    from forum.threads import services

    thread = make_thread(app, member, board, subject="Tips", body="opening", replies=0)
    with app.app_context():
        post = services.reply(
            db.session.get(Member, member), db.session.get(Thread, thread), "xylophone"
        )
        post_id = post.id
    assert found(app, "xylophone").total == 1
    assert db_scalar(app, select(words.c.posts).where(words.c.word == "xylophone")) == 1
    with app.app_context():
        services.set_removed(db.session.get(Member, moderator), db.session.get(Post, post_id), True)
    assert found(app, "xylophone").total == 0
    assert db_scalar(app, select(words.c.posts).where(words.c.word == "xylophone")) is None
    assert found(app, "opening").total == 1


def test_spelling_corrects_against_the_vocabulary_table(app, client, member, board):
    for n in range(2):
        make_thread(app, member, board, subject=f"Call {n}", body="a telephone appointment")
    html = client.get("/search", query_string={"q": "telefone"}).get_data(as_text=True)
    assert re.search(r"Showing results for <a [^>]*><strong>telephone</strong>", html)


def test_check_finds_what_differs_and_repair_and_rebuild_put_it_right(app, runner, member, board):
    first = make_thread(app, member, board, subject="Alpha", body="alpha text")
    make_thread(app, member, board, subject="Beta", body="beta text")
    from forum.extensions import db

    with app.app_context():  # behind the app's back: one lost, one stale, one stray
        db.session.execute(documents.delete().where(documents.c.thread_id == first))
        db.session.execute(documents.update().values(digest="old"))
        db.session.execute(
            text(
                "INSERT INTO search_documents (post_id, thread_id, board, board_name, author,"
                " author_name, posted_at, position, solved, subject, body, digest, words)"
                " VALUES (999, 999, 'b', 'B', 'a', 'A', now(), 1, false, 'Ghost', 'ghost',"
                " 'x', '{ghost}')"
            )
        )
        db.session.execute(words.delete())
        db.session.commit()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "missing: 1" in result.output and "stale: 1" in result.output
    assert "stray: 1 (999)" in result.output
    assert runner.invoke(args=["search", "check", "--repair"]).exit_code == 0
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    assert found(app, "alpha").total == 1 and found(app, "ghost").total == 0
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "Indexed 2 posts; 0 changes still pending." in result.output
    assert db_scalar(app, select(words.c.posts).where(words.c.word == "text")) == 2
