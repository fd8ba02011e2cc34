"""Cross-cutting web concerns: engine setup, login loading, security headers, error pages."""

from __future__ import annotations

import math
import time

from flask import Flask, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from forum.database import configure_sqlite
from forum.extensions import db, limiter, login_manager
from forum.models import Member, MemberSession

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to do that."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_member)

    app.after_request(add_security_headers)
    app.register_error_handler(RateLimitExceeded, rate_limited)
    app.register_error_handler(HTTPException, http_error)
    app.context_processor(lambda: {"current_member": current_user})


def load_member(token: str) -> Member | None:
    """Find the member behind a login token; a deleted session row means logged out."""
    member = db.session.scalar(
        select(Member).join(MemberSession).where(MemberSession.token == token)
    )
    if member is not None:
        member.session_token = token
    return member


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def http_error(error: HTTPException):
    return render_template("errors/error.html", error=error), error.code


def rate_limited(error: RateLimitExceeded):
    """Say how long to wait and give the member back whatever they typed."""
    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    draft = request.form.get("body", "") if request.method == "POST" else ""
    response = render_template("errors/rate_limited.html", wait=wait, draft=draft)
    return response, 429, {"Retry-After": str(wait)}
