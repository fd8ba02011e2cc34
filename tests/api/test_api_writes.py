"""The API's writes call the HTML app's services: same results, same refusals, same words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.database import utcnow
from forum.models import HeldPost, Kudos, Post, Subscription, Thread, WatchLevel
from tests.builders import hold_first_posts, make_member, make_thread
from tests.databases import db_count, db_scalar, db_update, post_id_at
from tests.pages import bearer, create_api_token, login


@pytest.fixture
def tokens(app, member, other_member, moderator) -> dict[str, dict]:
    """A write token's header for alice, bob and maude."""
    headers = {}
    for handle in ("alice", "bob", "maude"):
        browser = app.test_client()
        login(browser, handle)
        headers[handle] = bearer(create_api_token(browser))
    return headers


@pytest.fixture
def thread(app, board, member, other_member) -> int:
    """Alice asks; Bob replies (post 2)."""
    return make_thread(
        app, member, board, subject="Question", replies=1, reply_author_id=other_member
    )


def test_start_a_thread(app, client, tokens, board):
    data = {"board": "freelancers", "subject": "  Invoices   in euros ", "body": "How?"}
    response = client.post("/api/v1/threads", json=data, headers=tokens["alice"])
    made = response.get_json()
    assert response.status_code == 201 and made["subject"] == "Invoices in euros"
    assert made["post_count"] == 1 and made["board"] == "freelancers"
    opening = client.get(made["api_url"]).get_json()["posts"][0]
    assert "How?" in opening["body_html"]


def test_a_new_members_first_thread_and_reply_are_held_as_on_the_site(
    app, client, tokens, board, thread
):
    """202 with where its author sees it awaiting review; nothing public exists yet."""
    hold_first_posts(app)
    make_member(app, "newbie")
    browser = app.test_client()
    login(browser, "newbie")
    newbie = bearer(create_api_token(browser))
    threads_before = db_count(app, Thread)
    data = {"board": "freelancers", "subject": "First question", "body": "Hello all"}
    response = client.post("/api/v1/threads", json=data, headers=newbie)
    held = response.get_json()
    assert response.status_code == 202 and held["status"] == "pending"
    assert held["message"] == "Your post is awaiting review by a moderator."
    assert response.headers["Location"] == f"/held/{held['held_id']}"
    response = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "Me too"}, headers=newbie
    )
    assert response.status_code == 202
    assert db_count(app, Thread) == threads_before and db_count(app, HeldPost) == 2
    posts = client.get(f"/api/v1/threads/{thread}").get_json()["posts"]
    assert [p["position"] for p in posts] == [1, 2]


def test_start_a_thread_on_no_board_is_a_field_error(client, tokens, board):
    data = {"board": "nowhere", "subject": "S", "body": "B"}
    response = client.post("/api/v1/threads", json=data, headers=tokens["alice"])
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"board": ["No board has this slug."]}


def test_an_empty_body_has_the_forms_message(client, tokens, board):
    data = {"board": "freelancers", "subject": "S", "body": "   "}
    response = client.post("/api/v1/threads", json=data, headers=tokens["alice"])
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"body": ["A post needs some text."]}


def test_reply_lands_at_the_next_position(app, client, tokens, thread):
    response = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "Thanks"}, headers=tokens["alice"]
    )
    made = response.get_json()
    assert response.status_code == 201 and (made["position"], made["of"]) == (3, 3)
    assert made["subject"] == "Re: Question"
    assert response.headers["Location"] == f"/api/v1/posts/{made['id']}"


def test_reply_to_a_locked_thread_is_409_with_the_pages_words(app, client, tokens, thread):
    db_update(app, Thread, thread, is_locked=True)
    response = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "Hi"}, headers=tokens["bob"]
    )
    assert response.status_code == 409
    assert response.get_json()["detail"] == "This thread is locked; it takes no more replies."
    assert db_count(app, Post) == 2


def test_reply_to_a_hidden_thread_is_404(app, client, tokens, thread):
    db_update(app, Thread, thread, is_hidden=True)
    response = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "Hi"}, headers=tokens["bob"]
    )
    assert response.status_code == 404


def test_edit_own_post_and_the_subject_with_it(app, client, tokens, thread):
    opening = post_id_at(app, thread, 1)
    response = client.patch(
        f"/api/v1/posts/{opening}",
        json={"body": "Clearer", "subject": "Better"},
        headers=tokens["alice"],
    )
    assert response.status_code == 200 and "Clearer" in response.get_json()["body_html"]
    assert db_scalar(app, select(Thread.subject)) == "Better"


