"""Editing posts (authors within the window, moderators any time) and moderators removing and restoring them."""

from __future__ import annotations

import re

from sqlalchemy import select

from forum.models import Board, Post, Thread
from tests.builders import make_thread, minutes_ago
from tests.databases import db_scalar, db_update, member_value, post_id_at
from tests.pages import articles, field_error, login, post_form, textarea

THREAD_URL = "/t/{}-how-do-i-start"


def edit(client, post_id: int, body: str, subject: str | None = None, extra=None):
    data = {"body": body, **(extra or {})}
    if subject is not None:
        data["subject"] = subject
    return post_form(client, f"/p/{post_id}/edit", data)


def body_of(app, post_id: int) -> str:
    return db_scalar(app, select(Post.body_source).where(Post.id == post_id))


def edited_note(html: str) -> str | None:
    """The "Edited ..." line: a link to the history for its author and moderators, else text."""
    match = re.search(r'<(span|a) class="post-edited"[^>]*>(.*?)</\1>', html, flags=re.S)
    return match[2] if match else None


# Authors


def test_edit_form_holds_the_post_source_and_the_thread_subject(app, client, thread):
    login(client, "alice")
    html = client.get(f"/p/{post_id_at(app, thread, 1)}/edit").get_data(as_text=True)
    assert textarea(html) == "Opening post"
    assert 'name="subject"' in html and 'value="How do I start?"' in html


def test_edit_form_of_a_reply_has_no_subject_field(app, client, member, board):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "alice")
    html = client.get(f"/p/{post_id_at(app, thread_id, 2)}/edit").get_data(as_text=True)
    assert textarea(html) == "Reply number 1"
    assert 'name="subject"' not in html


