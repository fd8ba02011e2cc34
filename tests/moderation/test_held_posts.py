"""New-member limits and held posts: a new member's first posts wait for a moderator, absent from
everything others see until approved (then they appear as if posted then); links are capped; the
admins' settings page. The test config turns holding off; hold_first_posts() turns it on here
through the admins' own service."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from forum.database import utcnow
from forum.extensions import db
from forum.models import (
    AuditEntry,
    Board,
    HeldPost,
    HeldStatus,
    Member,
    Notification,
    Post,
    SiteSettings,
    Thread,
)
from forum.tasks import run_pending_work
from tests.builders import LIMITS, hold_first_posts, make_thread
from tests.databases import count_queries, db_count, db_scalar, db_update, member_value
from tests.pages import field_error, login, post_form, textarea


@pytest.fixture
def asked(app, board, moderator) -> int:
    """A thread started (by a moderator) before holding was on; holding is on afterwards."""
    thread_id = make_thread(app, moderator, board, subject="Where do I start", body="Tell me")
    with app.app_context():
        run_pending_work()  # its own notifications are done with before the test begins
    hold_first_posts(app)
    return thread_id


def new_thread(client, board: int, subject: str, body: str):
    data = {"board": board, "subject": subject, "body": body, "submit": "1"}
    return post_form(client, "/new", data)


def reply(client, thread_id: int, body: str):
    return post_form(client, f"/t/{thread_id}/reply", {"body": body, "submit": "1"})


def held_id(app) -> int:
    return db_scalar(app, select(HeldPost.id).order_by(HeldPost.id.desc()))


def search_hits(client, word: str) -> int:
    html = client.get("/search", query_string={"q": word}).get_data(as_text=True)
    return len(re.findall(r'<li class="search-result', html))


def notices(app, member_id: int) -> list[Notification]:
    with app.app_context():
        run_pending_work()
        return list(
            db.session.scalars(select(Notification).where(Notification.member_id == member_id))
        )


def test_a_new_members_first_thread_waits_and_no_one_else_sees_it(
    app, client, asked, board, member
):
    login(client, "alice")
    response = new_thread(client, board, "Zanzibar question", "Zanzibar details")
    assert response.headers["Location"] == f"/held/{held_id(app)}"
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your post is awaiting review by a moderator." in landing
    assert "Awaiting review" in landing and "Zanzibar details" in landing
    assert db_count(app, Thread) == 1 and db_count(app, Post) == 1
    assert db_scalar(app, select(Board.thread_count)) == 1
    assert db_scalar(app, select(Board.post_count)) == 1
    assert member_value(app, member, "post_count") == 0
    assert member_value(app, member, "pending_posts") == 1
    visitor = app.test_client()
    for page in ("/", "/b/freelancers", "/latest", "/unanswered"):
        assert "Zanzibar" not in visitor.get(page).get_data(as_text=True), page
    assert search_hits(visitor, "zanzibar") == 0


def test_a_held_thread_is_shown_to_its_author_and_moderators_only(
    app, client, asked, board, member, other_member
):
    login(client, "alice")
    new_thread(client, board, "Zanzibar question", "Zanzibar details")
    url = f"/held/{held_id(app)}"
    other = app.test_client()
    login(other, "bob")
    assert other.get(url).status_code == 404
    assert app.test_client().get(url).headers["Location"].startswith("/login")
    moderator = app.test_client()
    login(moderator, "maude")
    assert "Awaiting review" in moderator.get(url).get_data(as_text=True)


def test_a_new_members_first_reply_waits_and_only_they_see_it_at_the_end(
    app, client, asked, member, moderator
):
    login(client, "alice")
    response = reply(client, asked, "Zanzibar answer")
    held = held_id(app)
    assert response.headers["Location"] == f"/t/{asked}-where-do-i-start#held-{held}"
    mine = client.get(f"/t/{asked}-where-do-i-start").get_data(as_text=True)
    assert f'id="held-{held}"' in mine and "Awaiting review" in mine
    assert mine.index("Tell me") < mine.index("Zanzibar answer")
    visitor = app.test_client().get(f"/t/{asked}-where-do-i-start").get_data(as_text=True)
    assert "Zanzibar" not in visitor and "1 of 1" in visitor
    assert db_scalar(app, select(Thread.post_count)) == 1
    assert search_hits(app.test_client(), "zanzibar") == 0
    assert notices(app, moderator) == []  # the asker watches the thread, and hears nothing yet


def test_approving_a_held_thread_posts_it_then_with_counts_search_and_notifications(
    app, client, asked, board, member, other_member
):
    other = app.test_client()
    login(other, "bob")
    post_form(other, "/b/freelancers/watch/watch")
    login(client, "alice")
    new_thread(client, board, "Zanzibar question", "Zanzibar details")
    held = held_id(app)
    db_update(app, HeldPost, held, created_at=utcnow() - timedelta(hours=3))
    moderator = app.test_client()
    login(moderator, "maude")
    queue = moderator.get("/moderation/queue").get_data(as_text=True)
    assert "Queue (1)" in queue and "Zanzibar details" in queue
    assert "New member: fewer than 1 approved posts" in queue
    before = utcnow()
    response = post_form(moderator, f"/moderation/held/{held}/approve")
    assert response.headers["Location"] == "/moderation/queue"
    with app.app_context():
        thread = db.session.scalar(select(Thread).where(Thread.subject == "Zanzibar question"))
        opening = db.session.get(Post, thread.last_post_id)
        assert opening.author_id == member and opening.position == 1
        assert opening.created_at >= before and thread.last_posted_at >= before
        assert db.session.get(HeldPost, held).status == HeldStatus.APPROVED
        assert db.session.get(HeldPost, held).post_id == opening.id
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "held.approve"))
        assert entry.post_id == opening.id and entry.member_id == member
    assert db_scalar(app, select(Board.thread_count)) == 2
    assert member_value(app, member, "post_count") == 1
    assert member_value(app, member, "pending_posts") == 0
    assert "Zanzibar question" in app.test_client().get("/latest").get_data(as_text=True)
    assert search_hits(app.test_client(), "zanzibar") == 1
    assert [n.kind.value for n in notices(app, other_member)] == ["new_thread"]
    assert "Queue (0)" in moderator.get("/moderation/queue").get_data(as_text=True)


def test_approving_a_held_reply_gives_it_the_next_position_and_notifies_the_asker(
    app, client, asked, member, moderator, other_member
):
    login(client, "alice")
    reply(client, asked, "Zanzibar answer")
    held = held_id(app)
    bob = app.test_client()
    login(bob, "bob")
    reply(bob, asked, "Bob is new too")  # held as well: approved later, so it comes after
    mod = app.test_client()
    login(mod, "maude")
    post_form(mod, f"/moderation/held/{held}/approve")
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.body_source == "Zanzibar answer"))
        assert post.position == 2 and post.thread.post_count == 2
    html = app.test_client().get(f"/t/{asked}-where-do-i-start").get_data(as_text=True)
    assert "Zanzibar answer" in html and "2 of 2" in html and "Bob is new too" not in html
    assert [n.kind.value for n in notices(app, moderator)] == ["thread_reply"]


def test_rejecting_tells_the_author_why_and_nothing_appears(app, client, asked, board, member):
    login(client, "alice")
    new_thread(client, board, "Zanzibar question", "Buy cheap things")
    held = held_id(app)
    mod = app.test_client()
    login(mod, "maude")
    assert post_form(mod, f"/moderation/held/{held}/reject", {"reason": ""}).status_code == 302
    assert db_scalar(app, select(HeldPost.status)) == HeldStatus.PENDING  # a reason is needed
    post_form(mod, f"/moderation/held/{held}/reject", {"reason": "Advertising"})
    assert db_scalar(app, select(HeldPost.status)) == HeldStatus.REJECTED
    assert member_value(app, member, "pending_posts") == 0
    assert db_count(app, Thread) == 1
    (notice,) = notices(app, member)
    assert notice.kind.value == "moderation"
    listed = unescape(client.get("/notifications").get_data(as_text=True))
    assert "A moderator did not approve your thread “Zanzibar question”: Advertising" in listed
    page = client.get(f"/held/{held}").get_data(as_text=True)
    assert "Not approved" in page and "Advertising" in page
    assert db_scalar(app, select(AuditEntry.reason).where(AuditEntry.action == "held.reject")) == (
        "Advertising"
    )
    assert post_form(mod, f"/moderation/held/{held}/approve").status_code == 302
    assert db_count(app, Thread) == 1  # decided once: a late approve changes nothing


def test_after_the_first_post_is_approved_the_next_is_not_held(app, client, asked, member):
    login(client, "alice")
    reply(client, asked, "First answer")
    reply(client, asked, "Second, sent while the first waits")
    assert db_count(app, HeldPost) == 2  # as on Discourse: held until one was approved
    mod = app.test_client()
    login(mod, "maude")
    post_form(mod, f"/moderation/held/{held_id(app) - 1}/approve")
    response = reply(client, asked, "Third answer")
    assert response.headers["Location"].endswith("#p3")
    assert db_count(app, HeldPost) == 2


def test_moderators_and_admins_are_never_held(app, client, asked, board):
    login(client, "maude")
    response = new_thread(client, board, "Moderator news", "Hello all")
    assert response.headers["Location"].startswith("/t/")
    admin = app.test_client()
    login(admin, "boss")
    assert reply(admin, asked, "Admin answer").headers["Location"].endswith("#p2")
    assert db_count(app, HeldPost) == 0


def test_members_past_the_threshold_are_not_held(app, client, asked, member):
    db_update(app, Member, member, post_count=1)
    login(client, "alice")
    assert reply(client, asked, "An answer").headers["Location"].endswith("#p2")


def test_approving_a_reply_to_a_removed_thread_is_refused_and_to_a_locked_one_posts(
    app, client, asked, member
):
    login(client, "alice")
    reply(client, asked, "Answer one")
    reply(client, asked, "Answer two")
    first, second = held_id(app) - 1, held_id(app)
    mod = app.test_client()
    login(mod, "maude")
    post_form(mod, f"/moderation/threads/{asked}/lock")
    post_form(mod, f"/moderation/held/{first}/approve")
    assert db_scalar(app, select(Thread.post_count)) == 2
    db_update(app, Thread, asked, is_hidden=True)
    page = post_form(mod, f"/moderation/held/{second}/approve", follow_redirects=True)
    assert "That thread was removed; reject the reply instead." in page.get_data(as_text=True)
    assert db_scalar(app, select(HeldPost.status).where(HeldPost.id == second)) == "pending"


LINKS = (
    "[a](https://a.example) [b](https://b.example) https://c.example ![i](https://i.example/x.png)"
)


def test_a_new_members_post_with_too_many_links_is_refused_and_the_text_kept(
    app, client, asked, member
):
    db_update(app, Member, member, post_count=1)  # not held, still new
    login(client, "alice")
    body = f"{LINKS} https://d.example"
    response = reply(client, asked, body)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "body") == (
        "New members can include at most 2 links or images in a post (5 given)."
    )
    assert textarea(html) == body
    assert db_count(app, Post) == 1 and db_count(app, HeldPost) == 0


def test_emoticons_mentions_and_links_within_the_forum_do_not_count(app, client, asked, member):
    db_update(app, Member, member, post_count=1)
    login(client, "alice")
    body = ":) :( ;) @maude [wrote](/p/1) [one](https://a.example) https://b.example"
    assert reply(client, asked, body).headers["Location"].endswith("#p2")


def test_the_link_cap_applies_to_edits_and_ends_once_a_member_is_not_new(
    app, client, asked, member
):
    db_update(app, Member, member, post_count=1)
    login(client, "alice")
    reply(client, asked, "Plain answer")
    response = post_form(client, "/p/2/edit", {"body": LINKS, "submit": "1"})
    assert response.status_code == 400
    assert "at most 2 links or images" in field_error(response.get_data(as_text=True), "body")
    db_update(
        app, Member, member, post_count=3, created_at=utcnow() - timedelta(days=2)
    )  # past the threshold and the first day
    assert post_form(client, "/p/2/edit", {"body": LINKS, "submit": "1"}).status_code == 302


def test_admins_edit_the_settings_with_validation_and_an_audit_entry(app, client, asked):
    login(client, "boss")
    page = client.get("/moderation/settings").get_data(as_text=True)
    assert re.search(r'<input id="held_first_posts" [^>]*value="1">', page)
    bad = {**LIMITS, "new_member_link_cap": -1, "new_member_post_interval": 2}
    response = post_form(client, "/moderation/settings", bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "new_member_link_cap") == "A whole number from 0 to 100."
    assert field_error(html, "new_member_post_interval") == "A whole number from 5 to 3,600."
    assert db_scalar(app, select(SiteSettings.new_member_link_cap)) == 2
    response = post_form(client, "/moderation/settings", {**LIMITS, "held_first_posts": 0})
    assert response.headers["Location"] == "/moderation/settings"
    assert db_scalar(app, select(SiteSettings.held_first_posts)) == 0
    details = db_scalar(
        app,
        select(AuditEntry.details)
        .where(AuditEntry.action == "settings.update")
        .order_by(AuditEntry.id.desc()),
    )
    assert details == "held_first_posts 1 -> 0"
    moderator = app.test_client()
    login(moderator, "maude")
    assert moderator.get("/moderation/settings").status_code == 403


def test_the_queue_lists_held_posts_and_reports_together_oldest_first(
    app, client, asked, member, other_member
):
    bob = app.test_client()
    login(bob, "bob")
    post_form(bob, "/p/1/report", {"reason": "Off topic"})
    login(client, "alice")
    reply(client, asked, "Zanzibar answer")
    mod = app.test_client()
    login(mod, "maude")
    html = mod.get("/moderation/queue").get_data(as_text=True)
    assert "Queue (2)" in html
    assert html.index("Off topic") < html.index("Zanzibar answer")
    response = post_form(mod, "/moderation/reports/1/dismiss", {"from": "queue"})
    assert response.headers["Location"] == "/moderation/queue"


def thread_page_queries(app, client, url: str) -> int:
    with count_queries(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_thread_page_costs_one_query_more_only_for_a_member_with_a_post_waiting(
    app, client, asked, member, other_member
):
    url = f"/t/{asked}-where-do-i-start"
    bob = app.test_client()
    login(bob, "bob")
    login(client, "alice")
    for viewer in (bob, client):  # a first visit also writes the read position
        viewer.get(url)
    before = thread_page_queries(app, bob, url)
    assert thread_page_queries(app, client, url) == before
    reply(client, asked, "Zanzibar answer")
    assert thread_page_queries(app, bob, url) == before
    assert thread_page_queries(app, client, url) == before + 1


def test_a_new_member_waits_the_admins_interval_between_posts(
    app, make_app, asked, member, other_member
):
    hold_first_posts(app, new_member_post_interval=120)
    db_update(app, Member, member, post_count=1)  # not held, but new (their first day)
    db_update(app, Member, other_member, post_count=5, created_at=utcnow() - timedelta(days=9))
    limited = make_app(RATELIMIT_ENABLED=True)
    newcomer, regular = limited.test_client(), limited.test_client()
    login(newcomer, "alice")
    login(regular, "bob")
    for client in (newcomer, regular):
        assert reply(client, asked, "First").status_code == 302
    refused = reply(newcomer, asked, "Second")
    assert refused.status_code == 429
    assert 30 < int(refused.headers["Retry-After"]) <= 120
    assert 0 < int(reply(regular, asked, "Second").headers["Retry-After"]) <= 5
