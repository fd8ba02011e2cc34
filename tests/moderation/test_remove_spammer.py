"""Remove spammer: one request hides a member's posts and threads, suspends them and logs them out,
with counts, ranks, pages and search following; undo within 30 days puts back exactly that."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.database import utcnow
from forum.extensions import db
from forum.models import (
    AuditEntry,
    Board,
    EventKind,
    Member,
    NotificationEvent,
    Post,
    SpammerRemoval,
    Thread,
)
from forum.search import get_search
from tests.builders import make_member
from tests.databases import db_count, db_scalar
from tests.pages import login, post_form

SPAM = "cheapwatches"
GARDEN = "gardening"
MAIN = re.compile(r"<main.*?</main>", flags=re.S)
TOKEN = re.compile(r'(csrf_token" type="hidden" value=")[^"]*')  # signed with the time


@pytest.fixture
def people(app, member, other_member, moderator) -> dict[str, int]:
    return {
        "alice": member,
        "bob": other_member,
        "maude": moderator,
        "spammer": make_member(app, "spammer", display_name="Spam Sender"),
    }


@pytest.fixture
def boards(app, board) -> list[int]:
    with app.app_context():
        second = Board(name="Gardens", slug="gardens", description="Growing things", position=1)
        db.session.add(second)
        db.session.commit()
        return [board, second.id]


def seed(app, boards: list[int], people: dict[str, int]) -> list[int]:
    """100 visible spam posts in 20 threads (8 started by the spammer, 5 of those replied to by
    others; 12 started by others with the spammer's replies), plus one spam post a moderator had
    already removed for another reason. Returns the thread ids."""
    from forum.threads import services

    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False
    clock = iter(range(10_000))

    def at():
        return utcnow() - timedelta(days=1) + timedelta(seconds=next(clock))

    def who(handle):
        return db.session.get(Member, people[handle])

    def board(i):
        return db.session.get(Board, boards[i % 2])

    thread_ids = []
    with app.app_context():
        for i in range(8):
            thread = services.create_thread(
                who("spammer"), board(i), f"Buy watches {i}", f"{SPAM} offer {i}", at=at()
            )
            for n in range(4):
                services.reply(who("spammer"), thread, f"{SPAM} again {i}.{n}", at=at())
            if i < 5:
                replier = who("alice" if i % 2 else "bob")
                services.reply(replier, thread, f"{GARDEN} reply to offer {i}", at=at())
            thread_ids.append(thread.id)
        for i in range(12):
            thread = services.create_thread(
                who("alice" if i % 2 else "bob"),
                board(i + 1),
                f"Garden question {i}",
                f"{GARDEN} question {i}",
                at=at(),
            )
            for n in range(5):
                services.reply(who("spammer"), thread, f"{SPAM} reply {i}.{n}", at=at())
                if n == 2:
                    services.reply(
                        who("bob" if i % 2 else "alice"), thread, f"{GARDEN} {i}", at=at()
                    )
            thread_ids.append(thread.id)
        earlier = services.reply(who("spammer"), thread, f"{SPAM} off topic", at=at())
        services.set_removed(who("maude"), earlier, True, "off topic")
    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = True
    get_search(app).drain()
    return thread_ids


def counts(app) -> dict:
    """Every counter and flag the removal touches, as plain tuples."""

    def rows(*columns):
        return sorted(tuple(r) for r in db.session.execute(select(*columns)).all())

    with app.app_context():
        return {
            "boards": rows(Board.id, Board.post_count, Board.thread_count, Board.last_post_id),
            "members": rows(Member.id, Member.post_count, Member.rank_id),
            "threads": rows(
                Thread.id, Thread.post_count, Thread.last_post_id, Thread.last_posted_at
            ),
            "hidden": rows(Thread.id, Thread.is_hidden),
            "removed": rows(Post.id, Post.is_removed),
        }


def pages(client, thread_ids: list[int]) -> dict[str, tuple[int, str]]:
    """What a member sees: the front page, both boards, /latest and every thread page."""
    urls = ["/", "/b/freelancers", "/b/gardens", "/latest"] + [f"/t/{t}" for t in thread_ids]
    seen = {}
    for url in urls:
        response = client.get(url, follow_redirects=True)
        main = MAIN.search(response.get_data(as_text=True))
        seen[url] = (response.status_code, TOKEN.sub(r"\1", main[0]) if main else "")
    return seen


def search_hits(app) -> dict[str, tuple[int, list[int]]]:
    get_search(app).drain()
    found = {}
    for words in (SPAM, GARDEN, "watches", "question"):
        with app.test_request_context():
            outcome = get_search(app).search(words, per_page=50, literal=True)
            found[words] = (outcome.total, sorted(outcome.threads))
    return found


def test_removing_a_spammer_hides_everything_in_one_request_and_undo_puts_it_all_back(
    app, boards, people
):
    thread_ids = seed(app, boards, people)
    spammer_threads, others_threads = thread_ids[:8], thread_ids[8:]
    alice = app.test_client()
    login(alice, "alice")
    pages(alice, thread_ids)  # reading once sets alice's read positions; what follows is stable
    before = (counts(app), pages(alice, thread_ids), search_hits(app))
    assert before[2][SPAM][0] == 20
    spammer = app.test_client()
    login(spammer, "spammer")
    assert spammer.get("/members/settings").status_code == 200
    maude = app.test_client()
    login(maude, "maude")
    confirm = maude.get("/moderation/members/spammer/remove-spammer").get_data(as_text=True)
    assert "This hides 100 posts in 20 threads" in confirm
    assert "suspends Spam Sender and logs them out" in confirm
    notices = db_count(app, NotificationEvent, NotificationEvent.kind == EventKind.MODERATION)

    response = post_form(
        maude, "/moderation/members/spammer/remove-spammer", {"reason": "watch spam"}
    )

    with app.app_context():
        removal = db.session.scalar(select(SpammerRemoval))
        assert response.headers["Location"] == f"/moderation/spammers/{removal.id}"
        assert (removal.post_count, removal.thread_count) == (100, 8)
        spam = db.session.execute(
            select(Post.is_removed).where(Post.author_id == people["spammer"])
        ).scalars()
        assert all(spam)
        assert db.session.get(Member, people["spammer"]).is_suspended()
        assert db.session.get(Member, people["spammer"]).post_count == 0
        hidden = db.session.scalars(select(Thread.id).where(Thread.is_hidden)).all()
        assert sorted(hidden) == spammer_threads
        # Others' replies in the spammer's threads left their counts with the threads.
        for handle in ("alice", "bob"):
            visible = db.session.scalar(
                select(func.count())
                .select_from(Post)
                .join(Thread, Thread.id == Post.thread_id)
                .where(Post.author_id == people[handle], ~Post.is_removed, ~Thread.is_hidden)
            )
            assert db.session.get(Member, people[handle]).post_count == visible
        for board in db.session.scalars(select(Board)):
            in_view = (
                select(func.count())
                .select_from(Post)
                .join(Thread, Thread.id == Post.thread_id)
                .where(Thread.board_id == board.id, ~Post.is_removed, ~Thread.is_hidden)
            )
            assert board.post_count == db.session.scalar(in_view)
            assert board.thread_count == db.session.scalar(
                select(func.count())
                .select_from(Thread)
                .where(Thread.board_id == board.id, ~Thread.is_hidden)
            )
    audit = db_scalar(
        app,
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.in_(("member.remove_spammer", "post.remove"))),
    )
    assert audit == 2  # the one earlier post.remove, and this action's single entry
    assert (
        db_count(app, NotificationEvent, NotificationEvent.kind == EventKind.MODERATION) == notices
    )
    # The spammer is logged out at once and suspended.
    assert spammer.get("/members/settings").headers["Location"].startswith("/login")
    removed_view = pages(alice, thread_ids)
    for thread_id in spammer_threads:
        assert removed_view[f"/t/{thread_id}"][0] == 404
    for thread_id in others_threads:
        status, html = removed_view[f"/t/{thread_id}"]
        assert status == 200 and SPAM not in html and GARDEN in html
    for url in ("/", "/b/freelancers", "/b/gardens", "/latest"):
        assert "Buy watches" not in removed_view[url][1]
        assert "Garden question" in removed_view[url][1] or url == "/"
    hits = search_hits(app)
    assert hits[SPAM] == (0, []) and hits["watches"] == (0, [])
    assert hits[GARDEN][1] == sorted(others_threads)

    undo = post_form(maude, f"/moderation/spammers/{removal.id}/undo")

    assert undo.headers["Location"] == f"/moderation/spammers/{removal.id}"
    after = (counts(app), pages(alice, thread_ids), search_hits(app))
    assert after[0] == before[0]  # the earlier removed spam post stays removed: it was before
    assert after[2] == before[2]
    assert after[1] == before[1]
    with app.app_context():
        assert not db.session.get(Member, people["spammer"]).is_suspended()
        earlier = db.session.scalar(select(Post).where(Post.body_source == f"{SPAM} off topic"))
        assert earlier.is_removed
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["member.remove_spammer", "member.restore_spammer"]
