"""Web safety: redirects after login stay on the site, CSRF failures keep the member's text,
security headers on every response, request size limit, and no inline script anywhere."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.builders import DEFAULT_PASSWORD, make_thread
from tests.pages import CSRF_RE, csrf_token, login, post_form

OPEN_REDIRECT = Path(__file__).parent / "data" / "attack" / "open-redirect"
EXPIRED = "This form had expired or did not come from this site"


def count(app, model) -> int:
    from forum.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag[0])
    return unescape(value[1]) if value else None


def textarea(html: str, name: str = "body") -> str:
    match = re.search(rf'<textarea [^>]*name="{name}"[^>]*>(.*?)</textarea>', html, flags=re.S)
    assert match, f"no textarea named {name}"
    return unescape(match[1]).strip()


# next= after logging in


def login_with_next(client, target: str):
    data = {"handle": "alice", "password": DEFAULT_PASSWORD, "next": target}
    return post_form(client, "/login", data)


@pytest.mark.parametrize("target", ["/t/1-x?page=2", "/b/freelancers", "/members/alice#posts"])
def test_login_follows_a_same_site_next_path(client, member, target):
    assert login_with_next(client, target).headers["Location"] == target


def test_login_link_carries_next_through_the_form(client, member):
    html = client.get("/login?next=/t/1-x%3Fpage%3D2").get_data(as_text=True)
    assert input_value(html, "next") == "/t/1-x?page=2"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example", "/\\evil.example", "\t//evil.example", "", " "],
)
def test_login_sends_an_off_site_next_home(client, member, target):
    assert login_with_next(client, target).headers["Location"] == "/"


@pytest.mark.parametrize(
    "target", ["/https://evil.example", "/%5cevil.example", "/%2f%2fevil.example", "/nowhere"]
)
def test_login_sends_a_next_path_that_is_no_page_home(client, member, target):
    assert login_with_next(client, target).headers["Location"] == "/"


def test_login_sends_a_next_to_a_post_only_address_home(client, member):
    assert login_with_next(client, "/logout").headers["Location"] == "/"


@pytest.mark.parametrize("corpus", sorted(OPEN_REDIRECT.glob("*.txt")), ids=lambda p: p.name)
def test_login_sends_every_open_redirect_payload_home(client, member, corpus):
    lines = [line for line in corpus.read_text("utf-8").splitlines() if line.strip()]
    assert lines
    escaped = {}
    for line in lines:
        location = login_with_next(client, line).headers["Location"]
        # Home: "/", or "/?url=//example.com" for the payloads that are the home page plus a
        # query string (the home page reads no query, let alone redirects by one).
        scheme, netloc, path = urlsplit(location)[:3]
        if (scheme, netloc, path) != ("", "", "/"):
            escaped[line] = location
    assert not escaped


def test_open_redirect_corpus_is_in_place():
    assert len(list(OPEN_REDIRECT.glob("*.txt"))) == 3
    assert (OPEN_REDIRECT / "LICENSE").read_text().startswith("MIT License")


# CSRF failures re-render the form, keeping what was typed


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "wrong"])
def test_login_with_a_bad_csrf_token_rerenders_the_form_with_the_handle(app, client, member, token):
    from forum.models import MemberSession

    data = {"handle": "alice", "password": DEFAULT_PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EXPIRED in html
    assert input_value(html, "handle") == "alice"
    assert count(app, MemberSession) == 0


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "wrong"])
def test_register_with_a_bad_csrf_token_rerenders_the_form_and_creates_nobody(app, client, token):
    from forum.models import Member

    data = {"handle": "newbie", "display_name": "New B", "password": "a fine long passphrase"}
    if token:
        data["csrf_token"] = token
    response = client.post("/register", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EXPIRED in html
    assert input_value(html, "handle") == "newbie"
    assert input_value(html, "display_name") == "New B"
    assert count(app, Member) == 0


def test_rerendered_login_form_carries_a_token_that_works(client, member):
    data = {"handle": "alice", "password": DEFAULT_PASSWORD}
    client.post("/login", data=data | {"csrf_token": "forged"})
    assert post_form(client, "/login", data).headers["Location"] == "/"


@pytest.fixture
def thread_id(app, member, board) -> int:
    return make_thread(app, member, board, subject="Tokens", body="Opening post")


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "wrong"])
def test_reply_with_a_bad_csrf_token_keeps_the_typed_text_and_posts_nothing(
    app, client, thread_id, token
):
    from forum.models import Post

    login(client, "alice")
    data = {"body": "My careful answer, typed for ten minutes.", "submit": "Post reply"}
    if token:
        data["csrf_token"] = token
    response = client.post(f"/t/{thread_id}/reply", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EXPIRED in html
    assert textarea(html) == "My careful answer, typed for ten minutes."
    assert count(app, Post) == 1


def test_resubmitting_the_rerendered_reply_posts_it(app, client, thread_id):
    from forum.models import Post

    login(client, "alice")
    data = {"body": "Second try works.", "submit": "Post reply"}
    client.post(f"/t/{thread_id}/reply", data=data | {"csrf_token": "forged"})
    response = post_form(client, f"/t/{thread_id}/reply", data)
    assert response.headers["Location"] == f"/t/{thread_id}-tokens#p2"
    assert count(app, Post) == 2


def test_new_thread_with_a_bad_csrf_token_keeps_subject_and_text_and_posts_nothing(
    app, client, member, board
):
    from forum.models import Thread

    login(client, "alice")
    data = {"board": str(board), "subject": "My question", "body": "All the details."}
    response = client.post("/new", data=data | {"csrf_token": "forged", "submit": "Post"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert EXPIRED in html
    assert input_value(html, "subject") == "My question"
    assert textarea(html) == "All the details."
    assert count(app, Thread) == 0


def test_change_password_with_a_bad_csrf_token_rerenders_and_changes_nothing(app, client, member):
    login(client, "alice")
    data = {"current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"}
    response = client.post("/settings/password", data=data | {"csrf_token": "forged"})
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    assert login(app.test_client(), "alice", DEFAULT_PASSWORD).headers["Location"] == "/"


def test_kudos_with_a_bad_csrf_token_gives_no_kudos(app, client, member, other_member, thread_id):
    from forum.models import Kudos

    login(client, "bob")
    client.post("/p/1/kudos", data={"csrf_token": "forged"})
    assert count(app, Kudos) == 0


@pytest.fixture
def https_client(make_app, member):
    """A browser on the same database, served by an app configured for HTTPS."""
    return make_app(HTTPS=True).test_client()


HTTPS = "https://localhost"


def https_post(client, url: str, data: dict, referer: str | None = f"{HTTPS}/"):
    """Post a form over HTTPS with the session's token, from the page a Referer names."""
    page = client.get("/login", base_url=HTTPS, follow_redirects=True)  # home once logged in
    match = CSRF_RE.search(page.get_data(as_text=True))
    headers = {"Referer": referer} if referer else {}
    data = {"csrf_token": match[1] or match[2], **data}
    return client.post(url, data=data, base_url=HTTPS, headers=headers)


