"""Drafts: a member's unfinished reply or new thread, kept on the server until posted or discarded."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.errors import InvalidInput, NotAllowed, ThreadLocked
from forum.extensions import db
from forum.models import Board, Draft, Member, Thread
from tests.databases import db_count, db_update
from tests.pages import csrf_token, field_error, login, post_form, textarea

JSON = {"Accept": "application/json"}


def alice() -> Member:
    return db.session.scalar(select(Member).where(Member.handle == "alice"))


def bob() -> Member:
    return db.session.scalar(select(Member).where(Member.handle == "bob"))


def save(member, **kwargs) -> None:
    from forum.threads import drafts

    drafts.save_draft(member, **kwargs)


def draft_of(member, **kwargs) -> Draft | None:
    from forum.threads import drafts

    return drafts.draft_for(member, **kwargs)


# The service


def test_a_saved_reply_draft_is_its_members_alone(app, thread, member, other_member):
    with app.app_context():
        save(alice(), thread=db.session.get(Thread, thread), body="Half an answer")
        assert draft_of(alice(), thread=db.session.get(Thread, thread)).body == "Half an answer"
        assert draft_of(bob(), thread=db.session.get(Thread, thread)) is None


def test_saving_again_replaces_the_draft(app, thread, member):
    with app.app_context():
        for body in ("First words", "First words, then more"):
            save(alice(), thread=db.session.get(Thread, thread), body=body)
        assert draft_of(alice(), thread=db.session.get(Thread, thread)).body.endswith("more")
    assert db_count(app, Draft) == 1


def test_a_draft_with_nothing_in_it_is_no_draft(app, thread, member):
    with app.app_context():
        save(alice(), thread=db.session.get(Thread, thread), body="Something")
        save(alice(), thread=db.session.get(Thread, thread), body="  \n ")
    assert db_count(app, Draft) == 0


def test_a_draft_may_be_incomplete_but_no_longer_than_a_post(app, thread, member, board):
    app.config["MAX_POST_LENGTH"] = 50
    with app.app_context():
        save(alice(), board=db.session.get(Board, board), subject="Half a sub", body="")
        with pytest.raises(InvalidInput, match="at most 50 characters"):
            save(alice(), thread=db.session.get(Thread, thread), body="x" * 51)
        with pytest.raises(InvalidInput, match="Subjects are at most 200"):
            save(alice(), board=db.session.get(Board, board), subject="s" * 201, body="")
    assert db_count(app, Draft) == 1


def test_a_member_who_may_not_reply_keeps_no_draft_of_it(app, thread, member, other_member):
    db_update(app, Thread, thread, is_locked=True)
    with app.app_context(), pytest.raises(NotAllowed):
        save(bob(), thread=db.session.get(Thread, thread), body="Let me in")
    assert db_count(app, Draft) == 0


def test_replying_clears_the_repliers_draft_and_no_one_elses(app, thread, member, other_member):
    from forum.threads import services

    with app.app_context():
        for who in (alice(), bob()):
            save(who, thread=db.session.get(Thread, thread), body=f"Draft by {who.handle}")
        services.reply(bob(), db.session.get(Thread, thread), "Draft by bob, finished")
    assert db_count(app, Draft) == 1
    assert db_count(app, Draft, Draft.member_id == member) == 1


def test_a_refused_reply_keeps_its_draft(app, thread, member, other_member):
    from forum.threads import services

    with app.app_context():
        save(bob(), thread=db.session.get(Thread, thread), body="Almost")
    db_update(app, Thread, thread, is_locked=True)
    with app.app_context(), pytest.raises(ThreadLocked):
        services.reply(bob(), db.session.get(Thread, thread), "Almost done")
    assert db_count(app, Draft) == 1


def test_a_new_thread_clears_the_draft_of_its_board_only(app, member, board):
    from forum.threads import services

    with app.app_context():
        other = Board(name="Clients", slug="clients")
        db.session.add(other)
        db.session.commit()
        for where in (db.session.get(Board, board), other):
            save(alice(), board=where, subject=f"On {where.name}", body="...")
        services.create_thread(alice(), db.session.get(Board, board), "On Freelancers", "Done")
        [kept] = db.session.scalars(select(Draft)).all()
        assert kept.board_id == other.id


# The pages


def test_the_thread_page_reply_box_holds_the_members_draft_only(
    app, client, thread, member, other_member
):
    login(client, "alice")
    post_form(client, f"/t/{thread}/draft", {"body": "My <unfinished> reply"})

    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    assert textarea(html) == "My <unfinished> reply"
    assert re.search(r'<p class="draft-status" role="status">Your draft from <time', html)
    assert '<script src="/static/drafts.js" defer></script>' in html

    post_form(client, "/logout")
    login(client, "bob")
    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    assert textarea(html) == ""
    assert "Your draft from" not in html


def test_save_draft_without_javascript_returns_to_the_reply_form_holding_it(
    app, client, thread, member
):
    login(client, "alice")
    response = post_form(
        client, f"/t/{thread}/draft", {"body": "Kept for later", "submit": "Post reply"}
    )
    assert response.headers["Location"] == f"/t/{thread}/reply"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your draft is saved." in html
    assert textarea(html) == "Kept for later"


def test_the_autosave_is_answered_in_json(app, client, thread, member):
    login(client, "alice")
    response = post_form(client, f"/t/{thread}/draft", {"body": "Typing"}, headers=JSON)
    assert response.status_code == 200
    assert response.json["saved"] is True and response.json["message"].startswith("Draft saved")


def test_a_quote_follows_the_draft_in_the_reply_form(app, client, thread, member):
    login(client, "alice")
    post_form(client, f"/t/{thread}/draft", {"body": "First my words."})
    html = client.get(f"/t/{thread}/reply?quote=1").get_data(as_text=True)
    assert textarea(html).startswith("First my words.\n\n> ")


def test_posting_the_reply_clears_the_draft(app, client, thread, member):
    login(client, "alice")
    post_form(client, f"/t/{thread}/draft", {"body": "Nearly there"})
    post_form(client, f"/t/{thread}/reply", {"body": "Nearly there: done."})

    html = client.get(f"/t/{thread}-how-do-i-start").get_data(as_text=True)
    assert textarea(html) == ""
    assert db_count(app, Draft) == 0


def test_discard_draft_empties_the_reply_box(app, client, thread, member):
    login(client, "alice")
    post_form(client, f"/t/{thread}/draft", {"body": "Never mind"})
    response = post_form(client, f"/t/{thread}/draft/discard", {"body": "Never mind"})
    assert response.headers["Location"] == f"/t/{thread}-how-do-i-start"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert textarea(html) == ""
    assert "Your draft is discarded." in html


@pytest.mark.parametrize("headers", [{}, JSON], ids=["form", "autosave"])
def test_a_draft_without_the_csrf_token_is_not_saved(app, client, thread, member, headers):
    login(client, "alice")
    response = client.post(f"/t/{thread}/draft", data={"body": "Forged"}, headers=headers)
    assert response.status_code == 400
    if headers:
        assert "expired" in response.json["error"]
    else:
        assert textarea(response.get_data(as_text=True)) == "Forged"  # the member's text stays
    assert db_count(app, Draft) == 0


def test_discarding_without_the_csrf_token_keeps_the_draft(app, client, thread, member):
    login(client, "alice")
    post_form(client, f"/t/{thread}/draft", {"body": "Keep me"})
    client.post(f"/t/{thread}/draft/discard", data={"body": "Keep me"})
    assert db_count(app, Draft) == 1


def test_a_draft_too_long_to_post_is_refused_beside_the_box(app, client, thread, member):
    app.config["MAX_POST_LENGTH"] = 20
    login(client, "alice")
    response = post_form(client, f"/t/{thread}/draft", {"body": "x" * 21})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "body") == "Drafts are at most 20 characters (21 given)."
    assert textarea(html) == "x" * 21
    autosave = post_form(client, f"/t/{thread}/draft", {"body": "x" * 21}, headers=JSON)
    assert autosave.json == {
        "saved": False,
        "error": "Drafts are at most 20 characters (21 given).",
    }


def test_no_draft_is_kept_for_a_locked_thread(app, client, thread, member, other_member):
    db_update(app, Thread, thread, is_locked=True)
    login(client, "bob")
    assert post_form(client, f"/t/{thread}/draft", {"body": "Hello?"}).status_code == 403


def test_the_new_thread_form_holds_the_boards_draft(app, client, member, board):
    login(client, "alice")
    data = {"board": board, "subject": "Half a question", "body": "It starts like"}
    response = post_form(client, "/new/draft", data)
    assert response.headers["Location"] == "/new?board=freelancers"

    for url in ("/new?board=freelancers", "/new"):  # a bare /new opens the latest draft
        html = client.get(url).get_data(as_text=True)
        assert 'value="Half a question"' in html, url
        assert textarea(html) == "It starts like"
        assert re.search(rf'<option selected value="{board}">Freelancers</option>', html)


def test_posting_the_new_thread_clears_its_draft(app, client, member, board):
    login(client, "alice")
    post_form(client, "/new/draft", {"board": board, "subject": "Q", "body": "Draft"})
    post_form(client, "/new", {"board": board, "subject": "Q", "body": "Draft, done"})

    html = client.get("/new?board=freelancers").get_data(as_text=True)
    assert textarea(html) == "" and 'value="Q"' not in html
    assert db_count(app, Draft) == 0


def test_discarding_a_new_thread_draft_empties_the_form(app, client, member, board):
    login(client, "alice")
    post_form(client, "/new/draft", {"board": board, "subject": "Q", "body": "Draft"})
    response = post_form(client, "/new/draft/discard", {"board": board, "subject": "Q"})
    assert response.headers["Location"] == "/new?board=freelancers"
    assert db_count(app, Draft) == 0


def test_another_member_never_sees_a_new_thread_draft(app, client, member, other_member, board):
    login(client, "alice")
    post_form(client, "/new/draft", {"board": board, "subject": "Secret plan", "body": "Shh"})
    post_form(client, "/logout")
    login(client, "bob")
    html = client.get("/new?board=freelancers").get_data(as_text=True)
    assert "Secret plan" not in html and textarea(html) == ""


def test_the_draft_endpoints_need_a_login(app, client, thread, board):
    token = csrf_token(client)
    for url in (f"/t/{thread}/draft", "/new/draft"):
        response = client.post(url, data={"csrf_token": token, "body": "x", "board": board})
        assert response.headers["Location"].startswith("/login"), url
