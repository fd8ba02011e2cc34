"""Posting through the real forms: new threads, replies, quotes, preview, locked threads, suspension."""

from __future__ import annotations

import re

from sqlalchemy import select

from forum.models import Board, Member, Post, Thread
from tests.builders import make_member, make_thread, minutes_from_now
from tests.databases import db_count, db_scalar, db_update, member_value, post_id_at
from tests.pages import articles, field_error, login, post_form, textarea


def new_thread(client, board_id: int, subject="How do I bill a client?", body="Hi", extra=None):
    data = {"board": board_id, "subject": subject, "body": body, **(extra or {})}
    return post_form(client, "/new", data)


def reply(client, thread_id: int, body="Thanks, that helped.", extra=None):
    return post_form(client, f"/t/{thread_id}/reply", {"body": body, **(extra or {})})


# New threads


def test_new_thread_form_preselects_the_board_named_in_the_url(app, client, member, board):
    from forum.extensions import db

    with app.app_context():
        db.session.add(Board(name="Agencies", slug="agencies", position=-1))
        db.session.commit()
    login(client, "alice")
    html = client.get("/new?board=freelancers").get_data(as_text=True)
    assert re.search(rf'<option selected value="{board}">Freelancers</option>', html)
    assert re.search(r'<option value="\d+">Agencies</option>', html)


def test_new_thread_redirects_to_the_thread_url(app, client, member, board):
    login(client, "alice")
    response = new_thread(client, board, subject="How do I bill a client?")
    thread_id = db_scalar(app, select(Thread.id))
    assert response.headers["Location"] == f"/t/{thread_id}-how-do-i-bill-a-client"


def test_new_thread_shows_its_body_rendered(client, member, board):
    login(client, "alice")
    response = new_thread(client, board, body="This is **important** :)")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    [opening] = articles(html)
    assert "<strong>important</strong>" in opening
    assert re.search(
        r'<img class="emoticon" src="/static/emoticons/[\w-]+\.svg" alt="Smiley Happy"', opening
    )
    assert '<h1 class="thread-subject">How do I bill a client?' in html


def test_new_thread_counts_on_the_board_and_the_author(app, client, member, board):
    login(client, "alice")
    new_thread(client, board)
    assert db_scalar(app, select(Board.thread_count).where(Board.id == board)) == 1
    assert db_scalar(app, select(Board.post_count).where(Board.id == board)) == 1
    assert member_value(app, member, "post_count") == 1


def test_blank_subject_is_refused_beside_the_field_keeping_the_body(app, client, member, board):
    login(client, "alice")
    response = new_thread(client, board, subject="   ", body="My carefully typed question")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "subject") == "A thread needs a subject."
    assert textarea(html) == "My carefully typed question"
    assert db_count(app, Thread) == 0


def test_blank_body_is_refused_beside_the_field_keeping_the_subject(app, client, member, board):
    login(client, "alice")
    response = new_thread(client, board, subject="Typed subject", body=" \n\t ")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "body") == "A post needs some text."
    assert 'value="Typed subject"' in html
    assert db_count(app, Thread) == 0


def test_body_over_32000_characters_is_refused_keeping_the_text(app, client, member, board):
    login(client, "alice")
    body = "word " * 6400 + "x"  # 32,001 characters
    response = new_thread(client, board, body=body)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "body") == "Posts are at most 32,000 characters (32,001 given)."
    assert textarea(html) == body
    assert db_count(app, Post) == 0


def test_body_of_exactly_32000_characters_is_accepted(app, client, member, board):
    login(client, "alice")
    response = new_thread(client, board, body="x" * 32_000)
    assert response.headers["Location"].startswith("/t/")
    assert db_count(app, Post) == 1


def test_anonymous_visitor_asking_a_question_is_sent_to_log_in(client, board):
    response = client.get("/new?board=freelancers")
    assert response.headers["Location"] == "/login?next=%2Fnew%3Fboard%3Dfreelancers"


