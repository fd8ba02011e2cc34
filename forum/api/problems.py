"""Errors as application/problem+json (RFC 9457), for every failure under /api/v1 only."""

from __future__ import annotations

from flask import Flask, Response, json, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from forum.errors import EditWindowClosed, ForumError, InvalidInput, ThreadLocked
from forum.extensions import retry_after

PREFIX = "/api/v1"
MEDIA_TYPE = "application/problem+json"


def is_api_request() -> bool:
    """Whether this request is the API's: its errors are problems, not HTML pages."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One problem document: type about:blank, so the title is the status's own phrase."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status, mimetype=MEDIA_TYPE, headers=headers)
    return response


def field_errors(messages: dict) -> dict[str, list[str]]:
    """webargs' {"json": {"subject": ["..."]}} as {"subject": ["..."]}: the field is the key."""
    merged: dict[str, list[str]] = {}
    for fields in messages.values():
        for name, texts in fields.items():
            if isinstance(texts, dict):  # a nested field or list item: "name.key"
                for key, nested in field_errors({"": texts}).items():
                    merged.setdefault(f"{name}.{key}", []).extend(nested)
            else:
                merged.setdefault(name, []).extend(texts)
    return merged


def from_http_error(error: HTTPException) -> Response:
    if error.code == 304:  # a conditional GET: no body at all
        return Response(status=304)
    data = getattr(error, "data", None) or {}
    if error.code == 422 and "messages" in data:
        errors = field_errors(data["messages"])
        return problem(422, "The request has invalid fields.", errors=errors)
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    detail = data.get("message") or error.description
    if error.response is not None and error.response.headers.get("WWW-Authenticate"):
        headers["WWW-Authenticate"] = error.response.headers["WWW-Authenticate"]
    return problem(error.code or 500, detail, headers=headers)


def from_csrf_error(error: CSRFError) -> Response:
    return problem(
        400, f"{error.description} Send the session's CSRF token as the X-CSRFToken header."
    )


def from_forum_error(error: ForumError) -> Response:
    """A service's refusal, with its own words (the ones the HTML pages show)."""
    if isinstance(error, InvalidInput):
        field = getattr(error, "field", None) or "body"
        return problem(422, str(error), errors={field: [str(error)]})
    if isinstance(error, ThreadLocked | EditWindowClosed):
        return problem(409, str(error))
    return problem(403, str(error))


def from_rate_limit(error: RateLimitExceeded) -> Response:
    wait = retry_after()
    detail = error.description if error.limit.error_message else "Too many requests."
    return problem(
        429, f"{detail} Try again in {wait} seconds.", headers={"Retry-After": str(wait)}
    )


def register(app_or_blueprint: Flask) -> None:
    """The handlers, on the API blueprint (the HTML app keeps its error pages)."""
    app_or_blueprint.register_error_handler(CSRFError, from_csrf_error)
    app_or_blueprint.register_error_handler(RateLimitExceeded, from_rate_limit)
    app_or_blueprint.register_error_handler(HTTPException, from_http_error)
    app_or_blueprint.register_error_handler(ForumError, from_forum_error)
