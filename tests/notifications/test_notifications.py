"""Watching, notifications and their e-mail, through the real pages, services and worker jobs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import MailDelivery, Member, Notification, Post, Thread
from forum.tasks import run_pending_work
from tests.builders import make_member, make_thread
from tests.databases import count_queries
from tests.pages import login, post_form
from tests.smtp import html_part, smtp_server, text_part


@pytest.fixture
def inbox(app) -> Iterator:
    with smtp_server() as (inbox, url):
        app.config["MAIL_URL"] = url
        yield inbox


def confirmed(app, handle: str, display_name: str | None = None) -> int:
    """A member with a confirmed e-mail address <handle>@example.com."""
    from forum.auth.services import register
    from forum.database import utcnow

    with app.app_context():
        member = register(
            handle,
            display_name or handle.title(),
            "correct horse battery staple",
            email=f"{handle}@example.com",
        )
        member.email_confirmed_at = utcnow()
        db.session.commit()
        return member.id


def notices(inbox) -> list:
    """The notification e-mail the server received (confirmation links set aside)."""
    return [m for m in inbox.messages if m["Subject"] != "Confirm your e-mail address"]


def work(app) -> tuple[int, int]:
    """Do what the worker would: handle events and send the mail."""
    with app.app_context():
        return run_pending_work()


def reply_as(app, member_id: int, thread_id: int, body: str) -> int:
    from forum.threads import services

    with app.app_context():
        post = services.reply(
            db.session.get(Member, member_id), db.session.get(Thread, thread_id), body
        )
        return post.id


def notifications_of(app, member_id: int) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification)
            .where(Notification.member_id == member_id)
            .order_by(Notification.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def unread(app, member_id: int) -> int:
    with app.app_context():
        return db.session.get(Member, member_id).unread_notifications


def test_a_reply_notifies_the_asker_with_a_link_to_the_reply(app, client, board, inbox):
    asker, answerer = confirmed(app, "alice", "Alice A"), confirmed(app, "bob", "Bob B")
    thread = make_thread(app, asker, board, subject="Escrow or not?")
    post_id = reply_as(app, answerer, thread, "Use escrow.")
    assert unread(app, asker) == 0  # nothing happens inside the request
    work(app)
    assert unread(app, asker) == 1
    login(client, "alice")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Bob B replied in “Escrow or not?”" in page
    assert 'class="unread-count">1<' in page
    (notification,) = notifications_of(app, asker)
    response = client.get(f"/notifications/{notification.id}")
    assert response.headers["Location"] == f"/t/{thread}-escrow-or-not#p2"
    assert unread(app, asker) == 0
    (message,) = notices(inbox)
    assert message["To"] == "alice@example.com"
    assert f"http://localhost/p/{post_id}" in text_part(message)
    assert "<p>Use escrow.</p>" in html_part(message)


def test_several_replies_collapse_into_one_notification(app, client, board, member):
    bob, carol = make_member(app, "bob"), make_member(app, "carol")
    thread = make_thread(app, member, board, subject="Rates")
    for replier in (bob, carol, bob):
        reply_as(app, replier, thread, "An answer")
    work(app)
    (notification,) = notifications_of(app, member)
    assert notification.count == 3
    login(client, "alice")
    assert "3 new replies in “Rates”" in client.get("/notifications").get_data(as_text=True)


def test_no_notification_for_your_own_reply(app, board, member):
    thread = make_thread(app, member, board)
    reply_as(app, member, thread, "Answering myself")
    work(app)
    assert notifications_of(app, member) == []


def test_a_mention_notifies_once_even_when_the_member_also_watches(app, board, member):
    bob, carol = make_member(app, "bob"), make_member(app, "carol")
    thread = make_thread(app, member, board)
    reply_as(app, carol, thread, "I watch this now")
    work(app)
    reply_as(app, bob, thread, "Ask @carol, she knows. @carol!")
    work(app)
    kinds = [n.kind.value for n in notifications_of(app, carol)]
    assert kinds == ["mention"]


def test_a_quote_notifies_the_quoted_author(app, client, board, member):
    bob = make_member(app, "bob")
    make_member(app, "carol")
    thread = make_thread(app, member, board)
    bobs = reply_as(app, bob, thread, "Bob's view")
    with app.app_context():
        from forum.models import Subscription

        db.session.execute(
            Subscription.__table__.delete().where(Subscription.member_id == bob)
        )  # Bob stopped watching: only the quote can reach him
        db.session.commit()
    login(client, "carol")
    quoted = client.get(f"/t/{thread}/reply?quote={bobs}").get_data(as_text=True)
    body = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", quoted, re.S)[1]
    from html import unescape

    post_form(client, f"/t/{thread}/reply", {"body": unescape(body) + "Agreed."})
    work(app)
    assert [n.kind.value for n in notifications_of(app, bob)] == ["quote"]


def test_kudos_group_per_post_naming_the_latest_giver(app, client, board, member):
    from forum.threads import services

    thread = make_thread(app, member, board)
    givers = [
        make_member(app, h, display_name=n) for h, n in (("bob", "Bob B"), ("phil", "Philip D"))
    ]
    for giver in givers:
        with app.app_context():
            services.give_kudos(
                db.session.get(Member, giver),
                db.session.scalar(select(Post).where(Post.thread_id == thread)),
            )
    work(app)
    (notification,) = notifications_of(app, member)
    assert (notification.count, notification.others) == (2, 1)
    login(client, "alice")
    page = client.get("/notifications").get_data(as_text=True)
    assert "Philip D and 1 other gave kudos to your post" in page


def test_accepting_a_reply_notifies_its_author(app, board, member, other_member):
    from forum.threads import services

    thread = make_thread(app, member, board)
    reply_id = reply_as(app, other_member, thread, "The answer")
    with app.app_context():
        services.set_solution(
            db.session.get(Member, member),
            db.session.get(Thread, thread),
            db.session.get(Post, reply_id),
        )
    work(app)
    assert [n.kind.value for n in notifications_of(app, other_member)] == ["solution"]


def test_removed_posts_and_muted_members_notify_nobody(app, board, member, moderator):
    from forum.notifications.services import set_member_muted
    from forum.threads import services

    bob, carol = make_member(app, "bob"), make_member(app, "carol")
    thread = make_thread(app, member, board)
    spam = reply_as(app, bob, thread, "Buy now @alice")
    with app.app_context():  # removed before the worker came
        services.set_removed(
            db.session.get(Member, moderator), db.session.get(Post, spam), True, "spam"
        )
        set_member_muted(db.session.get(Member, member), db.session.get(Member, carol), True)
    reply_as(app, carol, thread, "Muted voice")
    work(app)
    assert notifications_of(app, member) == []
    (notice,) = [n for n in notifications_of(app, bob) if n.kind.value == "moderation"]
    assert notice.details == "spam"


def test_a_post_removed_after_its_notification_takes_the_notification_away(
    app, board, member, moderator
):
    from forum.threads import services

    bob = make_member(app, "bob")
    thread = make_thread(app, member, board)
    post_id = reply_as(app, bob, thread, "Soon removed")
    work(app)
    assert unread(app, member) == 1
    with app.app_context():
        services.set_removed(
            db.session.get(Member, moderator), db.session.get(Post, post_id), True, "off topic"
        )
    assert notifications_of(app, member) == []
    assert unread(app, member) == 0


def test_a_muted_thread_is_silent_and_watching_a_board_hears_of_new_threads(
    app, client, board, member, other_member
):
    login(client, "bob")
    assert post_form(client, "/b/freelancers/watch/watch").status_code == 302
    thread = make_thread(app, member, board, subject="Fresh question")
    work(app)
    assert post_form(client, f"/t/{thread}/watch/mute").status_code == 302
    reply_as(app, member, thread, "Anyone?")
    work(app)
    assert [n.kind.value for n in notifications_of(app, other_member)] == ["new_thread"]
    page = client.get(f"/t/{thread}-fresh-question").get_data(as_text=True)
    assert "Muted: you hear nothing from this thread." in page


def test_the_header_count_adds_no_query_to_the_thread_page(app, client, board, member):
    bob = make_member(app, "bob")
    small = make_thread(app, bob, board, subject="Small", replies=4)
    big = make_thread(app, bob, board, subject="Big", replies=60)
    reply_as(app, member, small, "watching now")
    reply_as(app, bob, small, "news for alice")
    work(app)
    login(client, "alice")
    counts = []
    for url in (f"/t/{small}-small", f"/t/{big}-big", f"/t/{big}-big?page=3"):
        client.get(url)  # the first view stores the read position
        with count_queries(app) as statements:
            html = client.get(url).get_data(as_text=True)
        assert 'class="unread-count">1<' in html
        counts.append(len(statements))
    assert len(set(counts)) == 1, counts
    # As before notifications: the member's login, the thread (with the viewer's watch level
    # and read position joined in), the page's posts, the kudos the viewer gave; and the
    # member's draft for the reply box.
    assert counts[0] == 5, counts
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in statements)


def test_jump_to_first_unread_goes_to_the_first_new_reply(app, client, board, member):
    bob = make_member(app, "bob")
    thread = make_thread(app, bob, board, subject="Paged", replies=24)
    login(client, "alice")
    client.get(f"/t/{thread}-paged")  # read 1..20
    page = client.get(f"/t/{thread}-paged").get_data(as_text=True)
    assert f'href="/t/{thread}-paged?page=2#p21">Jump to first unread' in page
    board_page = client.get("/b/freelancers").get_data(as_text=True)
    assert "5 unread" in board_page


def test_unsubscribe_by_one_click_post_needs_no_session_and_only_that_kind(app, board, inbox):
    from forum.models import Kind
    from forum.notifications.services import frequencies

    asker, answerer = confirmed(app, "alice"), confirmed(app, "bob")
    thread = make_thread(app, asker, board)
    reply_as(app, answerer, thread, "hello")
    work(app)
    (message,) = notices(inbox)
    url = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    fresh = app.test_client()  # no cookie, no CSRF token
    path = url.removeprefix("http://localhost")
    assert fresh.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        assert frequencies(asker)[Kind.THREAD_REPLY] == "never"
        assert frequencies(asker)[Kind.MENTION] == "immediately"  # only that kind
        assert frequencies(answerer)[Kind.THREAD_REPLY] == "immediately"  # only that member
    assert fresh.post(path[:-3] + "abc").status_code == 404  # a forged token


def test_script_in_names_and_subjects_is_escaped_in_html_and_literal_in_text(app, board, inbox):
    asker = confirmed(app, "alice")
    evil = confirmed(app, "bob", "<script>alert(1)</script>")
    thread = make_thread(app, asker, board, subject="<script>x()</script> help")
    reply_as(app, evil, thread, "<script>body()</script>")
    work(app)
    (message,) = notices(inbox)
    html, text = html_part(message), text_part(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script> replied in “<script>x()</script> help”" in text
    assert "bob@example.com" not in message.as_string()


def test_unconfirmed_addresses_get_no_notification_mail(app, board, inbox):
    from forum.auth.services import register

    with app.app_context():
        asker = register("alice", "Alice", "correct horse battery staple", email="a@example.com").id
    inbox.clear()
    bob = make_member(app, "bob")
    thread = make_thread(app, asker, board)
    reply_as(app, bob, thread, "hi")
    work(app)
    assert [m["Subject"] for m in inbox.messages] == ["Confirm your e-mail address"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailDelivery)) == 1


def test_a_daily_digest_collects_what_was_not_mailed(app, board, inbox):
    from forum.models import Frequency, Kind
    from forum.notifications.fanout import send_digests
    from forum.notifications.services import save_preferences

    asker, bob = confirmed(app, "alice"), make_member(app, "bob")
    with app.app_context():
        save_preferences(
            db.session.get(Member, asker),
            True,
            {Kind.THREAD_REPLY: Frequency.DAILY, Kind.MENTION: Frequency.NEVER},
        )
    thread = make_thread(app, asker, board, subject="Digest me")
    reply_as(app, bob, thread, "one")
    reply_as(app, bob, thread, "two")
    work(app)
    assert notices(inbox) == []
    with app.app_context():
        assert send_digests() == 1
        assert send_digests() == 0  # one a day
    work(app)
    (digest,) = notices(inbox)
    assert "2 new replies in “Digest me”" in text_part(digest)
    assert digest["List-Unsubscribe"]


def test_an_event_that_keeps_failing_is_set_aside_and_the_rest_go_on(app, board, member):
    from forum.models import EventKind, NotificationEvent
    from forum.notifications.fanout import MAX_EVENT_ATTEMPTS, process_events

    with app.app_context():  # an event no code can handle: a new post with no post
        db.session.add(NotificationEvent(kind=EventKind.POST, actor_id=member))
        db.session.commit()
    bob = make_member(app, "bob")
    thread = make_thread(app, member, board)
    reply_as(app, bob, thread, "a reply behind the bad event")
    with app.app_context():
        for _ in range(MAX_EVENT_ATTEMPTS - 1):
            assert process_events() == 0  # the bad event fails; the rest wait, in order
        assert notifications_of(app, member) == []
        process_events()
        bad = db.session.scalar(select(NotificationEvent).order_by(NotificationEvent.id))
        assert bad.attempts == MAX_EVENT_ATTEMPTS and bad.processed_at is not None
        assert "AttributeError" in bad.last_error
    assert [n.kind.value for n in notifications_of(app, member)] == ["thread_reply"]


def test_a_badge_granted_and_a_rank_earned_are_notified_with_a_link_to_the_profile(
    app, client, board, member, moderator
):
    from forum.models import Badge
    from forum.reputation.services import grant_badge

    with app.app_context():
        db.session.add(Badge(name="<b>Helper</b>"))
        db.session.commit()
        grant_badge(
            db.session.get(Member, moderator),
            db.session.get(Member, member),
            db.session.scalar(select(Badge)),
            "kind answers",
        )
    make_thread(app, member, board, replies=4)  # five posts: Frequent Visitor
    work(app)
    kinds = [n.kind.value for n in notifications_of(app, member)]
    assert kinds == ["badge", "rank"]
    login(client, "alice")
    page = client.get("/notifications").get_data(as_text=True)
    assert "You were granted the badge “&lt;b&gt;Helper&lt;/b&gt;”" in page
    assert "Your rank is now “Frequent Visitor”" in page
    badge = notifications_of(app, member)[0]
    assert client.get(f"/notifications/{badge.id}").headers["Location"] == "/members/alice"


def test_a_reply_in_a_thread_hidden_before_the_worker_came_notifies_nobody(
    app, board, member, moderator
):
    from forum.threads import services

    bob = make_member(app, "bob")
    thread = make_thread(app, member, board)
    reply_as(app, bob, thread, "Hello @alice")
    with app.app_context():  # removing the opening post hides the thread
        opening = db.session.scalar(select(Post).where(Post.thread_id == thread))
        services.set_removed(db.session.get(Member, moderator), opening, True, "duplicate")
    work(app)
    assert [n.kind.value for n in notifications_of(app, member)] == ["moderation"]
    assert notifications_of(app, bob) == []


def set_time_zone(app, member_id: int, name: str) -> None:
    with app.app_context():
        db.session.get(Member, member_id).time_zone = name
        db.session.commit()


def test_notification_mail_tells_the_time_in_the_members_zone_else_utc(app, board, inbox):
    from datetime import UTC, datetime

    from sqlalchemy import update

    from forum.models import NotificationEvent

    asker = confirmed(app, "alice")
    confirmed(app, "carol")  # mentioned, with no zone chosen
    set_time_zone(app, asker, "Asia/Tokyo")
    thread = make_thread(app, asker, board, subject="Times")
    reply_as(app, make_member(app, "bob"), thread, "At what time, @carol?")
    with app.app_context():
        moment = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
        db.session.execute(update(NotificationEvent).values(created_at=moment))
        db.session.commit()
    work(app)
    mail = {m["To"]: m for m in notices(inbox)}
    assert "Dec 3, 2026 10:05 PM JST" in text_part(mail["alice@example.com"])
    assert "Dec 3, 2026 10:05 PM JST" in html_part(mail["alice@example.com"])
    assert "Dec 3, 2026 1:05 PM UTC" in text_part(mail["carol@example.com"])


def test_a_digest_tells_each_items_time_in_the_members_zone(app, board, inbox):
    from forum.models import Frequency, Kind
    from forum.notifications.fanout import send_digests
    from forum.notifications.services import save_preferences

    asker = confirmed(app, "alice")
    set_time_zone(app, asker, "America/New_York")
    with app.app_context():
        save_preferences(db.session.get(Member, asker), True, {Kind.THREAD_REPLY: Frequency.DAILY})
    thread = make_thread(app, asker, board, subject="Digest me")
    reply_as(app, make_member(app, "bob"), thread, "one")
    work(app)
    with app.app_context():
        assert send_digests() == 1
    work(app)
    (digest,) = notices(inbox)
    assert re.search(r"\(\w{3} \d+, \d{4} \d+:\d\d [AP]M E[SD]T\)", text_part(digest))