@pytest.mark.parametrize(
    "referer", [None, "https://evil.example/login"], ids=["no-referer", "other-site"]
)
def test_https_login_with_a_good_token_from_elsewhere_rerenders_the_form(
    app, https_client, referer
):
    from forum.models import MemberSession

    data = {"handle": "alice", "password": DEFAULT_PASSWORD}
    response = https_post(https_client, "/login", data, referer)
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    assert count(app, MemberSession) == 0


def test_https_reply_with_a_good_token_from_another_site_posts_nothing(
    app, https_client, thread_id
):
    from forum.models import Post

    login_data = {"handle": "alice", "password": DEFAULT_PASSWORD}
    assert https_post(https_client, "/login", login_data).headers["Location"] == "/"
    data = {"body": "Posted from elsewhere", "submit": "Post reply"}
    response = https_post(https_client, f"/t/{thread_id}/reply", data, "https://evil.example/")
    assert response.status_code == 400
    assert textarea(response.get_data(as_text=True)) == "Posted from elsewhere"
    assert count(app, Post) == 1


# Security headers


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in directives}


RESPONSES = {
    "page": "/login",
    "404": "/no/such/page",
    "redirect": "/settings/password",
    "405": "/logout",
    "static": "/static/forum.css",
}


def fetch(client, kind: str):
    response = client.get(RESPONSES[kind])
    response.close()  # a static file's body is a file left open until closed
    return response


