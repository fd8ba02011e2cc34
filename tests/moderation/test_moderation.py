"""Moderator tools: reports, locks, pins, moves, suspensions, roles, boards; all audited."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, Board, Member, Post, Report, Role, Thread
from forum.search import get_search
from tests.builders import make_member, make_thread
from tests.pages import login, post_form


def audit_actions(app) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_reported_post_removed_from_the_queue_keeps_its_number_and_leaves_search(
    app, client, member, other_member, moderator, board
):
    thread = make_thread(
        app,
        member,
        board,
        subject="Offer",
        body="cheap watches zanzibar",
        replies=1,
        reply_author_id=other_member,
    )
    login(client, "bob")
    response = post_form(client, "/p/1/report", {"reason": "spam"})
    assert response.headers["Location"] == f"/t/{thread}-offer#p1"
    post_form(client, "/logout")
    login(client, "maude")
    queue = client.get("/moderation/reports").get_data(as_text=True)
    assert "spam" in queue and "Bob B" in queue
    with app.app_context():
        report_id = db.session.scalar(select(Report.id))
    post_form(client, f"/moderation/reports/{report_id}/remove")
    assert "No open reports." in client.get("/moderation/reports").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Post, 1).is_removed
        assert db.session.get(Member, member).post_count == 0
    assert get_search(app).search("zanzibar").total == 0
    assert "post.remove" in audit_actions(app)


def test_dismissed_report_leaves_the_post(app, client, member, other_member, moderator, board):
    make_thread(app, member, board)
    login(client, "bob")
    post_form(client, "/p/1/report", {"reason": "I disagree"})
    post_form(client, "/logout")
    login(client, "maude")
    with app.app_context():
        report_id = db.session.scalar(select(Report.id))
    post_form(client, f"/moderation/reports/{report_id}/dismiss")
    with app.app_context():
        assert not db.session.get(Post, 1).is_removed
        assert db.session.get(Report, report_id).status == "dismissed"
    assert "report.dismiss" in audit_actions(app)


def test_a_report_needs_a_reason(app, client, member, other_member, board):
    make_thread(app, member, board)
    login(client, "bob")
    response = post_form(client, "/p/1/report", {"reason": "   "})
    assert response.status_code == 400
    assert "Please give a reason." in response.get_data(as_text=True)


def test_locked_thread_refuses_member_replies_until_unlocked(app, client, member, moderator, board):
    thread = make_thread(app, member, board, subject="Closed")
    login(client, "maude")
    post_form(client, f"/moderation/threads/{thread}/lock")
    post_form(client, "/logout")
    login(client, "alice")
    assert post_form(client, f"/t/{thread}/reply", {"body": "one more"}).status_code == 403
    assert "This thread is locked" in client.get(f"/t/{thread}-closed").get_data(as_text=True)
    post_form(client, "/logout")
    login(client, "maude")
    post_form(client, f"/moderation/threads/{thread}/unlock")
    assert audit_actions(app)[-2:] == ["thread.lock", "thread.unlock"]


def test_pinned_thread_comes_first_on_the_board(app, client, member, moderator, board):
    first = make_thread(app, member, board, subject="Rules")
    make_thread(app, member, board, subject="Later question")
    login(client, "maude")
    post_form(client, f"/moderation/threads/{first}/pin")
    html = client.get("/b/freelancers").get_data(as_text=True)
    assert html.index("Rules") < html.index("Later question")


def test_moving_a_thread_moves_its_counts_and_its_search_board(
    app, client, member, moderator, board
):
    with app.app_context():
        db.session.add(Board(name="Clients", slug="clients"))
        db.session.commit()
        clients = db.session.scalar(select(Board.id).where(Board.slug == "clients"))
    thread = make_thread(app, member, board, subject="Wrong place", body="misfiled", replies=2)
    login(client, "maude")
    post_form(client, f"/moderation/threads/{thread}/move", {"board": clients})
    with app.app_context():
        old, new = db.session.get(Board, board), db.session.get(Board, clients)
        assert (old.thread_count, old.post_count) == (0, 0)
        assert (new.thread_count, new.post_count) == (1, 3)
        assert db.session.get(Thread, thread).board_id == clients
    assert get_search(app).search("misfiled board:clients").total == 1


def test_moving_a_hidden_thread_moves_no_counts(app, client, member, moderator, board):
    with app.app_context():
        db.session.add(Board(name="Clients", slug="clients"))
        db.session.commit()
        clients = db.session.scalar(select(Board.id).where(Board.slug == "clients"))
    make_thread(app, member, board, subject="Still here")
    thread = make_thread(app, member, board, subject="Hidden away", replies=2)
    login(client, "maude")
    with app.app_context():
        opening = db.session.scalar(
            select(Post.id).where(Post.thread_id == thread, Post.position == 1)
        )
    post_form(client, f"/moderation/posts/{opening}/remove")
    post_form(client, f"/moderation/threads/{thread}/move", {"board": clients})
    with app.app_context():
        old, new = db.session.get(Board, board), db.session.get(Board, clients)
        assert (old.thread_count, old.post_count) == (1, 1)
        assert (new.thread_count, new.post_count) == (0, 0)
    post_form(client, f"/moderation/posts/{opening}/restore")
    with app.app_context():
        assert (
            db.session.get(Board, clients).thread_count,
            db.session.get(Board, clients).post_count,
        ) == (1, 3)


def test_suspension_ends_sessions_blocks_posting_and_says_why(
    app, client, member, moderator, board
):
    make_thread(app, member, board)
    alice = app.test_client()
    login(alice, "alice")
    login(client, "maude")
    post_form(
        client,
        "/moderation/members/alice/suspend",
        {"suspend-days": 3, "suspend-reason": "rude replies"},
        prefix="suspend",
    )
    assert alice.get("/settings/password").status_code == 302  # logged out everywhere
    login(alice, "alice")
    page = alice.get("/").get_data(as_text=True)
    assert "Your account is suspended until" in page and "rude replies" in page
    response = post_form(alice, "/t/1/reply", {"body": "let me back"})
    assert response.status_code == 403
    assert "rude replies" in response.get_data(as_text=True)
    assert "member.suspend" in audit_actions(app)


def test_moderators_cannot_suspend_other_moderators_but_admins_can(app, client, moderator):
    make_member(app, "other-mod", role="moderator")
    make_member(app, "boss", role="admin")
    login(client, "maude")
    post_form(
        client,
        "/moderation/members/other-mod/suspend",
        {"suspend-days": 1, "suspend-reason": "x"},
        prefix="suspend",
    )
    with app.app_context():
        assert (
            db.session.scalar(select(Member.suspended_until).where(Member.handle == "other-mod"))
            is None
        )
    post_form(client, "/logout")
    login(client, "boss")
    post_form(
        client,
        "/moderation/members/other-mod/suspend",
        {"suspend-days": 1, "suspend-reason": "x"},
        prefix="suspend",
    )
    with app.app_context():
        assert db.session.scalar(select(Member.suspended_until).where(Member.handle == "other-mod"))


def test_admins_make_moderators_and_moderators_cannot(app, client, member, moderator):
    make_member(app, "boss", role="admin")
    login(client, "maude")
    response = post_form(
        client,
        "/moderation/members/alice/role",
        {"role-role": "moderator", "role-reason": "helpful"},
        prefix="role",
    )
    assert response.status_code == 403
    post_form(client, "/logout")
    login(client, "boss")
    post_form(
        client,
        "/moderation/members/alice/role",
        {"role-role": "moderator", "role-reason": "helpful"},
        prefix="role",
    )
    with app.app_context():
        assert db.session.get(Member, member).role == Role.MODERATOR
    assert "member.role" in audit_actions(app)


def test_admins_create_boards_and_moderators_cannot(app, client, moderator):
    make_member(app, "boss", role="admin")
    login(client, "maude")
    assert post_form(client, "/moderation/boards/new", {"name": "Agencies"}).status_code == 403
    post_form(client, "/logout")
    login(client, "boss")
    response = post_form(
        client,
        "/moderation/boards/new",
        {"name": "Agencies", "description": "For agencies"},
    )
    assert response.headers["Location"] == "/moderation/boards"
    assert "Agencies" in client.get("/").get_data(as_text=True)