def test_after_logging_in_the_visitor_lands_back_on_the_question_form(client, member, board):
    client.get("/new?board=freelancers")
    response = post_form(
        client,
        "/login?next=%2Fnew%3Fboard%3Dfreelancers",
        {"handle": "alice", "password": "correct horse battery staple"},
    )
    assert response.headers["Location"] == "/new?board=freelancers"


def test_anonymous_post_to_new_thread_saves_nothing(app, client, board):
    response = new_thread(client, board)
    assert response.headers["Location"].startswith("/login?next=")
    assert db_count(app, Thread) == 0


def test_preview_of_a_new_thread_renders_the_body_and_saves_nothing(app, client, member, board):
    login(client, "alice")
    response = new_thread(client, board, body="Looks **bold** :)", extra={"preview": "Preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    preview = re.search(r'<section class="preview".*?</section>', html, flags=re.S)[0]
    assert "<strong>bold</strong>" in preview and 'alt="Smiley Happy"' in preview
    assert textarea(html) == "Looks **bold** :)"
    assert db_count(app, Post) == 0 and db_count(app, Thread) == 0


def test_new_thread_ignores_an_author_id_sent_with_the_form(
    app, client, member, other_member, board
):
    login(client, "alice")
    new_thread(client, board, extra={"author_id": other_member, "post_count": 500})
    assert db_scalar(app, select(Thread.author_id)) == member
    assert member_value(app, member, "post_count") == 1
    assert member_value(app, other_member, "post_count") == 0


def test_new_thread_in_an_unknown_board_is_refused(app, client, member, board):
    login(client, "alice")
    response = new_thread(client, board + 100)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "board") == "Not a valid choice."
    assert db_count(app, Thread) == 0


STALE_FORM = "This form had expired or did not come from this site, so nothing was saved."


def test_new_thread_with_a_stale_csrf_token_keeps_the_text_and_says_why(app, client, member, board):
    login(client, "alice")
    data = {"csrf_token": "stale", "board": board, "subject": "Typed", "body": "Long question"}
    response = client.post("/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert STALE_FORM in html
    assert 'value="Typed"' in html and textarea(html) == "Long question"
    assert db_count(app, Thread) == 0


# Replies


def test_reply_lands_on_the_new_post_permalink(client, thread, other_member):
    login(client, "bob")
    response = reply(client, thread)
    assert response.headers["Location"] == f"/t/{thread}-how-do-i-start#p2"


def test_reply_past_the_first_page_lands_on_the_page_holding_it(app, client, member, board):
    thread_id = make_thread(app, member, board, replies=19)  # 20 posts: page 1 is full
    login(client, "alice")
    response = reply(client, thread_id)
    assert response.headers["Location"] == f"/t/{thread_id}-how-do-i-start?page=2#p21"


def test_reply_is_titled_re_subject_and_numbered(app, client, thread, other_member):
    login(client, "bob")
    reply(client, thread, body="Second post")
    post = db_scalar(app, select(Post).where(Post.thread_id == thread, Post.position == 2))
    assert post.subject == "Re: How do I start?"
    assert post.author_id == other_member
    assert db_scalar(app, select(Thread.post_count).where(Thread.id == thread)) == 2
    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    second = articles(html)[1]
    assert ">Re: How do I start?</a>" in second
    assert '<span class="post-position">2 of 2</span>' in second
    assert "<p>Second post</p>" in second


def test_reply_counts_for_the_author_and_the_board(app, client, thread, other_member, board):
    login(client, "bob")
    reply(client, thread)
    assert member_value(app, other_member, "post_count") == 1
    assert db_scalar(app, select(Board.post_count).where(Board.id == board)) == 2
    assert db_scalar(app, select(Board.thread_count).where(Board.id == board)) == 1


def test_reply_ignores_position_and_thread_fields_sent_with_the_form(
    app, client, member, board, other_member
):
    first = make_thread(app, member, board, subject="First")
    second = make_thread(app, member, board, subject="Second")
    login(client, "bob")
    reply(client, second, extra={"position": 1, "thread_id": first, "author_id": member})
    post = db_scalar(app, select(Post).where(Post.author_id == other_member))
    assert (post.thread_id, post.position) == (second, 2)
    assert db_scalar(app, select(Thread.post_count).where(Thread.id == first)) == 1


def test_thread_page_offers_members_the_quick_reply_form(client, thread, other_member):
    login(client, "bob")
    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    form = re.search(r'<section class="quick-reply".*?</section>', html, flags=re.S)[0]
    assert (
        f'<form action="/t/{thread}/reply" method="post" data-draft-url="/t/{thread}/draft">'
        in form
    )
    assert 'name="csrf_token"' in form
    assert '<textarea id="body" name="body"' in form


def test_quick_reply_form_posts_a_reply(app, client, thread, other_member):
    login(client, "bob")
    page = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = client.post(
        f"/t/{thread}/reply",
        data={"csrf_token": token, "body": "Quick one", "submit": "Post reply"},
    )
    assert response.headers["Location"] == f"/t/{thread}-how-do-i-start#p2"
    assert db_scalar(app, select(Post.body_source).where(Post.position == 2)) == "Quick one"


def test_anonymous_visitor_sees_a_log_in_link_instead_of_the_reply_form(client, thread):
    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    assert 'class="quick-reply"' not in html
    assert re.search(
        rf'<a href="/login\?next=/t/{thread}-how-do-i-start\??">Log in</a> to reply\.', html
    )


def test_blank_reply_is_refused_beside_the_field(app, client, thread, other_member):
    login(client, "bob")
    response = reply(client, thread, body="   ")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "body") == "A post needs some text."
    assert db_count(app, Post) == 1


def test_reply_over_32000_characters_is_refused_keeping_the_text(app, client, thread, other_member):
    login(client, "bob")
    body = "y" * 32_001
    response = reply(client, thread, body=body)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "body") == "Posts are at most 32,000 characters (32,001 given)."
    assert textarea(html) == body
    assert db_count(app, Post) == 1


