"""Cross-cutting web concerns: engine setup, login loading, security headers, error pages."""

from __future__ import annotations

from flask import Flask, abort, current_app, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from forum.api import problems
from forum.database import configure_sqlite
from forum.extensions import csrf, db, login_manager, retry_after
from forum.models import Member, MemberSession
from forum.text import storable

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DATABASE_INT_MAX = 2**63 - 1
MAX_PAGE = 1_000_000  # far past any listing's end; keeps OFFSET arithmetic inside 64 bits


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIntConverter  # before the blueprints add their rules
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to do that."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_member)

    app.before_request(refuse_file_parts)
    app.before_request(replace_nul_characters)
    app.before_request(check_kept_form_csrf)
    app.after_request(add_security_headers)
    app.register_error_handler(RateLimitExceeded, rate_limited)
    app.register_error_handler(HTTPException, http_error)
    app.context_processor(lambda: {"current_member": current_user})


class DatabaseIntConverter(IntegerConverter):
    """<int:...> in a URL: only numbers a 64-bit column can hold match, so /t/99999999999999999999
    is a 404 rather than an OverflowError in the database driver."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def database_int(text: str) -> int:
    """A number from a query string or form that a 64-bit column can hold; ValueError otherwise,
    so request.args.get(name, type=database_int) gives the default for anything else."""
    number = int(text)
    if abs(number) > DATABASE_INT_MAX:
        raise ValueError(f"{text[:20]} is out of range")
    return number


def page_arg() -> int:
    """?page=N for a listing: 1 to MAX_PAGE (absent means 1), anything else is no such page."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(404)
    return int(raw)


def load_member(token: str) -> Member | None:
    """Find the member behind a login token; a deleted session row means logged out."""
    member = db.session.scalar(
        select(Member).join(MemberSession).where(MemberSession.token == token)
    )
    if member is not None:
        member.session_token = token
    return member


def refuse_file_parts() -> None:
    """No form here takes a file: a file part where text belongs is a clear 400, not a form
    validator meeting a FileStorage (Flask-WTF merges request.files into the form data)."""
    if request.method == "POST" and request.mimetype == "multipart/form-data" and request.files:
        abort(400, "This form takes text, not files: type your message into the box.")


def replace_nul_characters() -> None:
    """NUL cannot be stored by PostgreSQL: show it as U+FFFD, as Markdown does, wherever typed."""
    if any("\x00" in value for value in request.args.values()):
        request.args = _without_nul(request.args)
    posted_form = request.method == "POST" and request.mimetype in FORM_MIMETYPES
    if posted_form and any("\x00" in value for value in request.form.values()):
        request.form = _without_nul(request.form)


def _without_nul(values) -> ImmutableMultiDict:
    return ImmutableMultiDict([(key, storable(value)) for key, value in values.items(multi=True)])


def keeps_form_on_csrf_failure(view):
    """Mark a view that answers a failed CSRF check itself rather than with a bare 400 page.

    A form view shows its form again with what the member typed and a note that the form had
    expired (templates/_macros/forms.html). Only for views that change nothing unless their
    FlaskForm validates: a failed check takes the token out of the submitted form, so it cannot.
    """
    view.keeps_form_on_csrf_failure = True
    return csrf.exempt(view)  # from Flask-WTF's blanket check: check_kept_form_csrf runs it


def check_kept_form_csrf() -> None:
    """Flask-WTF's whole CSRF check for the marked views; a failure becomes an error on the form."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "keeps_form_on_csrf_failure", False):
        return
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    try:
        csrf.protect()
    except CSRFError:
        if request.mimetype not in FORM_MIMETYPES:
            raise
        # The token may be right and only the Referer (over HTTPS) wrong: drop the token anyway.
        form = request.form.copy()
        form.poplist(current_app.config["WTF_CSRF_FIELD_NAME"])
        request.form = ImmutableMultiDict(form)


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def http_error(error: HTTPException):
    """An error page; under /api/v1 a problem document, also for URLs no API view matched
    (the API blueprint's own handlers see only errors raised in its views)."""
    if problems.is_api_request():
        return problems.from_http_error(error)
    return render_template("errors/error.html", error=error), error.code


def rate_limited(error: RateLimitExceeded):
    """Say how long to wait and give the member back whatever they typed."""
    wait = retry_after()
    draft = request.form.get("body", "") if request.method == "POST" else ""
    reason = error.description if error.limit.error_message else ""  # the limit's own words
    response = render_template("errors/rate_limited.html", wait=wait, draft=draft, reason=reason)
    return response, 429, {"Retry-After": str(wait)}
