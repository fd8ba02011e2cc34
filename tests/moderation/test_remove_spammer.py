"""Remove spammer: one request hides a member's posts and threads, suspends them and logs them out,
with counts, ranks, pages and search following; undo within 30 days puts back exactly that."""

from __future__ import annotations

import re
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import func, select

from forum.database import utcnow
from forum.extensions import db
from forum.models import (
    AuditEntry,
    Board,
    EventKind,
    HeldPost,
    HeldStatus,
    Member,
    NotificationEvent,
    Post,
    SpammerRemoval,
    SpammerRemovalPost,
    SpamToken,
    Thread,
)
from forum.search import get_search
from tests.builders import make_member
from tests.databases import db_count, db_scalar, db_update
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


def feeds(client, thread_ids: list[int]) -> dict[str, tuple[int, list[tuple[str, str, str]]]]:
    """The Atom feeds a reader follows, parsed: latest, both boards, the spammer's own, a thread
    the spammer started and one they replied in; each entry as (id, title, summary)."""
    urls = [
        "/latest/feed.atom",
        "/b/freelancers/feed.atom",
        "/b/gardens/feed.atom",
        "/members/spammer/feed.atom",
        f"/t/{thread_ids[0]}/feed.atom",
        f"/t/{thread_ids[8]}/feed.atom",
    ]
    seen = {}
    for url in urls:
        response = client.get(url)
        parsed = feedparser.parse(response.data) if response.status_code == 200 else None
        assert parsed is None or parsed.bozo == 0, (url, parsed.get("bozo_exception"))
        entries = [(e.id, e.title, e.get("summary", "")) for e in parsed.entries] if parsed else []
        seen[url] = (response.status_code, entries)
    return seen


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
    reader = app.test_client()
    feeds_before = feeds(reader, thread_ids)
    assert all(status == 200 for status, _ in feeds_before.values())
    assert any(SPAM in summary for _, _, summary in feeds_before["/latest/feed.atom"][1])
    assert feeds_before["/members/spammer/feed.atom"][1]
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
    feeds_removed = feeds(reader, thread_ids)
    assert feeds_removed[f"/t/{spammer_threads[0]}/feed.atom"][0] == 404
    assert feeds_removed["/members/spammer/feed.atom"] == (200, [])
    for url, (_status, entries) in feeds_removed.items():
        for _, title, summary in entries:
            assert SPAM not in summary and "Buy watches" not in title, url
    assert any(GARDEN in summary for _, _, summary in feeds_removed["/latest/feed.atom"][1])
    assert feeds_removed[f"/t/{others_threads[0]}/feed.atom"][1]

    undo = post_form(maude, f"/moderation/spammers/{removal.id}/undo")

    assert undo.headers["Location"] == f"/moderation/spammers/{removal.id}"
    after = (counts(app), pages(alice, thread_ids), search_hits(app))
    assert after[0] == before[0]  # the earlier removed spam post stays removed: it was before
    assert after[2] == before[2]
    assert after[1] == before[1]
    assert feeds(reader, thread_ids) == feeds_before
    with app.app_context():
        assert not db.session.get(Member, people["spammer"]).is_suspended()
        earlier = db.session.scalar(select(Post).where(Post.body_source == f"{SPAM} off topic"))
        assert earlier.is_removed
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["member.remove_spammer", "member.restore_spammer"]


@pytest.fixture
def small_spammer(app, board, member, moderator) -> int:
    """A spammer with one thread of two posts, and Alice's thread with one spam reply."""
    from forum.threads import services

    spammer = make_member(app, "spammer", display_name="Spam Sender")
    with app.app_context():
        author = db.session.get(Member, spammer)
        thread = services.create_thread(author, db.session.get(Board, board), "Buy", "spam one")
        services.reply(author, thread, "spam two")
        other = services.create_thread(
            db.session.get(Member, member), db.session.get(Board, board), "Help", "A question"
        )
        services.reply(author, other, "spam three")
    return spammer


def remove_as(client, handle: str, target: str = "spammer"):
    login(client, handle)
    return post_form(client, f"/moderation/members/{target}/remove-spammer", {"reason": "spam"})