def test_reply_preview_renders_and_saves_nothing(app, client, thread, other_member):
    login(client, "bob")
    response = reply(client, thread, body="_Draft_ answer", extra={"preview": "Preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<section class="preview".*?<em>Draft</em>', html, flags=re.S)
    assert db_count(app, Post) == 1
    assert db_scalar(app, select(Thread.post_count).where(Thread.id == thread)) == 1


def test_anonymous_reply_is_sent_to_log_in_and_saves_nothing(app, client, thread):
    response = reply(client, thread)
    assert response.headers["Location"] == f"/login?next=%2Ft%2F{thread}%2Freply"
    assert db_count(app, Post) == 1


def test_reply_without_a_csrf_token_keeps_the_draft_and_says_why(app, client, thread, other_member):
    login(client, "bob")
    response = client.post(f"/t/{thread}/reply", data={"body": "My precious draft"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert STALE_FORM in html
    assert textarea(html) == "My precious draft"
    assert db_count(app, Post) == 1


def test_reply_to_an_unknown_thread_is_404(client, member):
    login(client, "alice")
    assert reply(client, 999).status_code == 404


# Quotes


def test_quote_prefills_a_blockquote_naming_the_quoted_author(app, client, member, board):
    thread_id = make_thread(app, member, board, body="Use **escrow**.\n\nAlways.")
    make_member(app, "bob")
    login(client, "bob")
    quoted_id = post_id_at(app, thread_id, 1)
    html = client.get(f"/t/{thread_id}/reply?quote={quoted_id}").get_data(as_text=True)
    assert textarea(html) == (
        f"> **Alice A [wrote](/p/{quoted_id}):**\n>\n> Use **escrow**.\n>\n> Always.\n\n"
    )


def test_posted_quote_renders_as_a_blockquote(app, client, thread, other_member):
    login(client, "bob")
    quoted = textarea(
        client.get(f"/t/{thread}/reply?quote={post_id_at(app, thread, 1)}").get_data(as_text=True)
    )
    response = reply(client, thread, body=quoted + "I agree.")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    second = articles(html)[1]
    assert re.search(
        r'<blockquote>\s*<p><strong>Alice A <a href="/p/\d+"[^>]*>wrote</a>:</strong></p>'
        r"\s*<p>Opening post</p>\s*</blockquote>",
        second,
    )
    assert "<p>I agree.</p>" in second


def test_quote_of_a_post_from_another_thread_prefills_nothing(app, client, member, board):
    elsewhere = make_thread(app, member, board, subject="Elsewhere", body="Secret words")
    here = make_thread(app, member, board, subject="Here")
    login(client, "alice")
    html = client.get(f"/t/{here}/reply?quote={post_id_at(app, elsewhere, 1)}").get_data(
        as_text=True
    )
    assert textarea(html) == ""


def test_quote_of_a_removed_post_prefills_nothing(app, client, member, board):
    thread_id = make_thread(app, member, board, replies=1)
    db_update(app, Post, post_id_at(app, thread_id, 2), is_removed=True)
    login(client, "alice")
    html = client.get(f"/t/{thread_id}/reply?quote={post_id_at(app, thread_id, 2)}").get_data(
        as_text=True
    )
    assert "Reply number 1" not in html


def test_quote_link_is_on_every_post_for_members(client, thread, other_member, app):
    login(client, "bob")
    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    post_id = post_id_at(app, thread, 1)
    assert f'<a href="/t/{thread}/reply?quote={post_id}">Quote</a>' in articles(html)[0]


# Locked threads and suspended members


def test_reply_to_locked_thread_is_forbidden(app, client, thread, other_member):
    db_update(app, Thread, thread, is_locked=True)
    login(client, "bob")
    response = reply(client, thread)
    assert response.status_code == 403
    assert db_count(app, Post) == 1


def test_reply_form_of_a_locked_thread_is_forbidden(app, client, thread, other_member):
    db_update(app, Thread, thread, is_locked=True)
    login(client, "bob")
    assert client.get(f"/t/{thread}/reply").status_code == 403


def test_locked_thread_shows_a_notice_instead_of_the_reply_form(app, client, thread, other_member):
    db_update(app, Thread, thread, is_locked=True)
    login(client, "bob")
    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    assert "This thread is locked; it takes no more replies." in html
    assert 'class="quick-reply"' not in html
    assert ">Quote</a>" not in html


def test_moderator_may_still_reply_to_a_locked_thread(app, client, thread, moderator):
    db_update(app, Thread, thread, is_locked=True)
    login(client, "maude")
    response = reply(client, thread, body="Locked, but here is the answer.")
    assert response.headers["Location"] == f"/t/{thread}-how-do-i-start#p2"
    assert db_scalar(app, select(Post.author_id).where(Post.position == 2)) == moderator


def test_suspended_member_cannot_reply(app, client, thread, other_member):
    login(client, "bob")
    db_update(app, Member, other_member, suspended_until=minutes_from_now(60))
    response = reply(client, thread)
    assert response.status_code == 403
    assert db_count(app, Post) == 1


def test_suspended_member_cannot_open_a_thread(app, client, member, board):
    login(client, "alice")
    db_update(app, Member, member, suspended_until=minutes_from_now(60))
    response = new_thread(client, board)
    assert response.status_code == 403
    assert db_count(app, Thread) == 0


def test_member_whose_suspension_ended_may_reply_again(app, client, thread, other_member):
    login(client, "bob")
    db_update(app, Member, other_member, suspended_until=minutes_from_now(-1))
    response = reply(client, thread)
    assert response.headers["Location"] == f"/t/{thread}-how-do-i-start#p2"


def test_reply_to_a_hidden_thread_is_404_for_a_member(app, client, thread, other_member):
    db_update(app, Thread, thread, is_hidden=True)
    login(client, "bob")
    assert reply(client, thread).status_code == 404
    assert db_count(app, Post) == 1
