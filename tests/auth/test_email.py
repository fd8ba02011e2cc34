"""E-mail addresses and password reset, end to end: the forms, the queue, a real SMTP server, the links."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import MailDelivery, Member, MemberSession
from forum.tasks import run_pending_work
from tests.auth.test_accounts import field_error, register
from tests.builders import DEFAULT_PASSWORD, make_member
from tests.pages import login, post_form
from tests.smtp import html_part, smtp_server, text_part

NEW_PASSWORD = "a brand new passphrase"
SAME_ANSWER = "If that address belongs to an account, a link to reset its password is on its way."


@pytest.fixture
def inbox(app) -> Iterator:
    with smtp_server() as (inbox, url):
        app.config["MAIL_URL"] = url
        yield inbox


def deliver(app) -> None:
    with app.app_context():
        run_pending_work()


def link_in(message, path: str) -> str:
    """The path of the link to path... in the message's text part (as a member would click it)."""
    match = re.search(rf"http://localhost({re.escape(path)}[^\s]+)", text_part(message))
    assert match, text_part(message)
    return match[1]


def with_email(app, handle="alice", address="alice@example.com") -> int:
    from forum.auth.services import register as register_member

    with app.app_context():
        return register_member(handle, handle.title(), DEFAULT_PASSWORD, email=address).id


def ask_reset(client, address: str):
    return post_form(client, "/reset-password", {"email": address}, follow_redirects=True)


def test_registering_mails_a_link_that_confirms_the_address(app, client, inbox):
    register(client, handle="newbie", email="New.Bie@Example.com")
    deliver(app)
    (message,) = inbox.messages
    assert message["To"] == "new.bie@example.com"  # unique ignoring case: stored lower-case
    assert message.get_body(("plain",)) and message.get_body(("html",))
    confirm = link_in(message, "/confirm-email/")
    assert confirm in html_part(message)
    client.get(confirm)
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.handle == "newbie"))
        assert member.email_confirmed_at is not None


def test_an_address_taken_ignoring_case_is_refused_beside_the_field(app, client):
    with_email(app, "alice", "alice@example.com")
    response = register(client, handle="other", email="ALICE@example.com")
    assert response.status_code == 400
    assert "belongs to another account" in field_error(response.get_data(as_text=True), "email")


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "two@@example.com", ""])
def test_invalid_addresses_are_refused_with_a_message(client, address):
    response = register(client, handle="someone", email=address or " ")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "email")


def test_the_address_is_never_shown_to_other_members(app, client):
    with_email(app, "alice", "secret-alice@example.com")
    make_member(app, "bob")
    login(client, "bob")
    assert "secret-alice" not in client.get("/members/alice").get_data(as_text=True)


def test_changing_the_address_waits_for_the_new_one_to_be_confirmed(app, client, inbox):
    member_id = with_email(app)
    with app.app_context():
        member = db.session.get(Member, member_id)
        member.email_confirmed_at = member.created_at
        db.session.commit()
    login(client, "alice")
    response = post_form(
        client, "/settings/email", {"email": "new@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    deliver(app)
    message = inbox.to("new@example.com")[-1]
    with app.app_context():
        assert db.session.get(Member, member_id).email == "alice@example.com"  # not yet
    client.get(link_in(message, "/confirm-email/"))
    with app.app_context():
        assert db.session.get(Member, member_id).email == "new@example.com"


def test_password_reset_end_to_end_ends_every_session(app, client, inbox):
    member_id = with_email(app)
    other_browser = app.test_client()
    login(other_browser, "alice")
    response = ask_reset(client, "Alice@Example.com")
    assert SAME_ANSWER in response.get_data(as_text=True)
    deliver(app)
    (message,) = inbox.to("alice@example.com")[-1:]
    assert message["Subject"] == "Reset your password"
    reset = link_in(message, "/reset-password/")
    response = post_form(client, reset, {"new_password": NEW_PASSWORD})
    assert response.headers["Location"] == "/login"
    with app.app_context():
        sessions = db.session.scalar(
            select(func.count()).where(MemberSession.member_id == member_id)
        )
    assert sessions == 0
    assert "Log out" not in other_browser.get("/").get_data(as_text=True)
    login(client, "alice", NEW_PASSWORD)


def test_a_reset_link_works_once(app, client, inbox):
    with_email(app)
    ask_reset(client, "alice@example.com")
    deliver(app)
    reset = link_in(inbox.messages[-1], "/reset-password/")
    post_form(client, reset, {"new_password": NEW_PASSWORD})
    again = post_form(client, reset, {"new_password": "yet another passphrase"})
    assert again.headers["Location"] == "/reset-password"
    assert "already been used" in client.get("/reset-password").get_data(as_text=True)
    login(client, "alice", NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app, client, inbox):
    with_email(app)
    ask_reset(client, "alice@example.com")
    deliver(app)
    reset = link_in(inbox.messages[-1], "/reset-password/")
    app.config["RESET_LINK_MAX_AGE"] = -1  # every link is older than that
    response = client.get(reset, follow_redirects=True)
    assert "That reset link has expired" in response.get_data(as_text=True)
    login(client, "alice", DEFAULT_PASSWORD)


def test_an_unknown_address_gets_the_same_page_and_no_mail(app, client, inbox):
    with_email(app)
    deliver(app)
    inbox.clear()
    known = ask_reset(client, "alice@example.com").get_data(as_text=True)
    unknown = ask_reset(client, "nobody@example.com").get_data(as_text=True)
    assert SAME_ANSWER in known and SAME_ANSWER in unknown
    strip = re.compile(r'name="csrf_token"[^>]*>')
    assert strip.sub("", known) == strip.sub("", unknown)
    deliver(app)
    assert [m["To"] for m in inbox.messages] == ["alice@example.com"]


def test_reset_requests_are_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    from forum.extensions import limiter

    limiter.reset()
    client = app.test_client()
    answers = [ask_reset(client, "victim@example.com").status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailDelivery)) == 0
