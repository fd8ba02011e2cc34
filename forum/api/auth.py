"""Who an API request is: a Bearer token, else the cookie session (with its CSRF check on
writes), else anonymous; what a write needs; and the rate-limit key and limits."""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user
from flask_smorest import abort

from forum import permissions
from forum.api import tokens
from forum.extensions import csrf
from forum.threads.services import cannot_post_reason

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def refuse(detail: str, error: str | None = "invalid_token"):
    """401 with the Bearer challenge (RFC 6750), so a client knows a token is what it needs."""
    challenge = 'Bearer realm="forum"' + (f', error="{error}"' if error else "")
    abort(401, message=detail, headers={"WWW-Authenticate": challenge})


def request_token():
    """The live token the request's Bearer header names (None without one), found once per
    request; it then stands for its member as current_user (cookies are ignored). 401 for a bad
    one. Called by the rate limiter's key too, which runs before the blueprint's hooks."""
    if "api_token" in g:
        return g.api_token
    g.api_token = None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        refuse("Send a personal API token as 'Authorization: Bearer <token>'.")
    token = tokens.token_for(secret.strip())
    if token is None:
        refuse("This token is not valid: it was revoked, or never existed.")
    g.api_token = token
    g._login_user = token.member  # Flask-Login's current_user, for this request only
    return token


def authenticate() -> None:
    """Before every API view. A token request skips CSRF: a page on another site cannot make a
    browser send the header. A logged-in cookie session must prove its writes (X-CSRFToken)."""
    token = request_token()
    if token is not None:
        tokens.note_used(token)
    elif request.method in UNSAFE_METHODS and current_user.is_authenticated:
        csrf.protect()


def require_write() -> None:
    """A write needs a member (token with the write scope, or a cookie session) who may post."""
    if not current_user.is_authenticated:
        refuse("Writing needs a personal API token with the write scope.", error=None)
    token = request_token()
    if token is not None and not token.can_write:
        abort(403, message="This token has only the read scope; create one with write.")
    if not permissions.can_post(current_user):
        abort(403, message=cannot_post_reason(current_user))


def rate_limit_key() -> str:
    """Per token, else per logged-in member, else per client address."""
    token = request_token()
    if token is not None:
        return f"token:{token.id}"
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return f"ip:{request.remote_addr}"


def rate_limit() -> str:
    """FORUM_API_RATE_LIMIT for members, FORUM_API_ANONYMOUS_RATE_LIMIT for everyone else."""
    request_token()
    if current_user.is_authenticated:
        return current_app.config["API_RATE_LIMIT"]
    return current_app.config["API_ANONYMOUS_RATE_LIMIT"]
