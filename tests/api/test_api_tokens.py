"""Personal API tokens: made and revoked on the settings page, shown once, stored hashed, sent
as Bearer; scopes, suspension, CSRF for cookie writes only, and rate limits per token or IP."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from forum.database import utcnow
from forum.extensions import db
from forum.models import ApiToken, Member, Thread
from tests.builders import make_member
from tests.databases import db_count, db_scalar, db_update
from tests.pages import bearer, create_api_token, csrf_token, login, post_form

NEW_THREAD = {"board": "freelancers", "subject": "Asked by a program", "body": "Hello"}


def test_a_token_is_shown_once_stored_hashed_and_listed_without_its_secret(app, client, member):
    login(client, "alice")
    secret = create_api_token(client, "help desk", write=False)
    assert secret.startswith("forum_pat_") and len(secret) > 40
    stored = db_scalar(app, select(ApiToken))
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.scopes == "read" and stored.name == "help desk"
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "help desk" in page and secret not in page and "never" in page


def test_token_lifecycle_create_use_last_used_revoke(app, client, member, board):
    login(client, "alice")
    secret = create_api_token(client)
    program = app.test_client()  # no cookies: the token alone
    created = program.post("/api/v1/threads", json=NEW_THREAD, headers=bearer(secret))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert db_scalar(app, select(Thread.author_id)) == member
    first_use = db_scalar(app, select(ApiToken.last_used_at))
    assert first_use is not None
    program.get("/api/v1/boards", headers=bearer(secret))
    assert db_scalar(app, select(ApiToken.last_used_at)) == first_use  # once a minute at most
    token_id = db_scalar(app, select(ApiToken.id))
    db_update(app, ApiToken, token_id, last_used_at=utcnow() - timedelta(minutes=2))
    program.get("/api/v1/boards", headers=bearer(secret))
    assert db_scalar(app, select(ApiToken.last_used_at)) > first_use
    revoked = post_form(client, f"/settings/tokens/{token_id}/revoke")
    assert revoked.headers["Location"] == "/settings/tokens"
    refused = program.get("/api/v1/boards", headers=bearer(secret))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in refused.get_json()["detail"]


def test_a_member_cannot_revoke_another_members_token(app, client, member, other_member):
    login(client, "alice")
    create_api_token(client)
    token_id = db_scalar(app, select(ApiToken.id))
    other = app.test_client()
    login(other, "bob")
    post_form(other, f"/settings/tokens/{token_id}/revoke")
    assert db_scalar(app, select(ApiToken.revoked_at)) is None


def test_a_nameless_token_is_refused_on_the_form(client, member):
    login(client, "alice")
    response = post_form(client, "/settings/tokens", {"name": "   "})
    assert response.status_code == 400


def test_a_made_up_or_malformed_token_is_401(client, board):
    for header in ("Bearer forum_pat_made-up", "Bearer nonsense", "Basic YWxpY2U6cHc="):
        response = client.get("/api/v1/boards", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_read_token_cannot_write(app, client, member, board):
    login(client, "alice")
    secret = create_api_token(client, write=False)
    program = app.test_client()
    response = program.post("/api/v1/threads", json=NEW_THREAD, headers=bearer(secret))
    assert response.status_code == 403
    assert "read scope" in response.get_json()["detail"]
    assert db_count(app, Thread) == 0


def test_a_suspended_members_token_cannot_write(app, client, member, board):
    login(client, "alice")
    secret = create_api_token(client)
    db_update(
        app, Member, member, suspended_until=utcnow() + timedelta(days=1), suspension_reason="rude"
    )
    program = app.test_client()
    response = program.put("/api/v1/threads/1/watch", json={}, headers=bearer(secret))
    assert response.status_code == 403 and "suspended" in response.get_json()["detail"]
    assert program.get("/api/v1/boards", headers=bearer(secret)).status_code == 200


def test_anonymous_writes_are_401_with_the_bearer_challenge(client, board):
    response = client.post("/api/v1/threads", json={"nothing": "valid"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="forum"'


def test_cookie_writes_need_the_csrf_header(app, client, member, board):
    login(client, "alice")
    refused = client.post("/api/v1/threads", json=NEW_THREAD)
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["detail"]
    assert db_count(app, Thread) == 0
    token = csrf_token(client, "/")
    made = client.post("/api/v1/threads", json=NEW_THREAD, headers={"X-CSRFToken": token})
    assert made.status_code == 201
    assert made.headers["Location"] == f"/api/v1/threads/{made.get_json()['id']}"


def test_token_writes_need_no_csrf_even_with_a_session_cookie(app, client, member, board):
    login(client, "alice")
    secret = create_api_token(client)
    response = client.post("/api/v1/threads", json=NEW_THREAD, headers=bearer(secret))
    assert response.status_code == 201


def test_a_token_is_the_member_it_belongs_to_whatever_the_cookie_says(app, client, member, board):
    make_member(app, "carol")
    login(client, "alice")
    secret = create_api_token(client)
    browser = app.test_client()
    login(browser, "carol")
    browser.post("/api/v1/threads", json=NEW_THREAD, headers=bearer(secret))
    with app.app_context():
        author = db.session.scalar(
            select(Member.handle).join(Thread, Thread.author_id == Member.id)
        )
    assert author == "alice"


# Rate limits (an app with limits on, as tests/test_rate_limits.py builds)


def test_anonymous_reads_are_limited_per_address_with_retry_after(make_app, board):
    limited = make_app(RATELIMIT_ENABLED=True, API_ANONYMOUS_RATE_LIMIT="2/minute")
    client = limited.test_client()
    assert [client.get("/api/v1/boards").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/boards")
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60 and f"{wait} seconds" in refused.get_json()["detail"]


def test_each_token_has_its_own_budget(app, make_app, member, other_member, board):
    limited = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2/minute")
    alice, bob = limited.test_client(), limited.test_client()
    login(alice, "alice")
    login(bob, "bob")
    secrets = [create_api_token(alice), create_api_token(bob)]
    program = limited.test_client()
    for _ in range(2):
        assert program.get("/api/v1/boards", headers=bearer(secrets[0])).status_code == 200
    assert program.get("/api/v1/boards", headers=bearer(secrets[0])).status_code == 429
    assert program.get("/api/v1/boards", headers=bearer(secrets[1])).status_code == 200


def test_posting_through_the_api_keeps_the_posting_limit(app, make_app, member, board):
    db_update(app, Member, member, created_at=utcnow() - timedelta(days=3))
    limited = make_app(RATELIMIT_ENABLED=True)
    browser = limited.test_client()
    login(browser, "alice")
    secret = create_api_token(browser)
    program = limited.test_client()
    first = program.post("/api/v1/threads", json=NEW_THREAD, headers=bearer(secret))
    assert first.status_code == 201
    second = program.post("/api/v1/threads", json=NEW_THREAD, headers=bearer(secret))
    assert second.status_code == 429
    assert second.get_json()["detail"].startswith("You are posting too fast.")
    assert "Retry-After" in second.headers