def removal_id(app) -> int:
    return db_scalar(app, select(SpammerRemoval.id))


def test_the_profile_offers_remove_spammer_to_moderators_only_for_plain_members(
    app, client, small_spammer
):
    login(client, "maude")
    profile = client.get("/members/spammer").get_data(as_text=True)
    assert "/moderation/members/spammer/remove-spammer" in profile
    assert "remove-spammer" not in client.get("/members/maude").get_data(as_text=True)


@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("maude", "other"),
        ("maude", "boss"),
        ("boss", "other"),
        ("maude", "maude"),
        ("boss", "boss"),
    ],
)
def test_moderators_admins_and_yourself_cannot_be_removed_as_spammers(
    app, client, small_spammer, actor, target
):
    make_member(app, "boss", role="admin")
    make_member(app, "other", role="moderator")
    login(client, actor)
    for method in (client.get, lambda url: post_form(client, url, {"reason": "spam"})):
        assert method(f"/moderation/members/{target}/remove-spammer").status_code == 403
    assert db_count(app, SpammerRemoval) == 0
    assert db_scalar(app, select(Member.suspended_until).where(Member.handle == target)) is None


def test_undo_after_thirty_days_is_refused_and_its_button_gone(app, client, small_spammer):
    remove_as(client, "maude")
    db_update(app, SpammerRemoval, removal_id(app), created_at=utcnow() - timedelta(days=31))
    page = client.get(f"/moderation/spammers/{removal_id(app)}").get_data(as_text=True)
    assert "/undo" not in page and "undo window has closed" in page

    response = post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")

    assert response.headers["Location"] == f"/moderation/spammers/{removal_id(app)}"
    message = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "can be undone for 30 days" in message
    assert db_count(app, Post, Post.is_removed) == 3
    assert db_scalar(app, select(SpammerRemoval.undone_at)) is None


def test_undo_twice_restores_nothing_more(app, client, small_spammer):
    remove_as(client, "maude")
    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")
    from forum.threads import services

    with app.app_context():
        maude = db.session.scalar(select(Member).where(Member.handle == "maude"))
        services.set_removed(maude, db.session.scalar(select(Post).where(Post.id == 1)), True)
    response = post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")
    assert "already undone" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db_scalar(app, select(Post.is_removed).where(Post.id == 1))


def test_undo_leaves_posts_another_moderator_acted_on_since_as_they_left_them(
    app, client, small_spammer
):
    from forum.threads import services

    remove_as(client, "maude")
    with app.app_context():
        maude = db.session.scalar(select(Member).where(Member.handle == "maude"))
        spam_three = db.session.scalar(select(Post).where(Post.body_source == "spam three"))
        services.set_removed(maude, spam_three, False)  # restored on its own ...
        services.set_removed(maude, spam_three, True, "still spam")  # ... and removed again

    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")

    with app.app_context():
        removed = dict(db.session.execute(select(Post.body_source, Post.is_removed)).all())
        assert removed == {
            "spam one": False,
            "spam two": False,
            "A question": False,
            "spam three": True,
        }
        assert db.session.get(Member, small_spammer).post_count == 2


def test_undo_puts_back_the_suspension_the_member_had_before(app, client, small_spammer):
    earlier = utcnow() + timedelta(days=3)
    db_update(app, Member, small_spammer, suspended_until=earlier, suspension_reason="rude")
    remove_as(client, "maude")
    until = db_scalar(app, select(Member.suspended_until).where(Member.id == small_spammer))
    assert until > utcnow() + timedelta(days=3000)

    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")

    with app.app_context():
        spammer = db.session.get(Member, small_spammer)
        assert (spammer.suspended_until, spammer.suspension_reason) == (earlier, "rude")


def test_undo_keeps_a_suspension_changed_since(app, client, small_spammer):
    from forum.moderation import services

    remove_as(client, "maude")
    with app.app_context():
        maude = db.session.scalar(select(Member).where(Member.handle == "maude"))
        services.suspend(maude, db.session.get(Member, small_spammer), 5, "still rude")

    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")

    with app.app_context():
        assert db.session.get(Member, small_spammer).suspension_reason == "still rude"


