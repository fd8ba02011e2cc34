"""Merging a duplicate thread into another: posts, kudos, positions, redirects, search, counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, Board, Kudos, Member, Post, Subscription, Thread, WatchLevel
from forum.search import get_search
from forum.threads import services as threads
from tests.builders import make_member, make_thread
from tests.databases import count_queries, db_scalar
from tests.pages import articles, field_error, login, post_form

ORIGINAL = "How do I send an invoice"
DUPLICATE = "Invoice sending question"


@pytest.fixture
def forum(app, member, other_member, moderator, board):
    """Alice's question with two replies of Bob's; Carol's duplicate with a reply of Bob's that
    Alice gave kudos, posted after; Dave watches the duplicate."""
    original = make_thread(
        app, member, board, subject=ORIGINAL, replies=2, reply_author_id=other_member
    )
    carol = make_member(app, "carol")
    dave = make_member(app, "dave")
    duplicate = make_thread(app, carol, board, subject=DUPLICATE, body="Where do invoices go?")
    with app.app_context():
        bob, alice = db.session.get(Member, other_member), db.session.get(Member, member)
        thread = db.session.get(Thread, duplicate)
        reply = threads.reply(bob, thread, "Use the zeppelinfield button")
        threads.give_kudos(alice, reply)
        db.session.add(Subscription(member_id=dave, thread_id=duplicate, level=WatchLevel.WATCHING))
        db.session.commit()
    get_search(app).drain()
    return original, duplicate


def merge(client, source: int, target: str, reason: str = "duplicate"):
    return post_form(
        client, f"/moderation/threads/{source}/merge", {"target": target, "reason": reason}
    )


def positions(html: str) -> list[str]:
    return re.findall(r'<span class="post-position">(\d+ of \d+)</span>', html)


def test_the_duplicates_posts_follow_in_order_with_their_kudos_numbered_on(app, client, forum):
    original, duplicate = forum
    login(client, "maude")
    response = merge(client, duplicate, f"http://localhost/t/{original}-how-do-i-send-an-invoice")
    assert response.headers["Location"] == f"/t/{original}-how-do-i-send-an-invoice#p4"
    html = client.get(f"/t/{original}-how-do-i-send-an-invoice").get_data(as_text=True)
    assert positions(html) == ["1 of 5", "2 of 5", "3 of 5", "4 of 5", "5 of 5"]
    posts = articles(html)
    assert "Where do invoices go?" in posts[3] and "zeppelinfield" in posts[4]
    assert 'aria-label="1 kudos"' in posts[4]
    with app.app_context():
        moved = db.session.scalars(
            select(Post).where(Post.thread_id == original).order_by(Post.position)
        ).all()
        assert [p.position for p in moved] == [1, 2, 3, 4, 5]
        assert {p.subject for p in moved[1:]} == {f"Re: {ORIGINAL}"}
        assert db.session.scalar(select(Kudos.post_id)) == moved[4].id


def test_the_old_address_and_its_pages_redirect_permanently_to_the_moved_posts(app, client, forum):
    original, duplicate = forum
    login(client, "maude")
    merge(client, duplicate, str(original))
    client.get("/logout")
    target = f"/t/{original}-how-do-i-send-an-invoice"
    for old in (f"/t/{duplicate}-invoice-sending-question", f"/t/{duplicate}"):
        response = client.get(old)
        assert response.status_code == 301
        assert response.headers["Location"] == f"{target}#p4"
    app.config["POSTS_PER_PAGE"] = 1
    response = client.get(f"/t/{duplicate}-invoice-sending-question?page=2")
    assert response.headers["Location"] == f"{target}?page=5#p5"


def test_search_finds_the_moved_reply_in_the_target_thread(app, client, forum):
    original, duplicate = forum
    assert get_search(app).search("zeppelinfield").hits[0].thread_id == duplicate
    login(client, "maude")
    merge(client, duplicate, str(original))
    get_search(app).drain()
    hits = get_search(app).search("zeppelinfield").hits
    assert [(h.thread_id, h.position, h.subject) for h in hits] == [
        (original, 5, f"Re: {ORIGINAL}")
    ]


def test_counts_follow_the_posts_and_the_duplicate_leaves_every_list(app, client, forum):
    original, duplicate = forum
    with app.app_context():
        board = db.session.get(Board, 1)
        board_before = (board.thread_count, board.post_count)
        members_before = dict(db.session.execute(select(Member.handle, Member.post_count)).all())
    login(client, "maude")
    merge(client, duplicate, str(original))
    with app.app_context():
        board = db.session.get(Board, 1)
        assert (board.thread_count, board.post_count) == (board_before[0] - 1, board_before[1])
        assert dict(db.session.execute(select(Member.handle, Member.post_count)).all()) == (
            members_before
        )
        target, tombstone = db.session.get(Thread, original), db.session.get(Thread, duplicate)
        assert target.post_count == 5
        assert target.last_post.body_source == "Use the zeppelinfield button"
        assert (tombstone.is_hidden, tombstone.merged_into_id, tombstone.post_count) == (
            True,
            original,
            0,
        )
        dave = select(Member.id).where(Member.handle == "dave").scalar_subquery()
        watched = db.session.scalars(
            select(Subscription.thread_id).where(Subscription.member_id == dave)
        )
        assert list(watched) == [original]
    for page in ("/b/freelancers", "/latest", "/latest/feed.atom"):
        assert DUPLICATE not in client.get(page).get_data(as_text=True), page


def test_merging_into_another_board_moves_the_visible_post_count(app, client, forum):
    original, duplicate = forum
    with app.app_context():
        db.session.add(Board(name="Clients", slug="clients", position=1))
        db.session.commit()
    login(client, "maude")
    post_form(client, f"/moderation/threads/{original}/move", {"board": 2})
    merge(client, duplicate, str(original))
    with app.app_context():
        counts = dict(db.session.execute(select(Board.slug, Board.post_count)).all())
        threads_on = dict(db.session.execute(select(Board.slug, Board.thread_count)).all())
    assert counts == {"freelancers": 0, "clients": 5}
    assert threads_on == {"freelancers": 0, "clients": 1}


def test_the_merge_is_in_the_audit_log_naming_both_threads(app, client, forum):
    original, duplicate = forum
    login(client, "maude")
    merge(client, duplicate, str(original), reason="asked twice")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "thread.merge"))
        assert (entry.thread_id, entry.reason) == (original, "asked twice")
        assert entry.details == f"“{DUPLICATE}” merged into “{ORIGINAL}”: 2 posts moved"
    assert DUPLICATE in client.get("/moderation/audit").get_data(as_text=True)


def test_a_member_cannot_merge_threads(app, client, forum):
    original, duplicate = forum
    login(client, "alice")
    assert client.get(f"/moderation/threads/{duplicate}/merge").status_code == 403
    assert merge(client, duplicate, str(original)).status_code == 403
    assert db_scalar(app, select(Thread.merged_into_id).where(Thread.id == duplicate)) is None


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("self", "A thread cannot be merged into itself."),
        ("hidden", "That thread was removed or merged itself; merge into a visible thread."),
        ("/t/999-nowhere", "There is no thread at that address; paste its address or its number."),
        (
            "http://localhost:8000/b/freelancers",
            "There is no thread at that address; paste its address or its number.",
        ),
        ("not a thread", "There is no thread at that address; paste its address or its number."),
        ("", "Paste the address or the number of the thread to merge into."),
    ],
)
def test_a_merge_the_forum_refuses_says_why_on_the_form(app, client, forum, target, message):
    original, duplicate = forum
    if target == "hidden":
        with app.app_context():
            moderator = db.session.scalar(select(Member).where(Member.handle == "maude"))
            threads.set_removed(
                moderator, db.session.scalar(select(Post).where(Post.id == 1)), True
            )
        target = str(original)
    elif target == "self":
        target = str(duplicate)
    login(client, "maude")
    response = merge(client, duplicate, target)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "target") == message
    assert db_scalar(app, select(Thread.merged_into_id).where(Thread.id == duplicate)) is None


def test_a_merged_threads_target_page_costs_the_queries_of_any_thread_page(app, client, forum):
    original, duplicate = forum
    plain = make_thread(app, 1, 1, subject="Plain", replies=4)
    login(client, "maude")
    merge(client, duplicate, str(original))
    login(client, "alice")

    def queries(url: str) -> int:
        with count_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    queries(f"/t/{original}-how-do-i-send-an-invoice")  # the first view notes the read position
    queries(f"/t/{plain}-plain")
    assert queries(f"/t/{original}-how-do-i-send-an-invoice") == queries(f"/t/{plain}-plain")


def test_nothing_is_left_in_the_merged_thread_for_anyone(app, client, forum):
    original, duplicate = forum
    login(client, "maude")
    merge(client, duplicate, str(original))
    assert post_form(client, f"/t/{duplicate}/reply", {"body": "Late answer"}).status_code == 404
    assert client.get(f"/api/v1/threads/{duplicate}").status_code == 404
    assert client.get(f"/t/{duplicate}/feed.atom").status_code == 404
    assert db_scalar(app, select(Thread.post_count).where(Thread.id == duplicate)) == 0
