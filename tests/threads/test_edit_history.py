"""Edit history: every edit keeps the version it replaced; the author and moderators can read it."""

from __future__ import annotations

import re

from forum.extensions import db
from forum.models import Post
from forum.threads import history
from tests.databases import count_queries, post_id_at
from tests.pages import login, post_form


def edit(client, post_id: int, body: str, subject: str = "How do I start?"):
    """Edit the thread fixture's opening post (its form asks for the subject too)."""
    response = post_form(client, f"/p/{post_id}/edit", {"body": body, "subject": subject})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def versions(html: str) -> list[str]:
    return re.findall(r'<section class="revision".*?</section>', html, flags=re.S)


def test_each_edit_keeps_the_version_it_replaced_with_who_wrote_it(app, client, thread, moderator):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    edit(client, post_id, "Opening post, with more detail", "How do I begin?")
    login(client, "maude")
    edit(client, post_id, "Opening post, with detail", "How do I begin?")
    html = client.get(f"/p/{post_id}/history").get_data(as_text=True)
    newest, middle, first = versions(html)
    assert "Version 3 (current)" in newest and "Edited by Maude M" in newest
    assert "<del>more </del>" in newest and "<ins>" not in newest
    assert "Version 2" in middle and "Edited by Alice A" in middle
    assert "Subject: <del>How do I start?</del> → <ins>How do I begin?</ins>" in middle
    assert "<del>post</del><ins>post, with more detail</ins>" in middle
    assert "Version 1 (as first posted)" in first and "Written by Alice A" in first
    assert "Opening post" in first


def test_word_changes_mark_what_went_and_what_came():
    changes = history.word_changes("the quick brown fox", "the slow brown fox jumps")
    assert [(c.kind, c.text) for c in changes] == [
        ("same", "the "),
        ("removed", "quick"),
        ("added", "slow"),
        ("same", " brown fox"),
        ("added", " jumps"),
    ]


def test_the_thread_page_links_the_history_for_its_author_and_moderators_only(
    app, client, thread, other_member, moderator
):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    assert "Edit history" not in client.get(f"/t/{thread}").get_data(as_text=True)  # not edited
    edit(client, post_id, "Changed once")
    link = f'<a class="post-edited" href="/p/{post_id}/history"'
    assert link in client.get(f"/t/{thread}", follow_redirects=True).get_data(as_text=True)
    login(client, "bob")
    assert link not in client.get(f"/t/{thread}", follow_redirects=True).get_data(as_text=True)
    assert client.get(f"/p/{post_id}/history").status_code == 403
    login(client, "maude")
    assert link in client.get(f"/t/{thread}", follow_redirects=True).get_data(as_text=True)
    post_form(client, "/logout")
    response = client.get(f"/p/{post_id}/history")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_removed_post_keeps_its_versions_for_moderators(app, client, thread, moderator):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    edit(client, post_id, "Secret second version")
    login(client, "maude")
    post_form(client, f"/moderation/posts/{post_id}/remove", {"reason": "spam"})
    with app.app_context():
        assert db.session.get(Post, post_id).is_removed
    html = client.get(f"/p/{post_id}/history").get_data(as_text=True)
    newest, first = versions(html)
    assert "Removed" in html and "<ins>Secret</ins>" in newest and "Opening post" in first


def test_history_text_is_escaped(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    edit(client, post_id, "<script>alert(1)</script> and <b>bold</b>")
    html = client.get(f"/p/{post_id}/history").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_unknown_post_has_no_history(app, client, member):
    login(client, "alice")
    assert client.get("/p/999/history").status_code == 404


def test_a_history_page_costs_the_same_queries_at_2_or_20_versions(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    counts = []
    for edits in (1, 19):
        for n in range(edits):
            edit(client, post_id, f"Version text {n}")
        with count_queries(app) as statements:
            assert client.get(f"/p/{post_id}/history").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