def test_the_audit_entry_and_the_list_lead_to_the_undo(app, client, small_spammer):
    remove_as(client, "maude")
    link = f"/moderation/spammers/{removal_id(app)}"
    audit = client.get("/moderation/audit").get_data(as_text=True)
    assert "member.remove_spammer" in audit and f'href="{link}"' in audit
    assert "3 posts hidden in 2 threads, 1 of them started by the member" in audit
    listing = client.get("/moderation/spammers").get_data(as_text=True)
    assert f'href="{link}/undo"' in listing or f'action="{link}/undo"' in listing
    post_form(client, f"{link}/undo")
    assert "/undo" not in client.get("/moderation/spammers").get_data(as_text=True)
    assert "member.restore_spammer" in client.get("/moderation/audit").get_data(as_text=True)


def test_a_reason_is_required_and_nothing_happens_without_one(app, client, small_spammer):
    login(client, "maude")
    response = post_form(client, "/moderation/members/spammer/remove-spammer", {"reason": " "})
    assert response.status_code == 400
    assert "Please give a reason." in response.get_data(as_text=True)
    assert db_count(app, Post, Post.is_removed) == 0


def spam_counts(app) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                select(SpamToken.token, SpamToken.spam_count, SpamToken.ham_count).order_by(
                    SpamToken.token
                )
            )
        ]


def test_removal_teaches_its_posts_as_spam_and_undo_takes_exactly_that_back(
    app, client, small_spammer
):
    login(client, "maude")
    before = spam_counts(app)
    post_form(client, "/moderation/members/spammer/remove-spammer", {"reason": "spam"})
    learnt = dict((token, (s, h)) for token, s, h in spam_counts(app))
    assert learnt["#messages"] == (3, 0)
    assert learnt["spam"] == (3, 0) and learnt["buy"] == (1, 0)  # the opening post's subject
    assert db_count(app, SpammerRemovalPost, SpammerRemovalPost.learnt_as_spam.is_(True)) == 3
    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")
    assert spam_counts(app) == before


def test_removal_learns_at_most_its_bound_the_newest_posts(app, client, small_spammer, monkeypatch):
    from forum.moderation import services

    monkeypatch.setattr(services, "SPAM_LEARNT_POSTS", 2)
    remove_as(client, "maude")
    with app.app_context():
        learnt = db.session.scalars(
            select(Post.body_source)
            .join(SpammerRemovalPost, SpammerRemovalPost.post_id == Post.id)
            .where(SpammerRemovalPost.learnt_as_spam.is_(True))
        ).all()
    assert sorted(learnt) == ["spam three", "spam two"]
    assert dict((t, (s, h)) for t, s, h in spam_counts(app))["#messages"] == (2, 0)
    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")
    assert spam_counts(app) == []


def test_removal_rejects_the_members_pending_held_posts_and_undo_leaves_them_rejected(
    app, client, small_spammer, board
):
    from forum.threads import services

    app.config["HELD_FIRST_POSTS"] = 100  # the spammer's next submission waits for review
    with app.app_context():
        author = db.session.get(Member, small_spammer)
        held = services.create_thread(author, db.session.get(Board, board), "More", "spam four")
        held_id = held.id
    assert isinstance(held, HeldPost)
    remove_as(client, "maude")
    with app.app_context():
        held = db.session.get(HeldPost, held_id)
        assert held.status == HeldStatus.REJECTED
        assert held.reject_reason == "Removed as a spammer"
        assert db.session.get(Member, small_spammer).pending_posts == 0
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "member.remove_spammer")
        )
        assert "1 held posts rejected" in entry.details
    assert "spam four" not in client.get("/moderation/queue").get_data(as_text=True)
    post_form(client, f"/moderation/spammers/{removal_id(app)}/undo")
    with app.app_context():
        assert db.session.get(HeldPost, held_id).status == HeldStatus.REJECTED