@pytest.mark.parametrize("kind", RESPONSES)
def test_content_security_policy_allows_no_inline_script(client, kind):
    response = fetch(client, kind)
    directives = csp_directives(response)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


@pytest.mark.parametrize("kind", RESPONSES)
def test_every_response_says_nosniff_and_sets_a_referrer_policy(client, kind):
    response = fetch(client, kind)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_header_tests_check_pages_errors_redirects_and_static_files(client):
    assert fetch(client, "page").status_code == 200
    assert fetch(client, "404").status_code == 404
    assert fetch(client, "redirect").headers["Location"].startswith("/login")
    assert fetch(client, "405").status_code == 405
    assert fetch(client, "static").status_code == 200


# Request size


def test_request_body_over_the_limit_gets_413(app, client):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data={"csrf_token": csrf_token(client), "handle": big})
    assert response.status_code == 413
    assert "That was too large to send." in response.get_data(as_text=True)


def test_413_page_has_the_security_headers(app, client):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/register", data={"handle": big})
    assert response.status_code == 413
    assert "'unsafe-inline'" not in csp_directives(response)["script-src"]


def test_reply_over_the_request_limit_gets_413_and_posts_nothing(app, client, thread_id):
    from forum.models import Post

    login(client, "alice")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = post_form(client, f"/t/{thread_id}/reply", {"body": big, "submit": "Post reply"})
    assert response.status_code == 413
    assert count(app, Post) == 1


# No inline script on any page


class ScriptAudit(HTMLParser):
    """Inline <script> elements and on...= event-handler attributes in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.problems.append("inline <script>")
        for name, _value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (_value or "").lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL in {name} on <{tag}>")


def inline_script(html: str) -> list[str]:
    audit = ScriptAudit()
    audit.feed(html)
    audit.close()
    return audit.problems


def test_script_audit_catches_what_it_looks_for():
    assert inline_script('<script>alert(1)</script><a href="#" onclick="x()">') == [
        "inline <script>",
        "onclick= on <a>",
    ]


ANONYMOUS_PAGES = [
    "/",
    "/login",
    "/register",
    "/b/freelancers",
    "/latest",
    "/unanswered",
    "/search?q=start",
    "/no/such/page",
]
MEMBER_PAGES = ["/", "/new", "/members/alice", "/settings/password", "/b/freelancers"]


@pytest.mark.parametrize("page", ANONYMOUS_PAGES)
def test_anonymous_pages_have_no_inline_script(client, thread_id, page):
    html = client.get(page).get_data(as_text=True)
    assert "</html>" in html
    assert inline_script(html) == []


@pytest.mark.parametrize("page", MEMBER_PAGES)
def test_member_pages_have_no_inline_script(client, thread_id, page):
    login(client, "alice")
    html = client.get(page).get_data(as_text=True)
    assert "</html>" in html
    assert inline_script(html) == []


def test_thread_and_reply_pages_have_no_inline_script(client, thread_id):
    login(client, "alice")
    for page in (f"/t/{thread_id}-tokens", f"/t/{thread_id}/reply"):
        html = client.get(page).get_data(as_text=True)
        assert "Tokens" in html
        assert inline_script(html) == [], page


def test_preview_and_error_rerenders_have_no_inline_script(client, thread_id):
    login(client, "alice")
    url = f"/t/{thread_id}/reply"
    preview = post_form(client, url, {"body": "**bold** :)", "preview": "Preview"})
    assert "<strong>bold</strong>" in preview.get_data(as_text=True)
    refused = post_form(client, url, {"body": "   ", "submit": "Post reply"})
    assert refused.status_code == 400
    for response in (preview, refused):
        assert inline_script(response.get_data(as_text=True)) == []
