"""Hostile input posted as threads and replies: the pages never fail and nothing executable survives.

The payload lists (tests/data/attack/) were written outside the project. Most payloads go in through
the posting service, a few dozen through the real forms; every resulting thread page is then read
back and its post bodies audited with html.parser.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.markup import EMOTICON_PATH
from forum.models import Post, Thread
from tests.builders import make_thread
from tests.databases import db_count, db_scalar
from tests.pages import SITE_SCRIPTS, login, post_form

ATTACK = Path(__file__).parents[1] / "data" / "attack"
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "svg", "style", "form", "math", "frame"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcset", "poster"}
LINK_SCHEMES = {"http", "https", "mailto"}
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
# Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def payloads(path: Path, comments: str | None = None) -> list[str]:
    """Every line that has something to post (blank lines would be refused as empty posts)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return [line for line in lines if line.strip() and not (comments and line.startswith(comments))]


XSS = {path.stem: payloads(path) for path in sorted((ATTACK / "xss").glob("*.txt"))}
BLNS = payloads(ATTACK / "blns" / "blns.txt", comments="#")
BLNS_SAMPLE = BLNS[::2]
ALL_XSS = [line for lines in XSS.values() for line in lines]
# A few dozen spread over every list, for the slower trip through the real forms.
FORM_SAMPLE = ALL_XSS[::50] + BLNS[::40]


class PostBodyAudit(HTMLParser):
    """Audits what sits inside every <div class="post-body"> of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # open elements inside the current post body; 0 = outside
        self.bodies = 0
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.audit(tag, attrs)
            if tag not in VOID_TAGS:
                self.depth += 1
        elif tag == "div" and "post-body" in (dict(attrs).get("class") or "").split():
            self.depth = 1
            self.bodies += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.audit(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID_TAGS:
            self.depth -= 1

    def audit(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{name} attribute on <{tag}>")
            elif name in URL_ATTRIBUTES:
                url = _IGNORED_IN_URL.sub("", value or "")
                scheme = _SCHEME.match(url)
                if name == "src":
                    if not url.startswith(("https://", EMOTICON_PATH)):
                        self.problems.append(f"src={value!r} on <{tag}>")
                elif scheme and scheme[1].lower() not in LINK_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")


def audit_page(html: str) -> tuple[int, list[str]]:
    """How many post bodies the page shows, and what in them could run script."""
    parser = PostBodyAudit()
    parser.feed(html)
    parser.close()
    return parser.bodies, parser.problems


@contextmanager
def index_once_at_the_end(app):
    """As make_thread does: the index catches up in one drain, not after every post."""
    from forum.search import get_search

    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False
    try:
        yield
    finally:
        app.config["SEARCH_DRAIN_AFTER_COMMIT"] = True
    get_search(app).drain()


def post_replies(app, thread_id: int, author_id: int, bodies: list[str]) -> None:
    """Reply through the posting service: the same rules and renderer as the form, without HTTP."""
    from forum.extensions import db
    from forum.models import Member
    from forum.threads import services

    with index_once_at_the_end(app), app.app_context():
        author = db.session.get(Member, author_id)
        thread = db.session.get(Thread, thread_id)
        for body in bodies:
            services.reply(author, thread, body)


def audit_thread(client, thread_id: int) -> tuple[list[str], int]:
    """Read every page of the thread (each must answer 200); returns the problems found in the
    post bodies and how many post bodies were shown."""
    first = client.get(f"/t/{thread_id}")
    assert first.status_code == 301, first.status_code
    url = first.headers["Location"]
    problems: list[str] = []
    page, shown = 1, 0
    while True:
        response = client.get(f"{url}?page={page}" if page > 1 else url)
        if response.status_code == 404 and page > 1:
            break
        assert response.status_code == 200, f"page {page}: {response.status_code}"
        bodies, found = audit_page(response.get_data(as_text=True))
        problems += [f"page {page}: {problem}" for problem in found]
        shown += bodies
        page += 1
    return problems, shown


def open_thread(client, board: int, subject: str, body: str = "Body") -> str:
    """Ask a question through the real form; returns the thread's URL."""
    response = post_form(client, "/new", {"board": board, "subject": subject, "body": body})
    assert response.headers["Location"].startswith("/t/"), response.status_code
    return response.headers["Location"]


def thread_id_of(url: str) -> int:
    return int(re.match(r"/t/(\d+)-", url)[1])


def thread_of_payloads(app, member: int, board: int, bodies: list[str]) -> int:
    thread_id = make_thread(app, member, board, subject="Payloads", body="Opening post")
    post_replies(app, thread_id, member, bodies)
    return thread_id


@pytest.mark.parametrize("name", sorted(XSS))
def test_xss_payloads_as_replies_leave_nothing_executable(app, client, member, board, name):
    thread_id = thread_of_payloads(app, member, board, XSS[name])
    problems, shown = audit_thread(client, thread_id)
    assert problems == []
    assert shown == len(XSS[name]) + 1  # every post was saved and shown


def test_naughty_strings_as_replies_leave_nothing_executable(app, client, member, board):
    thread_id = thread_of_payloads(app, member, board, BLNS_SAMPLE)
    problems, shown = audit_thread(client, thread_id)
    assert problems == []
    assert shown == len(BLNS_SAMPLE) + 1


