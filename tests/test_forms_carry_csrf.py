"""Every form a page shows carries its CSRF token, so pressing its button works in a browser.

The role matrix posts with a token read from another page; this reads each form's own. (An
imported macro named like the page's form variable once shadowed it, leaving the report queue's
and the rank list's buttons without a token.)
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import HeldPost, Post, Report
from tests.builders import make_member, make_thread
from tests.pages import login

FORM = re.compile(r'<form[^>]*method="post"[^>]*>.*?</form>', flags=re.S | re.I)
ACTION = re.compile(r'action="([^"]*)"')
TOKEN = re.compile(r'name="(?:[\w-]+-)?csrf_token"')

PAGES = [
    "/",
    "/b/freelancers",
    "/t/1",
    "/members/bob",
    "/members/settings",
    "/notifications",
    "/notifications/settings",
    "/moderation/reports",
    "/moderation/queue",
    "/moderation/settings",
    "/moderation/audit",
    "/moderation/members/bob/remove-spammer",
    "/moderation/threads/1/merge",
    "/moderation/spammers",
    "/moderation/registrations",
    "/moderation/boards",
    "/moderation/boards/1",
    "/moderation/ranks",
    "/moderation/badges",
    "/moderation/badges/new",
]


@pytest.fixture
def admin_on_a_busy_forum(app, client, member, other_member, board):
    make_thread(app, member, board, replies=1, reply_author_id=other_member)
    with app.app_context():
        reply = db.session.scalar(select(Post.id).where(Post.position == 2))
        db.session.add(Report(post_id=reply, reporter_id=member, reason="spam"))
        db.session.add(
            HeldPost(author_id=member, thread_id=1, body_source="Held", body_html="<p>Held</p>")
        )
        db.session.commit()
    make_member(app, "boss", role="admin")
    login(client, "boss")
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_post_form_on_the_page_carries_a_csrf_token(admin_on_a_busy_forum, page):
    response = admin_on_a_busy_forum.get(page, follow_redirects=True)
    assert response.status_code == 200, page
    forms = FORM.findall(response.get_data(as_text=True))
    assert forms, f"no form on {page}"
    missing = [ACTION.search(form)[1] for form in forms if not TOKEN.search(form)]
    assert missing == []
