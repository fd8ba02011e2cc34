"""The API over real HTTP: urllib against gunicorn, a read and a token write."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from tests.servers import HttpMember


def call(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read() or b"null")


def test_a_program_reads_and_posts_over_http_with_a_token(api_server):
    base = api_server.base_url
    status, headers, boards = call(f"{base}/api/v1/boards")
    assert status == 200 and boards["boards"] and headers["ETag"]
    status, _, _ = call(f"{base}/api/v1/threads", "POST", {"subject": "x"})
    assert status == 401

    person = HttpMember(base)
    handle = api_server.handle
    login = {"handle": handle, "password": api_server.password}
    status, _, _ = person.submit("/login", "/login", login)
    assert status == 302
    status, page, _ = person.submit(
        "/settings/tokens", "/settings/tokens", {"name": "http test", "write": "y"}
    )
    assert status == 201
    token = re.search(r'value="(forum_pat_[^"]+)"', page)[1]

    new = {"board": boards["boards"][0]["slug"], "subject": "Over the wire", "body": "Hello"}
    status, headers, thread = call(f"{base}/api/v1/threads", "POST", new, token)
    assert status == 201, thread
    status, _, read = call(f"{base}{headers['Location']}")
    assert status == 200 and read["subject"] == "Over the wire"
    assert read["posts"][0]["author"]["handle"] == handle
