"""Pages as a browser submits and reads them: CSRF tokens, forms, logging in, parts of a page."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient

from tests.builders import DEFAULT_PASSWORD

CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)

# The site's own static scripts (the CSP allows no other kind): any other script tag is injected.
SITE_SCRIPTS = {
    '<script src="/static/timezone.js" defer>',
    '<script src="/static/drafts.js" defer>',
}


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """The CSRF token of the client's session, read from a real form (a logged-in member asking
    for /login is sent home, whose header holds the logout form)."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {page}"
    return match[1] or match[2]


def post_form(client: FlaskClient, url: str, data: dict | None = None, prefix: str = "", **kwargs):
    """Submit a form as a browser would: with the session's CSRF token (prefixed like its form)."""
    field = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={field: csrf_token(client), **(data or {})}, **kwargs)


def login(client: FlaskClient, handle: str, password: str = DEFAULT_PASSWORD, remember=False):
    """Log in through the real form."""
    data = {"handle": handle, "password": password}
    if remember:
        data["remember"] = "y"
    response = post_form(client, "/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def articles(html: str) -> list[str]:
    """The posts of a thread page, one HTML string each."""
    return re.findall(r"<article.*?</article>", html, flags=re.S)


def textarea(html: str, name: str = "body") -> str:
    """What a form's textarea holds, as the browser would show it."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, flags=re.S)
    assert match, f"no textarea {name!r}"
    text = unescape(match[1])
    return text[2:] if text.startswith("\r\n") else text  # WTForms opens with a line break


def field_error(html: str, field: str) -> str | None:
    """The message shown beside a form field, if any."""
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">(.*?)</p>', html)
    return unescape(match[1]) if match else None


TOKEN_RE = re.compile(r'id="new-token" type="text" readonly value="(forum_pat_[^"]+)"')


def create_api_token(client: FlaskClient, name: str = "my bot", write: bool = True) -> str:
    """Create a personal API token on the settings page, as a logged-in member would; its
    secret, read from the one page that shows it."""
    data = {"name": name, **({"write": "y"} if write else {})}
    response = post_form(client, "/settings/tokens", data)
    assert response.status_code == 201, response.get_data(as_text=True)[:2000]
    match = TOKEN_RE.search(response.get_data(as_text=True))
    assert match, "the new token is not shown"
    return match[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
