"""Rate limits: logins per IP, posts per member; a limited member learns how long to wait and
keeps their draft. Each test builds its own app with limits on (the default SQLite storage)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from forum import create_app
from forum.extensions import db
from tests.builders import DEFAULT_PASSWORD, make_member, make_thread
from tests.databases import config_for_tests, migrate
from tests.pages import login, post_form
from tests.servers import HttpMember, forum_env, gunicorn

WAIT_RE = re.compile(r"Please wait (\d+) seconds? and try again\.")


@pytest.fixture
def limited_app(app, make_app):
    """An app on the test's database with the rate limits on; built last, so its limits apply."""
    return make_app(RATELIMIT_ENABLED=True)


@pytest.fixture
def browser(limited_app):
    return limited_app.test_client()


def posts(app) -> int:
    from forum.extensions import db
    from forum.models import Post

    with app.app_context():
        return db.session.scalar(select(func.count(Post.id)))


def make_old_member(app, handle: str) -> int:
    """A member who joined days ago, so the everyday posting limit (one post per 5 s) applies."""
    from forum.database import utcnow
    from forum.extensions import db
    from forum.models import Member

    member_id = make_member(app, handle)
    with app.app_context():
        joined = utcnow() - timedelta(days=3)
        db.session.execute(update(Member).where(Member.id == member_id).values(created_at=joined))
        db.session.commit()
    return member_id


def wait_shown(response) -> int:
    """The wait the page names; it must match the Retry-After header."""
    match = WAIT_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == match[1]
    return int(match[1])


def draft_textarea(html: str) -> str:
    match = re.search(r'<textarea [^>]*name="body"[^>]*>(.*?)</textarea>', html, flags=re.S)
    assert match, "no draft textarea"
    return unescape(match[1]).strip()


# Logging in: 6 a minute per IP


def fail_login(client, **kwargs):
    data = {"handle": "alice", "password": "not my password"}
    return post_form(client, "/login", data, **kwargs)


def test_seventh_failed_login_within_a_minute_is_refused(app, browser, member):
    first_six = [fail_login(browser).status_code for _ in range(6)]
    assert first_six == [400] * 6
    assert fail_login(browser).status_code == 429


def test_refused_login_says_how_long_to_wait(app, browser, member):
    for _ in range(6):
        fail_login(browser)
    response = fail_login(browser)
    assert 1 <= wait_shown(response) <= 60


def test_refused_login_does_not_log_in_even_with_the_right_password(app, browser, member):
    for _ in range(6):
        fail_login(browser)
    data = {"handle": "alice", "password": DEFAULT_PASSWORD}
    refused = post_form(browser, "/login", data)
    assert refused.status_code == 429
    assert browser.get("/settings/password").headers["Location"].startswith("/login")
    # Not mistaken for a wrong password: the page says the attempt was not checked.
    page = unescape(refused.get_data(as_text=True))
    assert "Too many login attempts from your address: this one was not checked" in page
    assert "don't match" not in page
    assert WAIT_RE.search(page)


