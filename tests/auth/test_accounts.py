"""Registering, logging in and changing the password: the rules, and the messages beside the fields."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.builders import DEFAULT_PASSWORD, make_member
from tests.pages import login, post_form

NEW_PASSWORD = "an unusual passphrase of mine"
BREACHED_PASSWORD = "qwertyuiop"  # a line of forum/data/breached-passwords.txt


def register(client, handle="newbie", display_name="New B", password=NEW_PASSWORD, email=None):
    email = email or f"{handle}@example.com"
    data = {"handle": handle, "display_name": display_name, "password": password, "email": email}
    return post_form(client, "/register", data)


def field_error(html: str, field: str) -> str:
    """The message shown beside a form field ('' when there is none)."""
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">(.*?)</p>', html)
    return unescape(match[1]) if match else ""


def input_value(html: str, name: str) -> str | None:
    """The value an <input> of the page carries (None when it has none)."""
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag[0])
    return unescape(value[1]) if value else None


def stored_member(app, handle: str):
    from forum.extensions import db
    from forum.models import Member

    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.handle == handle))
        if member is not None:
            db.session.expunge(member)
        return member


def member_count(app) -> int:
    from forum.extensions import db
    from forum.models import Member

    with app.app_context():
        return db.session.scalar(select(func.count(Member.id)))


def session_count(app) -> int:
    from forum.extensions import db
    from forum.models import MemberSession

    with app.app_context():
        return db.session.scalar(select(func.count(MemberSession.id)))


def is_logged_in(client) -> bool:
    return client.get("/settings/password").status_code == 200


# Registering


def test_registering_redirects_home(client):
    assert register(client).headers["Location"] == "/"


def test_registering_logs_the_new_member_in(client):
    register(client)
    assert is_logged_in(client)


def test_registering_stores_the_password_as_an_argon2id_hash(app, client):
    register(client)
    password_hash = stored_member(app, "newbie").password_hash
    assert password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in password_hash


def test_registering_keeps_the_display_name(app, client):
    register(client, display_name="Philip D")
    assert stored_member(app, "newbie").display_name == "Philip D"


def test_handle_typed_in_capitals_is_stored_lower_case(app, client):
    register(client, handle="NewBie")
    assert stored_member(app, "newbie") is not None


@pytest.mark.parametrize("handle", ["abc", "a" * 30, "a-b_c9", "007"])
def test_handle_of_3_to_30_allowed_characters_is_accepted(app, client, handle):
    assert register(client, handle=handle).headers["Location"] == "/"
    assert stored_member(app, handle) is not None


@pytest.mark.parametrize(
    "handle",
    ["ab", "a" * 31, "two words", "dot.name", "émile", "semi;colon", "at@home", "slash/name"],
)
def test_handle_breaking_the_rules_is_refused_beside_the_field(app, client, handle):
    response = register(client, handle=handle)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "handle") == "Handles are 3–30 characters of a–z, 0–9, '-' and '_'."
    assert member_count(app) == 0


def test_handle_taken_in_another_case_is_refused(app, client, member):
    response = register(client, handle="Alice")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "handle") == "That handle is taken."
    assert member_count(app) == 1


@pytest.mark.parametrize("handle", ["admin", "moderator", "Admin", "support"])
def test_reserved_handle_is_refused(app, client, handle):
    response = register(client, handle=handle)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "handle") == "That handle is reserved; please choose another."
    assert member_count(app) == 0


@pytest.mark.parametrize("password", ["nine char", "x" * 1025, ""], ids=["9", "1025", "empty"])
def test_password_shorter_than_10_or_longer_than_1024_characters_is_refused(app, client, password):
    response = register(client, password=password)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "password") == "Passwords are 10 to 1,024 characters long."
    assert member_count(app) == 0


@pytest.mark.parametrize("password", ["ten chars!", "y" * 1024], ids=["10", "1024"])
def test_password_of_10_to_1024_characters_is_accepted(app, client, password):
    assert register(client, password=password).headers["Location"] == "/"


@pytest.mark.parametrize("password", [BREACHED_PASSWORD, BREACHED_PASSWORD.upper()])
def test_password_from_the_breached_list_is_refused_with_a_message(app, client, password):
    response = register(client, password=password)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "password") == (
        "That password is one of the most common leaked passwords; pick another."
    )
    assert member_count(app) == 0


def test_breached_password_example_is_on_the_shipped_list():
    from forum.auth.services import breached_passwords

    assert BREACHED_PASSWORD in breached_passwords()


def test_refused_registration_keeps_the_typed_handle_and_display_name(client):
    html = register(client, display_name="New B", password=BREACHED_PASSWORD).get_data(as_text=True)
    assert input_value(html, "handle") == "newbie"
    assert input_value(html, "display_name") == "New B"


def test_refused_registration_does_not_echo_the_password(client):
    html = register(client, password=BREACHED_PASSWORD).get_data(as_text=True)
    assert not input_value(html, "password")
    assert BREACHED_PASSWORD not in html


def test_refused_registration_marks_the_field_invalid_for_screen_readers(client):
    html = register(client, handle="ab").get_data(as_text=True)
    assert re.search(r'<input [^>]*aria-describedby="handle-error"[^>]*name="handle"', html)
    assert re.search(r'<input [^>]*aria-invalid="true"[^>]*name="handle"', html)


def test_registration_without_a_display_name_is_refused(app, client):
    response = register(client, display_name="")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "display_name")
    assert member_count(app) == 0


# Logging in


def test_login_redirects_home(client, member):
    assert login(client, "alice").headers["Location"] == "/"


def test_a_logged_in_member_opening_the_login_or_register_page_is_sent_on(client, member):
    login(client, "alice")
    assert client.get("/login").headers["Location"] == "/"
    assert client.get("/login?next=/search").headers["Location"] == "/search"
    assert client.get("/login?next=//evil.example").headers["Location"] == "/"
    assert client.get("/register").headers["Location"] == "/"


def test_a_logged_in_member_may_still_log_in_as_someone_else(client, member, other_member):
    login(client, "alice")
    login(client, "bob")
    assert "Bob" in client.get("/").get_data(as_text=True)


def test_login_ignores_the_case_of_the_handle(client, member):
    login(client, "ALICE")
    assert is_logged_in(client)


def test_login_with_a_wrong_password_is_refused_with_a_message(client, member):
    response = post_form(client, "/login", {"handle": "alice", "password": "not my password"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "password") == (
        "That handle and password don't match."
    )
    assert not is_logged_in(client)


def test_login_with_an_unknown_handle_says_the_same_as_a_wrong_password(client, member):
    wrong_password = post_form(client, "/login", {"handle": "alice", "password": "not my password"})
    unknown = post_form(client, "/login", {"handle": "nobody", "password": "not my password"})
    assert unknown.status_code == 400
    assert field_error(unknown.get_data(as_text=True), "password") == field_error(
        wrong_password.get_data(as_text=True), "password"
    )
    assert field_error(unknown.get_data(as_text=True), "handle") == ""


def test_failed_login_keeps_the_typed_handle(client, member):
    response = post_form(client, "/login", {"handle": "alice", "password": "not my password"})
    assert input_value(response.get_data(as_text=True), "handle") == "alice"


def test_failed_login_records_no_session(app, client, member):
    post_form(client, "/login", {"handle": "alice", "password": "not my password"})
    assert session_count(app) == 0


def test_login_records_one_server_side_session(app, client, member):
    login(client, "alice")
    assert session_count(app) == 1


# Changing the password


def change_password(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD):
    data = {"current_password": current, "new_password": new}
    return post_form(client, "/settings/password", data)


def test_change_password_page_needs_a_login(client):
    response = client.get("/settings/password")
    assert response.headers["Location"] == "/login?next=%2Fsettings%2Fpassword"


def test_changing_the_password_redirects_to_the_profile(client, member):
    login(client, "alice")
    assert change_password(client).headers["Location"] == "/members/alice"


def test_changed_password_is_the_one_that_logs_in(app, client, member):
    login(client, "alice")
    change_password(client)
    other = app.test_client()
    old = post_form(other, "/login", {"handle": "alice", "password": DEFAULT_PASSWORD})
    assert old.status_code == 400
    assert login(other, "alice", NEW_PASSWORD).headers["Location"] == "/"


def test_changed_password_is_stored_as_a_new_argon2id_hash(app, client, member):
    before = stored_member(app, "alice").password_hash
    login(client, "alice")
    change_password(client)
    after = stored_member(app, "alice").password_hash
    assert after.startswith("$argon2id$") and after != before


def test_wrong_current_password_is_refused_with_a_message(app, client, member):
    login(client, "alice")
    response = change_password(client, current="not my password")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "current_password") == (
        "Your current password is not right."
    )
    assert login(app.test_client(), "alice", DEFAULT_PASSWORD).headers["Location"] == "/"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("nine char", "Passwords are 10 to 1,024 characters long."),
        ("z" * 1025, "Passwords are 10 to 1,024 characters long."),
        (
            BREACHED_PASSWORD,
            "That password is one of the most common leaked passwords; pick another.",
        ),
    ],
    ids=["too-short", "too-long", "breached"],
)
def test_new_password_breaking_the_rules_is_refused_beside_the_field(
    app, client, member, new, message
):
    login(client, "alice")
    response = change_password(client, new=new)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "new_password") == message
    assert login(app.test_client(), "alice", DEFAULT_PASSWORD).headers["Location"] == "/"


def test_make_member_refuses_what_the_form_refuses(app):
    from forum.errors import HandleTaken, InvalidInput

    make_member(app, "carol")
    with pytest.raises(HandleTaken):
        make_member(app, "CAROL")
    with pytest.raises(InvalidInput):
        make_member(app, "moderator")