def test_payloads_posted_through_the_reply_form_leave_nothing_executable(
    app, client, member, board
):
    thread_id = make_thread(app, member, board, subject="Form payloads")
    login(client, "alice")
    with index_once_at_the_end(app):
        for n, body in enumerate(FORM_SAMPLE, start=2):
            response = post_form(client, f"/t/{thread_id}/reply", {"body": body})
            assert response.headers.get("Location", "").endswith(f"#p{n}"), body
    problems, shown = audit_thread(client, thread_id)
    assert problems == []
    assert shown == len(FORM_SAMPLE) + 1


def test_payloads_opening_threads_through_the_form_leave_nothing_executable(
    app, client, member, board
):
    login(client, "alice")
    for payload in FORM_SAMPLE[::3]:
        url = open_thread(client, board, payload[:200], payload)
        problems, shown = audit_thread(client, thread_id_of(url))
        assert problems == [] and shown == 1, (payload, problems)
        subject = text_of(client.get(url).get_data(as_text=True), "h1", "thread-subject")
        assert subject == " ".join(payload[:200].split()), payload


def test_the_audit_finds_what_it_looks_for():
    page = (
        '<div class="post-body"><p>fine <a href="https://example.com">link</a></p>'
        '<img src="/static/emoticons/smiley-happy.svg" alt="Smiley Happy"></div>'
        '<div class="post-body"><script>x</script><a href="jav&#x09;ascript:alert(1)">a</a>'
        '<img src="http://x/y.png" onerror="alert(1)"><p style="color:red">s</p></div>'
        "<script>outside the post bodies</script>"
    )
    bodies, problems = audit_page(page)
    assert bodies == 2
    assert problems == [
        "<script> element",
        r"href='jav\tascript:alert(1)' on <a>",
        "src='http://x/y.png' on <img>",
        "onerror attribute on <img>",
        "style attribute on <p>",
    ]


def test_previewing_payloads_leaves_nothing_executable(app, client, member, board):
    thread_id = make_thread(app, member, board)
    login(client, "alice")
    for body in FORM_SAMPLE:
        response = post_form(client, f"/t/{thread_id}/reply", {"body": body, "preview": "Preview"})
        assert response.status_code == 200, body
        bodies, problems = audit_page(response.get_data(as_text=True))
        assert bodies == 1 and problems == [], (body, problems)
    assert db_count(app, Post) == 1


class TextOf(HTMLParser):
    """The text of the first element matching a tag and class."""

    def __init__(self, tag: str, css_class: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.css_class = tag, css_class
        self.depth, self.done, self.parts = 0, False, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in VOID_TAGS
        elif not self.done and tag == self.tag:
            classes = (dict(attrs).get("class") or "").split()
            if self.css_class is None or self.css_class in classes:
                self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID_TAGS:
            self.depth -= 1
            self.done = self.done or not self.depth

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(html: str, tag: str, css_class: str | None = None) -> str:
    parser = TextOf(tag, css_class)
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def test_script_subject_is_shown_as_text_everywhere(app, client, member, board):
    login(client, "alice")
    url = open_thread(client, board, "<script>alert(1)</script>")
    pages = {
        "thread": client.get(url).get_data(as_text=True),
        "board": client.get("/b/freelancers").get_data(as_text=True),
        "index": client.get("/").get_data(as_text=True),
        "reply": client.get(f"/t/{thread_id_of(url)}/reply").get_data(as_text=True),
    }
    for name, html in pages.items():
        scripts = set(re.findall(r"<script[^>]*>", html, flags=re.IGNORECASE))
        assert scripts <= SITE_SCRIPTS, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
    assert text_of(pages["thread"], "h1", "thread-subject") == "<script>alert(1)</script>"
    assert text_of(pages["board"], "a", "thread-link") == "<script>alert(1)</script>"


def test_template_expression_subject_is_shown_literally(app, client, member, board):
    login(client, "alice")
    url = open_thread(client, board, "{{7*7}} and {% raw %}", body="{{7*7}} in the body")
    html = client.get(url).get_data(as_text=True)
    subject = text_of(html, "h1", "thread-subject")
    assert subject == "{{7*7}} and {% raw %}"
    assert "49" not in subject
    assert "49" not in text_of(html, "title")
    assert text_of(html, "h2", "post-subject").startswith("{{7*7}} and {% raw %}")
    assert text_of(html, "div", "post-body") == "{{7*7}} in the body"


def test_template_injection_subjects_are_shown_as_typed(app, client, member, board):
    login(client, "alice")
    subjects = [line[:200] for line in payloads(ATTACK / "ssti" / "ssti.fuzz")]
    with index_once_at_the_end(app):
        urls = [open_thread(client, board, subject) for subject in subjects]
    for subject, url in zip(subjects, urls, strict=True):
        html = client.get(url).get_data(as_text=True)
        assert text_of(html, "h1", "thread-subject") == " ".join(subject.split())


def test_nul_character_in_a_reply_is_stored_as_a_replacement_character(app, client, member, board):
    thread_id = make_thread(app, member, board)
    login(client, "alice")
    response = post_form(client, f"/t/{thread_id}/reply", {"body": "before\x00after"})
    assert response.headers["Location"] == f"/t/{thread_id}-how-do-i-start#p2"
    body = db_scalar(app, select(Post.body_source).where(Post.position == 2))
    assert body == "before\ufffdafter"


def test_nul_character_in_a_subject_is_stored_as_a_replacement_character(
    app, client, member, board
):
    login(client, "alice")
    open_thread(client, board, "Odd\x00subject", body="body\x00too")
    assert db_scalar(app, select(Thread.subject)) == "Odd\ufffdsubject"
