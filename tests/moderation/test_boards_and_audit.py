"""Boards admins can readdress and order, and an audit log that names what each entry concerns."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from forum.extensions import db
from forum.models import AuditEntry, Board, Member, Thread
from forum.search import get_search
from tests.builders import make_member, make_thread
from tests.pages import field_error, login, post_form


def edit_board(client, board_id: int, **fields):
    data = {"name": "Freelancers", "description": "", "slug": ""} | fields
    return post_form(client, f"/moderation/boards/{board_id}", data)


def front_page_boards(client) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'<a class="board-name" href="[^"]+">([^<]+)</a>', html)


def admin_client(app, client):
    make_member(app, "boss", role="admin", display_name="Boss B")
    login(client, "boss")
    return client


def test_a_boards_new_address_serves_it_and_the_old_one_redirects_for_good(
    app, client, member, board
):
    make_thread(app, member, board, subject="Rates", body="hourly rates aardvark")
    admin_client(app, client)
    response = edit_board(client, board, slug="Freelance-Work")
    assert response.headers["Location"] == "/moderation/boards"
    assert client.get("/b/freelance-work").status_code == 200
    old = client.get("/b/freelancers?page=1")
    assert old.status_code == 301
    assert old.headers["Location"] == "/b/freelance-work?page=1"
    assert get_search(app).search("aardvark board:freelance-work").total == 1
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.board_name) == ("board.update", "Freelancers")
        assert entry.details == "address /b/freelancers -> /b/freelance-work"


def test_a_board_can_take_back_its_old_address_and_a_current_address_beats_an_old_one(
    app, client, board
):
    admin_client(app, client)
    edit_board(client, board, slug="gigs")
    edit_board(client, board, slug="freelancers")
    assert client.get("/b/freelancers").status_code == 200
    assert client.get("/b/gigs").headers["Location"] == "/b/freelancers"
    post_form(client, "/moderation/boards/new", {"name": "Gigs", "slug": "gigs"})
    gigs = client.get("/b/gigs")
    assert gigs.status_code == 200 and "<h1>Gigs</h1>" in gigs.get_data(as_text=True)


def test_a_bad_or_taken_address_is_refused_beside_the_field(app, client, board):
    admin_client(app, client)
    post_form(client, "/moderation/boards/new", {"name": "Clients"})
    for slug, message in (
        ("help desk!", "An address of at most 80 lower-case letters, digits and hyphens"),
        ("a" * 81, "An address of at most 80 lower-case letters, digits and hyphens"),
        ("clients", "Another board already has that address."),
    ):
        response = edit_board(client, board, slug=slug)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert message in (field_error(html, "slug") or field_error(html, "name") or "")
    with app.app_context():
        assert db.session.get(Board, board).slug == "freelancers"


def test_new_boards_go_last_and_admins_move_boards_up_and_down(app, client, board):
    admin_client(app, client)
    for name in ("Clients", "Agencies"):
        post_form(client, "/moderation/boards/new", {"name": name})
    assert front_page_boards(client) == ["Freelancers", "Clients", "Agencies"]
    with app.app_context():
        agencies = db.session.scalar(select(Board.id).where(Board.name == "Agencies"))
    response = post_form(client, f"/moderation/boards/{agencies}/move/up")
    assert response.headers["Location"] == "/moderation/boards"
    assert front_page_boards(client) == ["Freelancers", "Agencies", "Clients"]
    post_form(client, f"/moderation/boards/{board}/move/down")
    assert front_page_boards(client) == ["Agencies", "Freelancers", "Clients"]
    post_form(client, f"/moderation/boards/{agencies}/move/up")  # already first: nothing moves
    assert front_page_boards(client) == ["Agencies", "Freelancers", "Clients"]
    listing = client.get("/moderation/boards").get_data(as_text=True)
    assert listing.count("Move up") == 2 and listing.count("Move down") == 2
    assert listing.count('name="csrf_token"') >= 4, "each button carries its CSRF token"


def test_boards_that_share_a_position_get_an_order_of_their_own_when_one_moves(app, client):
    with app.app_context():
        db.session.add_all([Board(name=n, slug=n.lower(), position=0) for n in "CBA"])
        db.session.commit()
        a = db.session.scalar(select(Board.id).where(Board.name == "A"))
    admin_client(app, client)
    assert front_page_boards(client) == ["A", "B", "C"]
    post_form(client, f"/moderation/boards/{a}/move/down")
    assert front_page_boards(client) == ["B", "A", "C"]
    with app.app_context():
        positions = sorted(db.session.scalars(select(Board.position)))
    assert positions == [0, 1, 2]


def test_the_audit_log_names_boards_members_and_threads_as_they_were(
    app, client, member, moderator, board
):
    with app.app_context():
        db.session.add(Board(name="Clients", slug="clients"))
        db.session.commit()
        clients = db.session.scalar(select(Board.id).where(Board.slug == "clients"))
    thread = make_thread(app, member, board, subject="Wrong place")
    login(client, "maude")
    post_form(client, f"/moderation/threads/{thread}/move", {"board": clients})
    post_form(
        client,
        "/moderation/members/alice/suspend",
        {"suspend-days": 2, "suspend-reason": "rude"},
        prefix="suspend",
    )
    with app.app_context():  # later: the member renames, the thread is deleted
        db.session.get(Member, member).display_name = "Alicia"
        db.session.execute(delete(Thread).where(Thread.id == thread))
        db.session.commit()
    make_member(app, "boss", role="admin")
    login(client, "boss")
    html = client.get("/moderation/audit").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)
    move = next(row for row in rows if "thread.move" in row)
    assert "Wrong place (deleted)" in move
    assert '<a href="/b/clients">Clients</a>' in move and "from Freelancers" in move
    assert "board 1" not in html
    suspend = next(row for row in rows if "member.suspend" in row)
    assert '<a href="/members/alice">Alice A</a>' in suspend  # the name at the time
    assert '<a href="/members/maude">Maude M</a>' in suspend
