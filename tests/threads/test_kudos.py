"""Kudos: one per member per post, never to yourself, taken back at will, counted exactly."""

from __future__ import annotations

import re

from sqlalchemy import select

from forum.models import Kudos, Post, Thread
from tests.builders import make_member, make_thread
from tests.databases import db_count, db_scalar, db_update, member_value, post_id_at
from tests.pages import articles, login, post_form

THREAD_URL = "/t/{}-how-do-i-start"


def give(client, post_id: int, extra=None):
    return post_form(client, f"/p/{post_id}/kudos", extra)


def take_back(client, post_id: int):
    return post_form(client, f"/p/{post_id}/kudos/take-back")


def kudos_count(app, post_id: int) -> int:
    return db_scalar(app, select(Post.kudos_count).where(Post.id == post_id))


def opening_post(client, thread_id: int) -> str:
    return articles(client.get(THREAD_URL.format(thread_id)).get_data(as_text=True))[0]


def shown_count(post_html: str) -> int:
    return int(re.search(r'<span class="kudos-count"[^>]*>(\d+) Kudos</span>', post_html)[1])


def shown_author_kudos(post_html: str) -> int:
    return int(re.search(r'<span class="author-kudos">Kudos: (\d+)</span>', post_html)[1])


def test_giving_kudos_lands_back_on_the_post(app, client, thread, other_member):
    login(client, "bob")
    response = give(client, post_id_at(app, thread, 1))
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"


def test_kudos_count_on_the_page_goes_from_0_to_1(app, client, thread, other_member):
    login(client, "bob")
    assert shown_count(opening_post(client, thread)) == 0
    give(client, post_id_at(app, thread, 1))
    assert shown_count(opening_post(client, thread)) == 1


def test_given_kudos_turns_the_button_into_take_back(app, client, thread, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    before = opening_post(client, thread)
    assert f'<form action="/p/{post_id}/kudos" method="post"' in before
    assert ">Give kudos</button>" in before
    give(client, post_id)
    after = opening_post(client, thread)
    assert f'<form action="/p/{post_id}/kudos/take-back" method="post"' in after
    assert ">Take back kudos</button>" in after
    assert ">Give kudos</button>" not in after


def test_second_kudos_from_the_same_member_is_a_no_op(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    give(client, post_id)
    response = give(client, post_id)
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"
    assert kudos_count(app, post_id) == 1
    assert db_count(app, Kudos, Kudos.post_id == post_id) == 1
    assert member_value(app, member, "kudos_received") == 1
    assert shown_count(opening_post(client, thread)) == 1


def test_kudos_from_two_members_count_two(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    make_member(app, "carol")
    for handle in ("bob", "carol"):
        login(client, handle)
        give(client, post_id)
        post_form(client, "/logout")
    assert kudos_count(app, post_id) == 2
    assert member_value(app, member, "kudos_received") == 2


def test_kudos_on_your_own_post_is_forbidden(app, client, thread, member):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    assert give(client, post_id).status_code == 403
    assert kudos_count(app, post_id) == 0
    assert db_count(app, Kudos) == 0
    assert member_value(app, member, "kudos_received") == 0


def test_own_post_offers_no_kudos_button(client, thread, member):
    login(client, "alice")
    assert "kudos</button>" not in opening_post(client, thread)


def test_take_back_decrements_the_post_and_the_author(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    give(client, post_id)
    response = take_back(client, post_id)
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"
    assert kudos_count(app, post_id) == 0
    assert member_value(app, member, "kudos_received") == 0
    assert db_count(app, Kudos) == 0
    assert ">Give kudos</button>" in opening_post(client, thread)


def test_take_back_without_a_kudos_changes_nothing(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    make_member(app, "carol")
    login(client, "carol")
    give(client, post_id)
    post_form(client, "/logout")
    login(client, "bob")
    take_back(client, post_id)
    assert kudos_count(app, post_id) == 1
    assert member_value(app, member, "kudos_received") == 1
    assert db_count(app, Kudos) == 1


def test_taking_back_twice_decrements_once(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    give(client, post_id)
    take_back(client, post_id)
    take_back(client, post_id)
    assert kudos_count(app, post_id) == 0
    assert member_value(app, member, "kudos_received") == 0


def test_anonymous_kudos_is_sent_to_log_in(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    response = give(client, post_id)
    assert response.headers["Location"] == f"/login?next=%2Fp%2F{post_id}%2Fkudos"
    assert kudos_count(app, post_id) == 0


def test_anonymous_visitor_sees_the_count_but_no_button(client, thread):
    post = opening_post(client, thread)
    assert shown_count(post) == 0
    assert "kudos</button>" not in post


def test_removed_post_cannot_get_kudos(app, client, member, board, other_member):
    thread_id = make_thread(app, member, board, replies=1)
    post_id = post_id_at(app, thread_id, 2)
    db_update(app, Post, post_id, is_removed=True)
    login(client, "bob")
    assert give(client, post_id).status_code == 403
    assert kudos_count(app, post_id) == 0
    assert member_value(app, member, "kudos_received") == 0


def test_kudos_on_an_unknown_post_is_404(client, other_member):
    login(client, "bob")
    assert give(client, 999).status_code == 404


def test_kudos_on_a_post_of_a_hidden_thread_is_404(app, client, thread, other_member):
    db_update(app, Thread, thread, is_hidden=True)
    login(client, "bob")
    assert give(client, post_id_at(app, thread, 1)).status_code == 404
    assert db_count(app, Kudos) == 0


def test_author_total_kudos_beside_every_post_updates(app, client, member, board, other_member):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "bob")
    give(client, post_id_at(app, thread_id, 1))
    give(client, post_id_at(app, thread_id, 2))
    posts = articles(client.get(THREAD_URL.format(thread_id)).get_data(as_text=True))
    assert [shown_author_kudos(post) for post in posts] == [2, 2]
    assert [shown_count(post) for post in posts] == [1, 1]


def test_author_total_kudos_drops_when_taken_back(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    give(client, post_id)
    assert shown_author_kudos(opening_post(client, thread)) == 1
    take_back(client, post_id)
    assert shown_author_kudos(opening_post(client, thread)) == 0


def test_take_back_with_a_forged_csrf_token_keeps_the_kudos(app, client, thread, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    give(client, post_id)
    response = client.post(f"/p/{post_id}/kudos/take-back", data={"csrf_token": "forged"})
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"
    assert kudos_count(app, post_id) == 1


def test_extra_form_fields_on_kudos_are_ignored(app, client, thread, member, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    give(client, post_id, {"kudos_count": 9999, "author_id": 1, "member_id": member})
    assert kudos_count(app, post_id) == 1
    assert member_value(app, member, "kudos_received") == 1
    assert db_scalar(app, select(Kudos.member_id)) == other_member


def test_kudos_with_a_stale_csrf_token_changes_nothing_and_says_why(
    app, client, thread, other_member
):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    response = client.post(f"/p/{post_id}/kudos", data={"csrf_token": "stale"})
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"
    assert kudos_count(app, post_id) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "That form had expired; please try again." in page