def test_author_edits_within_the_window_and_lands_on_the_post(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    response = edit(client, post_id, "Opening post, **clarified**", "How do I start?")
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"
    assert body_of(app, post_id) == "Opening post, **clarified**"


def test_edited_post_shows_the_new_body_and_edited(app, client, thread):
    login(client, "alice")
    edit(client, post_id_at(app, thread, 1), "Now with **more** words", "How do I start?")
    [opening] = articles(client.get(THREAD_URL.format(thread)).get_data(as_text=True))
    assert "<p>Now with <strong>more</strong> words</p>" in opening
    assert "Opening post" not in opening
    note = edited_note(opening)
    assert note is not None and note.startswith("Edited ")
    assert " by " not in note  # the author's own edit names nobody


def test_unedited_post_shows_no_edited_note(client, thread):
    [opening] = articles(client.get(THREAD_URL.format(thread)).get_data(as_text=True))
    assert edited_note(opening) is None


def test_author_may_still_edit_29_minutes_after_posting(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    db_update(app, Post, post_id, created_at=minutes_ago(29))
    login(client, "alice")
    edit(client, post_id, "Still in time", "How do I start?")
    assert body_of(app, post_id) == "Still in time"


def test_author_cannot_edit_after_the_30_minute_window(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    db_update(app, Post, post_id, created_at=minutes_ago(31))
    login(client, "alice")
    assert client.get(f"/p/{post_id}/edit").status_code == 403
    assert edit(client, post_id, "Too late", "How do I start?").status_code == 403
    assert body_of(app, post_id) == "Opening post"


def test_edit_link_disappears_when_the_window_closes(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    assert f'href="/p/{post_id}/edit"' in client.get(THREAD_URL.format(thread)).get_data(
        as_text=True
    )
    db_update(app, Post, post_id, created_at=minutes_ago(31))
    assert f'href="/p/{post_id}/edit"' not in client.get(THREAD_URL.format(thread)).get_data(
        as_text=True
    )


def test_another_member_cannot_edit_the_post(app, client, thread, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "bob")
    assert client.get(f"/p/{post_id}/edit").status_code == 403
    assert edit(client, post_id, "Vandalised", "Hijacked").status_code == 403
    assert body_of(app, post_id) == "Opening post"
    assert db_scalar(app, select(Thread.subject)) == "How do I start?"


def test_author_cannot_edit_a_removed_post(app, client, member, board):
    thread_id = make_thread(app, member, board, replies=1)
    post_id = post_id_at(app, thread_id, 2)
    db_update(app, Post, post_id, is_removed=True)
    login(client, "alice")
    assert edit(client, post_id, "Sneaking back").status_code == 403
    assert body_of(app, post_id) == "Reply number 1"


def test_anonymous_edit_is_sent_to_log_in(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    response = edit(client, post_id, "Anonymous words")
    assert response.headers["Location"] == f"/login?next=%2Fp%2F{post_id}%2Fedit"
    assert body_of(app, post_id) == "Opening post"


def test_blank_edit_is_refused_beside_the_field_and_changes_nothing(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    response = edit(client, post_id, "  ", "How do I start?")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "body") == "A post needs some text."
    assert body_of(app, post_id) == "Opening post"


def test_blank_subject_on_the_opening_post_is_refused_beside_the_subject(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    response = edit(client, post_id, "New body", "   ")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "subject") == "A thread needs a subject."
    assert textarea(html) == "New body"
    assert db_scalar(app, select(Thread.subject)) == "How do I start?"
    assert body_of(app, post_id) == "Opening post"


def test_edit_with_a_stale_csrf_token_keeps_the_text_and_changes_nothing(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    data = {"csrf_token": "stale", "subject": "How do I start?", "body": "Reworded"}
    response = client.post(f"/p/{post_id}/edit", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form had expired or did not come from this site" in html
    assert textarea(html) == "Reworded"
    assert body_of(app, post_id) == "Opening post"


def test_edit_preview_renders_and_saves_nothing(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    response = edit(client, post_id, "Maybe *this*", "How do I start?", {"preview": "Preview"})
    assert re.search(
        r'<section class="preview".*?<em>this</em>', response.get_data(as_text=True), flags=re.S
    )
    assert body_of(app, post_id) == "Opening post"


def test_edit_ignores_author_and_counters_sent_with_the_form(app, client, thread, other_member):
    post_id = post_id_at(app, thread, 1)
    login(client, "alice")
    extra = {"author_id": other_member, "kudos_count": 9999, "edited_by_id": other_member}
    edit(client, post_id, "Edited", "How do I start?", extra)
    post = db_scalar(app, select(Post).where(Post.id == post_id))
    assert (post.author_id, post.kudos_count, post.edited_by_id) == (
        db_scalar(app, select(Thread.author_id)),
        0,
        post.author_id,
    )


# Moderators


def test_moderator_edits_a_post_long_after_the_window(app, client, thread, moderator):
    post_id = post_id_at(app, thread, 1)
    db_update(app, Post, post_id, created_at=minutes_ago(60 * 24 * 30))
    login(client, "maude")
    response = edit(client, post_id, "Tidied by a moderator", "How do I start?")
    assert response.headers["Location"] == THREAD_URL.format(thread) + "#p1"
    assert body_of(app, post_id) == "Tidied by a moderator"


def test_post_edited_by_a_moderator_names_the_moderator(app, client, thread, moderator):
    login(client, "maude")
    edit(client, post_id_at(app, thread, 1), "Tidied", "How do I start?")
    [opening] = articles(client.get(THREAD_URL.format(thread)).get_data(as_text=True))
    note = edited_note(opening)
    assert note is not None and note.startswith("Edited ")
    assert note.endswith(" by Maude M")
    assert ">Alice A</a>" in opening  # still Alice's post


def test_editing_the_opening_subject_renames_the_thread(app, client, thread):
    login(client, "alice")
    response = edit(client, post_id_at(app, thread, 1), "Opening post", "Where do I begin?")
    assert response.headers["Location"] == f"/t/{thread}-where-do-i-begin#p1"
    html = client.get(f"/t/{thread}-where-do-i-begin").get_data(as_text=True)
    assert '<h1 class="thread-subject">Where do I begin?' in html
    assert ">Where do I begin?</a>" in articles(html)[0]


def test_renamed_thread_old_url_redirects_to_the_new_slug(app, client, thread):
    login(client, "alice")
    edit(client, post_id_at(app, thread, 1), "Opening post", "Where do I begin?")
    response = client.get(THREAD_URL.format(thread))
    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{thread}-where-do-i-begin"


def test_renaming_a_thread_retitles_its_replies(app, client, member, board):
    thread_id = make_thread(app, member, board, replies=3)
    login(client, "alice")
    edit(client, post_id_at(app, thread_id, 1), "Opening post", "Where do I begin?")
    html = client.get(f"/t/{thread_id}-where-do-i-begin").get_data(as_text=True)
    posts = articles(html)
    assert len(posts) == 4
    for post in posts[1:]:
        assert ">Re: Where do I begin?</a>" in post
    assert "How do I start?" not in html


def test_renamed_thread_is_listed_under_its_new_subject(app, client, thread):
    login(client, "alice")
    edit(client, post_id_at(app, thread, 1), "Opening post", "Where do I begin?")
    html = client.get("/b/freelancers").get_data(as_text=True)
    assert (
        f'<a class="thread-link" href="/t/{thread}-where-do-i-begin">Where do I begin?</a>' in html
    )


def test_subject_sent_when_editing_a_reply_is_ignored(app, client, member, board):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "alice")
    edit(client, post_id_at(app, thread_id, 2), "Edited reply", "Hijacked subject")
    assert db_scalar(app, select(Thread.subject)) == "How do I start?"
    subject = db_scalar(app, select(Post.subject).where(Post.id == post_id_at(app, thread_id, 2)))
    assert subject == "Re: How do I start?"


# Removing and restoring


def remove(client, post_id: int):
    return post_form(client, f"/moderation/posts/{post_id}/remove")


def restore(client, post_id: int):
    return post_form(client, f"/moderation/posts/{post_id}/restore")


def board_counts(app, board_id: int) -> tuple[int, int]:
    board = db_scalar(app, select(Board).where(Board.id == board_id))
    return board.thread_count, board.post_count


def is_removed(app, post_id: int) -> bool:
    return db_scalar(app, select(Post.is_removed).where(Post.id == post_id))


def test_member_cannot_remove_a_post(app, client, member, board, other_member):
    thread_id = make_thread(app, member, board, replies=1)
    post_id = post_id_at(app, thread_id, 2)
    login(client, "bob")
    assert remove(client, post_id).status_code == 403
    assert not is_removed(app, post_id)
    assert member_value(app, member, "post_count") == 2
    assert board_counts(app, board) == (1, 2)


def test_member_cannot_restore_a_post(app, client, member, board, other_member):
    thread_id = make_thread(app, member, board, replies=1)
    post_id = post_id_at(app, thread_id, 2)
    db_update(app, Post, post_id, is_removed=True)
    login(client, "bob")
    assert restore(client, post_id).status_code == 403
    assert is_removed(app, post_id)


def test_anonymous_remove_is_sent_to_log_in(app, client, thread):
    post_id = post_id_at(app, thread, 1)
    response = remove(client, post_id)
    assert response.headers["Location"] == f"/login?next=%2Fmoderation%2Fposts%2F{post_id}%2Fremove"
    assert not is_removed(app, post_id)


def test_remove_without_a_csrf_token_changes_nothing(app, client, thread, moderator, board):
    post_id = post_id_at(app, thread, 1)
    login(client, "maude")
    client.post(f"/moderation/posts/{post_id}/remove")
    assert not is_removed(app, post_id)
    assert board_counts(app, board) == (1, 1)


def test_remove_lands_back_on_the_post(app, client, member, board, moderator):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "maude")
    response = remove(client, post_id_at(app, thread_id, 2))
    assert response.headers["Location"] == THREAD_URL.format(thread_id) + "#p2"


def test_removal_lowers_the_author_post_count_and_restore_brings_it_back(
    app, client, member, board, moderator
):
    thread_id = make_thread(app, member, board, replies=2)
    post_id = post_id_at(app, thread_id, 3)
    login(client, "maude")
    assert member_value(app, member, "post_count") == 3
    remove(client, post_id)
    assert member_value(app, member, "post_count") == 2
    restore(client, post_id)
    assert member_value(app, member, "post_count") == 3


def test_removal_lowers_the_board_post_count_and_restore_brings_it_back(
    app, client, member, board, moderator
):
    thread_id = make_thread(app, member, board, replies=2)
    post_id = post_id_at(app, thread_id, 2)
    login(client, "maude")
    remove(client, post_id)
    assert board_counts(app, board) == (1, 2)
    restore(client, post_id)
    assert board_counts(app, board) == (1, 3)


def test_removing_twice_counts_once(app, client, member, board, moderator):
    thread_id = make_thread(app, member, board, replies=1)
    post_id = post_id_at(app, thread_id, 2)
    login(client, "maude")
    remove(client, post_id)
    remove(client, post_id)
    assert member_value(app, member, "post_count") == 1
    assert board_counts(app, board) == (1, 1)


def test_restoring_a_visible_post_changes_nothing(app, client, member, board, moderator):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "maude")
    restore(client, post_id_at(app, thread_id, 2))
    assert member_value(app, member, "post_count") == 2
    assert board_counts(app, board) == (1, 2)


def test_moderator_still_sees_a_removed_post_text_with_a_restore_button(
    app, client, member, board, moderator
):
    thread_id = make_thread(app, member, board, replies=1)
    post_id = post_id_at(app, thread_id, 2)
    login(client, "maude")
    remove(client, post_id)
    second = articles(client.get(THREAD_URL.format(thread_id)).get_data(as_text=True))[1]
    assert "Removed by a moderator (only moderators see the text)." in second
    assert "<p>Reply number 1</p>" in second
    assert f'action="/moderation/posts/{post_id}/restore"' in second


def test_restoring_the_opening_post_unhides_the_thread(app, client, thread, moderator):
    post_id = post_id_at(app, thread, 1)
    login(client, "maude")
    remove(client, post_id)
    assert db_scalar(app, select(Thread.is_hidden))
    restore(client, post_id)
    assert not db_scalar(app, select(Thread.is_hidden))
    post_form(client, "/logout")
    assert client.get(THREAD_URL.format(thread)).status_code == 200
    assert "How do I start?" in client.get("/b/freelancers").get_data(as_text=True)


def test_removing_the_opening_post_takes_the_thread_off_the_board_count(
    app, client, thread, moderator, board
):
    post_id = post_id_at(app, thread, 1)
    login(client, "maude")
    remove(client, post_id)
    assert board_counts(app, board) == (0, 0)
    restore(client, post_id)
    assert board_counts(app, board) == (1, 1)


def test_hiding_a_thread_takes_its_visible_replies_out_of_every_count_until_restored(
    app, client, member, other_member, board, moderator
):
    thread_id = make_thread(app, member, board, replies=2, reply_author_id=other_member)
    login(client, "maude")
    remove(client, post_id_at(app, thread_id, 3))  # one of bob's replies, removed on its own
    assert (
        member_value(app, member, "post_count"),
        member_value(app, other_member, "post_count"),
    ) == (1, 1)
    assert board_counts(app, board) == (1, 2)
    remove(client, post_id_at(app, thread_id, 1))  # the opening post: the thread is hidden
    assert member_value(app, member, "post_count") == 0
    assert member_value(app, other_member, "post_count") == 0
    assert board_counts(app, board) == (0, 0)
    restore(client, post_id_at(app, thread_id, 1))
    assert member_value(app, member, "post_count") == 1
    assert member_value(app, other_member, "post_count") == 1  # the removed reply stays out
    assert board_counts(app, board) == (1, 2)


def test_removing_or_restoring_a_reply_inside_a_hidden_thread_moves_no_count(
    app, client, member, other_member, board, moderator
):
    thread_id = make_thread(app, member, board, replies=2, reply_author_id=other_member)
    login(client, "maude")
    remove(client, post_id_at(app, thread_id, 1))
    remove(client, post_id_at(app, thread_id, 2))
    assert member_value(app, other_member, "post_count") == 0
    assert board_counts(app, board) == (0, 0)
    restore(client, post_id_at(app, thread_id, 2))
    assert member_value(app, other_member, "post_count") == 0
    restore(client, post_id_at(app, thread_id, 1))
    assert member_value(app, other_member, "post_count") == 2
    assert board_counts(app, board) == (1, 3)


def test_a_moderators_reply_inside_a_hidden_thread_counts_once_the_thread_is_restored(
    app, client, member, board, moderator
):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "maude")
    before = member_value(app, moderator, "post_count")
    remove(client, post_id_at(app, thread_id, 1))
    response = post_form(client, f"/t/{thread_id}/reply", {"body": "A note while it is hidden"})
    assert response.status_code == 302
    assert board_counts(app, board) == (0, 0)
    assert member_value(app, moderator, "post_count") == before
    restore(client, post_id_at(app, thread_id, 1))
    assert board_counts(app, board) == (1, 3)
    assert member_value(app, moderator, "post_count") == before + 1


def test_removed_post_leaves_the_author_profile(app, client, member, board, moderator):
    thread_id = make_thread(app, member, board, replies=1)
    login(client, "maude")
    remove(client, post_id_at(app, thread_id, 2))
    assert "Reply number 1" not in client.get("/members/alice").get_data(as_text=True)
