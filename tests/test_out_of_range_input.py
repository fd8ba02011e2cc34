"""Numbers and parts no column or form can hold are refused as missing pages or bad requests."""

from __future__ import annotations

import io

import pytest

from forum.extensions import db
from forum.models import Thread
from tests.builders import make_thread
from tests.databases import post_id_at
from tests.pages import csrf_token, login, post_form

HUGE = "9" * 23  # past 2**63: an OverflowError in the driver if it ever reached the database


@pytest.mark.parametrize(
    "url",
    [
        f"/t/{HUGE}",
        f"/t/{HUGE}-slug",
        f"/p/{HUGE}",
        f"/notifications/{HUGE}",
        "/b/freelancers?page=" + HUGE,
        "/b/freelancers?page=0",
        "/b/freelancers?page=two",
    ],
)
def test_numbers_out_of_range_in_a_url_are_a_404(client, demo, url):
    assert client.get(url).status_code == 404


def test_a_huge_page_of_a_thread_or_of_notifications_is_a_404(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Paged")
    login(client, "alice")
    assert client.get(f"/t/{thread_id}-paged?page={HUGE}").status_code == 404
    assert client.get(f"/notifications?page={HUGE}").status_code == 404


def test_a_huge_quote_id_leaves_the_reply_box_empty(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Quoting")
    login(client, "alice")
    response = client.get(f"/t/{thread_id}/reply?quote={HUGE}")
    assert response.status_code == 200
    assert "wrote" not in response.get_data(as_text=True)


def test_a_huge_solution_post_id_is_a_400_and_changes_nothing(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Solved?", replies=1)
    login(client, "alice")
    reply_id = post_id_at(app, thread_id, 2)
    assert post_form(client, f"/t/{thread_id}/solution", {"post_id": reply_id}).status_code == 302
    response = post_form(client, f"/t/{thread_id}/solution", {"post_id": HUGE})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Thread, thread_id).solution_post_id == reply_id


def test_a_file_where_the_reply_text_belongs_is_a_clear_400(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Files")
    login(client, "alice")
    token = csrf_token(client, f"/t/{thread_id}/reply")
    response = client.post(
        f"/t/{thread_id}/reply",
        data={"csrf_token": token, "body": (io.BytesIO(b"hello"), "body.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "takes text, not files" in response.get_data(as_text=True)
    assert client.get(f"/t/{thread_id}-files").get_data(as_text=True).count("Re: Files") == 0