def test_editing_someone_elses_post_is_403(app, client, tokens, thread):
    response = client.patch(
        f"/api/v1/posts/{post_id_at(app, thread, 1)}", json={"body": "Mine"}, headers=tokens["bob"]
    )
    assert (
        response.status_code == 403
        and response.get_json()["detail"] == "You cannot edit this post."
    )


def test_editing_after_the_window_is_409(app, client, tokens, thread):
    reply = post_id_at(app, thread, 2)
    db_update(app, Post, reply, created_at=utcnow() - timedelta(hours=2))
    response = client.patch(f"/api/v1/posts/{reply}", json={"body": "Late"}, headers=tokens["bob"])
    assert response.status_code == 409
    assert response.get_json()["detail"] == "Posts can be edited for 30 minutes after posting."


def test_give_and_take_back_kudos(app, client, tokens, thread):
    reply = post_id_at(app, thread, 2)
    given = client.put(f"/api/v1/posts/{reply}/kudos", headers=tokens["alice"]).get_json()
    assert given == {"post_id": reply, "kudos": 1, "given": True}
    again = client.put(f"/api/v1/posts/{reply}/kudos", headers=tokens["alice"]).get_json()
    assert again["kudos"] == 1
    taken = client.delete(f"/api/v1/posts/{reply}/kudos", headers=tokens["alice"]).get_json()
    assert taken == {"post_id": reply, "kudos": 0, "given": False}
    assert db_count(app, Kudos) == 0


def test_kudos_to_your_own_post_is_403(app, client, tokens, thread):
    response = client.put(
        f"/api/v1/posts/{post_id_at(app, thread, 2)}/kudos", headers=tokens["bob"]
    )
    assert response.status_code == 403
    assert response.get_json()["detail"] == "You cannot give kudos to this post."


def test_the_asker_accepts_and_clears_a_solution(app, client, tokens, thread):
    reply = post_id_at(app, thread, 2)
    url = f"/api/v1/threads/{thread}/solution"
    accepted = client.put(url, json={"post_id": reply}, headers=tokens["alice"]).get_json()
    assert accepted == {"thread_id": thread, "solution_post_id": reply}
    assert client.get(f"/api/v1/posts/{reply}").get_json()["is_solution"] is True
    cleared = client.put(url, json={"post_id": None}, headers=tokens["alice"]).get_json()
    assert cleared["solution_post_id"] is None


def test_only_the_asker_or_a_moderator_accepts(app, client, tokens, thread):
    url = f"/api/v1/threads/{thread}/solution"
    refused = client.put(url, json={"post_id": post_id_at(app, thread, 2)}, headers=tokens["bob"])
    assert refused.status_code == 403
    by_moderator = client.put(
        url, json={"post_id": post_id_at(app, thread, 2)}, headers=tokens["maude"]
    )
    assert by_moderator.status_code == 200


def test_the_opening_post_cannot_be_the_solution(app, client, tokens, thread):
    url = f"/api/v1/threads/{thread}/solution"
    response = client.put(
        url, json={"post_id": post_id_at(app, thread, 1)}, headers=tokens["alice"]
    )
    assert response.status_code == 422
    assert response.get_json()["detail"] == "The solution must be a visible reply in this thread."


def test_watch_mute_and_unwatch(app, client, tokens, thread):
    url = f"/api/v1/threads/{thread}/watch"

    def level():
        return db_scalar(
            app,
            select(Subscription.level).where(
                Subscription.thread_id == thread, Subscription.member_id == 3
            ),
        )

    assert client.put(url, json={}, headers=tokens["maude"]).get_json()["level"] == "watching"
    assert level() == WatchLevel.WATCHING
    client.put(url, json={"level": "muted"}, headers=tokens["maude"])
    assert level() == WatchLevel.MUTED
    assert client.delete(url, headers=tokens["maude"]).get_json() == {
        "thread_id": thread,
        "level": None,
    }
    assert level() is None
    bad = client.put(url, json={"level": "loud"}, headers=tokens["maude"])
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["level"]


def test_unknown_fields_are_refused_so_a_misspelt_one_is_not_ignored(app, client, tokens, thread):
    response = client.post(
        f"/api/v1/threads/{thread}/posts",
        json={"body": "Hi", "author_id": 1, "kudos_count": 9999},
        headers=tokens["bob"],
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"author_id", "kudos_count"}
    assert db_count(app, Post) == 2


def test_the_settings_page_links_to_the_tokens(client, member):
    login(client, "alice")
    assert 'href="/settings/tokens"' in client.get("/members/settings").get_data(as_text=True)
