"""Moderation lists come a page at a time, however long the queue grows."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Post, Report
from tests.builders import make_thread
from tests.pages import login


def add_reports(app, reporter_id: int, post_id: int, count: int) -> None:
    with app.app_context():
        db.session.add_all(
            Report(post_id=post_id, reporter_id=reporter_id, reason=f"report number {n:03}")
            for n in range(count)
        )
        db.session.commit()


def test_the_report_queue_shows_fifty_a_page_oldest_first(app, client, member, moderator, board):
    thread_id = make_thread(app, member, board, subject="Reported")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.thread_id == thread_id))
    add_reports(app, member, post_id, 51)
    login(client, "maude")
    first = client.get("/moderation/reports").get_data(as_text=True)
    assert first.count('<li class="report">') == 50
    assert "report number 000" in first and "report number 050" not in first
    assert 'href="/moderation/reports?page=2"' in first
    second = client.get("/moderation/reports?page=2").get_data(as_text=True)
    assert second.count('<li class="report">') == 1 and "report number 050" in second
    assert client.get("/moderation/reports?page=3").status_code == 404


def test_an_empty_list_has_one_page_and_no_page_links(client, moderator):
    login(client, "maude")
    page = client.get("/moderation/reports").get_data(as_text=True)
    assert "No open reports." in page and "?page=2" not in page
    assert client.get("/moderation/audit?page=2").status_code == 404