def test_login_limit_counts_per_ip(app, browser, member):
    for _ in range(6):
        fail_login(browser, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    data = {"handle": "alice", "password": DEFAULT_PASSWORD}
    other_ip = {"REMOTE_ADDR": "192.0.2.2"}
    response = post_form(browser, "/login", data, environ_base=other_ip)
    assert response.headers["Location"] == "/"


def test_the_login_limit_holds_across_the_default_servers_workers(tmp_path):
    """Two gunicorn workers on the default storage (a SQLite file) share one count, where the
    per-process memory:// let each worker take 6."""
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    migrate(url, tmp_path)
    app = create_app(config_for_tests(url, tmp_path))
    make_member(app, "alice")
    with app.app_context():
        db.engine.dispose()
    env = forum_env(url, tmp_path)
    with gunicorn(env, tmp_path, workers=2, settings_file=True) as base_url:

        def failed_login(_):
            status, _, _ = HttpMember(base_url).submit(
                "/login", "/login", {"handle": "alice", "password": "not the password at all"}
            )
            return status

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = sorted(pool.map(failed_login, range(12)))
    assert statuses == [400] * 6 + [429] * 6


def test_the_default_rate_limit_storage_is_a_file_in_the_instance_folder(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    expected = f"forum-sqlite://{Path(app.instance_path) / 'ratelimits.sqlite'}"
    assert app.config["RATELIMIT_STORAGE_URI"] == expected


def test_login_page_itself_is_not_limited(app, browser, member):
    for _ in range(7):
        fail_login(browser)
    assert browser.get("/login").status_code == 200


# Posting: one post every 5 s per member (30 s on the first day)


@pytest.fixture
def thread_id(app, board) -> int:
    author = make_old_member(app, "olga")
    return make_thread(app, author, board, subject="Limits")


def reply(client, thread_id: int, body: str, button: str = "submit"):
    return post_form(client, f"/t/{thread_id}/reply", {"body": body, button: "1"})


def test_second_post_within_5_seconds_is_refused(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    assert (
        reply(browser, thread_id, "First answer").headers["Location"] == f"/t/{thread_id}-limits#p2"
    )
    assert reply(browser, thread_id, "Second answer").status_code == 429


def test_refused_post_says_how_long_to_wait(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    assert 1 <= wait_shown(reply(browser, thread_id, "Second answer")) <= 5


def test_refused_post_keeps_the_draft_in_a_textarea(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    draft = "My second answer, <with> care & detail."
    html = reply(browser, thread_id, draft).get_data(as_text=True)
    assert draft_textarea(html) == draft


def test_kept_draft_posts_back_to_the_same_address_with_a_token(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    html = reply(browser, thread_id, "Second answer").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="([^"]+)" class="compose">(.*?)</form>', html, re.S
    )
    assert form and form[1] == f"/t/{thread_id}/reply"
    assert re.search(r'name="csrf_token" value="[^"]+"', form[2])


def test_refused_post_saves_nothing(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    reply(browser, thread_id, "Second answer")
    assert posts(app) == 2


def test_refused_new_thread_keeps_subject_and_draft(app, browser, board):
    make_old_member(app, "alice")
    login(browser, "alice")
    data = {"board": str(board), "subject": "First question", "body": "Details", "submit": "1"}
    post_form(browser, "/new", data)
    data |= {"subject": "Second question", "body": "More details"}
    response = post_form(browser, "/new", data)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert draft_textarea(html) == "More details"
    assert '<input type="hidden" name="subject" value="Second question">' in html


def test_new_member_waits_up_to_30_seconds_between_posts(app, browser, thread_id):
    make_member(app, "alice")  # joined just now
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    assert 5 < wait_shown(reply(browser, thread_id, "Second answer")) <= 30


def test_preview_is_not_counted_against_the_posting_limit(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    assert reply(browser, thread_id, "Draft", button="preview").status_code == 200
    response = reply(browser, thread_id, "Draft, now posted")
    assert response.headers["Location"] == f"/t/{thread_id}-limits#p2"


def test_preview_right_after_a_post_is_shown(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    response = reply(browser, thread_id, "A *second* thought", button="preview")
    assert response.status_code == 200
    assert "<em>second</em>" in response.get_data(as_text=True)


def test_refused_form_is_not_counted_against_the_posting_limit(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    assert reply(browser, thread_id, "   ").status_code == 400
    assert reply(browser, thread_id, "Now with words").headers["Location"].endswith("#p2")


def test_posting_limit_counts_per_member(app, browser, thread_id, limited_app):
    make_old_member(app, "alice")
    make_old_member(app, "bob")
    login(browser, "alice")
    reply(browser, thread_id, "Alice answers")
    other = limited_app.test_client()
    login(other, "bob")
    assert reply(other, thread_id, "Bob answers too").headers["Location"].endswith("#p3")


def test_rate_limited_page_has_no_inline_script(app, browser, thread_id):
    make_old_member(app, "alice")
    login(browser, "alice")
    reply(browser, thread_id, "First answer")
    html = reply(browser, thread_id, "Second answer").get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts == [(' src="/static/timezone.js" defer', "")]  # a file, as the CSP asks
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html)


def test_settings_saves_are_limited_to_twenty_an_hour(limited_app, browser):
    make_member(limited_app, "carol")
    login(browser, "carol")
    saves = [
        post_form(
            browser, "/members/settings", {"display_name": f"Carol {n}", "featured_badge": "0"}
        ).status_code
        for n in range(21)
    ]
    assert saves == [302] * 20 + [429]
