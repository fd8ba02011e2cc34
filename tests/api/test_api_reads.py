"""The API's reads: boards, a board's threads by keyset, a thread with its posts, a post, a
profile, search; ETags; problem+json errors; the OpenAPI document and its page."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from sqlalchemy import update

from forum.extensions import db
from forum.models import Badge, Member, Post, Thread
from tests.builders import make_thread
from tests.databases import db_update, post_id_at
from tests.pages import login

PROBLEM = "application/problem+json"


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    return body


def test_the_openapi_document_is_valid_3_1_and_lists_every_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    operations = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert {
        ("GET", "/api/v1/boards"),
        ("GET", "/api/v1/boards/{slug}/threads"),
        ("GET", "/api/v1/threads/{thread_id}"),
        ("GET", "/api/v1/posts/{post_id}"),
        ("GET", "/api/v1/members/{handle}"),
        ("GET", "/api/v1/search"),
        ("POST", "/api/v1/threads"),
        ("POST", "/api/v1/threads/{thread_id}/posts"),
        ("PATCH", "/api/v1/posts/{post_id}"),
        ("PUT", "/api/v1/posts/{post_id}/kudos"),
        ("DELETE", "/api/v1/posts/{post_id}/kudos"),
        ("PUT", "/api/v1/threads/{thread_id}/solution"),
        ("PUT", "/api/v1/threads/{thread_id}/watch"),
        ("DELETE", "/api/v1/threads/{thread_id}/watch"),
    } <= operations
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    start = spec["paths"]["/api/v1/threads"]["post"]["responses"]
    assert set(start["401"]["content"]) == {"application/problem+json"}
    unprocessable = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert unprocessable["content"]["application/problem+json"]["schema"]["$ref"].endswith(
        "Problem"
    )


def test_the_docs_page_lists_the_operations_without_scripts(client):
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "POST /api/v1/threads" in html and "GET /api/v1/boards/{slug}/threads" in html
    assert "<script" not in html.split("</header>")[-1]


def test_boards_are_listed_in_order_with_their_threads_link(client, board):
    data = client.get("/api/v1/boards").get_json()
    assert [b["slug"] for b in data["boards"]] == ["freelancers"]
    assert data["boards"][0]["threads"] == "http://localhost/api/v1/boards/freelancers/threads"


def test_board_threads_come_a_keyset_page_at_a_time_through_next_links(app, client, board, member):
    app.config["THREADS_PER_PAGE"] = 2
    ids = [make_thread(app, member, board, subject=f"Question {n}") for n in range(5)]
    db_update(app, Member, member, display_name="Alice A")
    seen, url = [], "/api/v1/boards/freelancers/threads"
    while url:
        data = client.get(url).get_json()
        seen += [t["id"] for t in data["threads"]]
        url = data["next"]
    assert seen == ids[::-1]
    first = client.get("/api/v1/boards/freelancers/threads").get_json()["threads"][0]
    assert first["author"] == {"handle": "alice", "display_name": "Alice A"}
    assert first["reply_count"] == 0 and first["is_solved"] is False


def test_a_cursor_that_no_next_link_carries_is_a_field_error(client, board):
    response = client.get("/api/v1/boards/freelancers/threads?after=nonsense")
    assert problem_of(response, 422)["errors"] == {"after": ["Not a cursor from a next link."]}


def test_a_thread_shows_its_posts_with_positions_authors_kudos_and_solution(
    app, client, board, member, other_member
):
    thread = make_thread(app, member, board, replies=2, reply_author_id=other_member)
    with app.app_context():
        badge = Badge(name="Helper")
        db.session.add(badge)
        db.session.flush()
        db.session.execute(
            update(Member).where(Member.id == other_member).values(featured_badge_id=badge.id)
        )
        db.session.commit()
    db_update(app, Thread, thread, solution_post_id=post_id_at(app, thread, 2))
    data = client.get(f"/api/v1/threads/{thread}").get_json()
    assert data["pages"] == 1 and data["next"] is None
    assert [(p["position"], p["of"]) for p in data["posts"]] == [(1, 3), (2, 3), (3, 3)]
    reply = data["posts"][1]
    assert reply["author"]["handle"] == "bob" and reply["author"]["featured_badge"] == "Helper"
    assert reply["author"]["title"] == "Helper" and reply["author"]["rank"]
    assert reply["is_solution"] is True and data["posts"][2]["is_solution"] is False
    assert reply["kudos"] == 0 and "Reply number 1" in reply["body_html"]


def test_a_long_thread_is_paged_with_next_links(app, client, board, member):
    app.config["POSTS_PER_PAGE"] = 2
    thread = make_thread(app, member, board, replies=2)
    first = client.get(f"/api/v1/threads/{thread}").get_json()
    second = client.get(first["next"]).get_json()
    assert [p["position"] for p in first["posts"] + second["posts"]] == [1, 2, 3]
    assert second["next"] is None
    assert problem_of(client.get(f"/api/v1/threads/{thread}?page=3"), 404)


def test_a_removed_post_is_a_placeholder_without_its_text(app, client, board, member):
    thread = make_thread(app, member, board, replies=1)
    db_update(app, Post, post_id_at(app, thread, 2), is_removed=True)
    removed = client.get(f"/api/v1/threads/{thread}").get_json()["posts"][1]
    assert removed["is_removed"] is True and removed["body_html"] is None
    assert removed["placeholder"] == "This post was removed by a moderator."
    alone = client.get(f"/api/v1/posts/{post_id_at(app, thread, 2)}").get_json()
    assert alone["body_html"] is None and alone["position"] == 2


def test_a_hidden_thread_is_404_except_for_moderators(app, client, board, member, moderator):
    thread = make_thread(app, member, board)
    db_update(app, Thread, thread, is_hidden=True)
    post = post_id_at(app, thread, 1)
    assert problem_of(client.get(f"/api/v1/threads/{thread}"), 404)["detail"] == "No such thread."
    assert problem_of(client.get(f"/api/v1/posts/{post}"), 404)
    login(client, "maude")
    assert client.get(f"/api/v1/threads/{thread}").status_code == 200


def test_a_profile_is_public_and_never_has_the_email(app, client, member):
    db_update(app, Member, member, email="alice@example.com")
    response = client.get("/api/v1/members/alice")
    data = response.get_json()
    assert data["handle"] == "alice" and data["display_name"] == "Alice A"
    assert "alice@example.com" not in response.get_data(as_text=True)
    assert problem_of(client.get("/api/v1/members/nobody"), 404)


def test_search_answers_json_from_the_search_service(app, client, board, member):
    make_thread(app, member, board, subject="Wombat invoices", body="About wombats")
    data = client.get("/api/v1/search?q=wombat").get_json()
    assert data["total"] >= 1 and data["results"][0]["subject"] == "Wombat invoices"
    assert problem_of(client.get("/api/v1/search?page=0"), 422)["errors"]["page"]


@pytest.mark.parametrize("path", ["/api/v1/boards", "/api/v1/members/alice"])
def test_a_read_answers_304_to_its_own_etag(client, member, path):
    first = client.get(path)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_a_changed_resource_gets_a_new_etag(app, client, member):
    etag = client.get("/api/v1/members/alice").headers["ETag"]
    db_update(app, Member, member, display_name="Alice Again")
    changed = client.get("/api/v1/members/alice", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_unknown_urls_and_methods_are_problems_but_html_pages_stay_html(client):
    assert problem_of(client.get("/api/v1/nothing-here"), 404)
    not_allowed = problem_of(client.delete("/api/v1/boards"), 405)
    assert not_allowed["title"] == "Method Not Allowed"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_cors_is_off_by_default_and_allows_configured_origins_for_reads(app, client, board):
    origin = {"Origin": "https://helpdesk.example"}
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/boards", headers=origin).headers
    app.config["API_CORS_ORIGINS"] = ["https://helpdesk.example"]
    allowed = client.get("/api/v1/boards", headers=origin)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://helpdesk.example"
    other = client.get("/api/v1/boards", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    write = client.post("/api/v1/threads", json={}, headers=origin)
    assert "Access-Control-Allow-Origin" not in write.headers
