"""The cross-board lists: /latest and /unanswered (no replies, no accepted solution)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum.database import utcnow
from forum.models import Board, Thread
from tests.builders import make_member, make_thread
from tests.databases import count_queries, db_update, post_id_at
from tests.pages import login, post_form

LISTS = ("/latest", "/unanswered", "/unanswered/no-solution")


def rows(html: str) -> list[str]:
    """The table rows of a list page (the header row left out)."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, flags=re.S)[1]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def subjects(html: str) -> list[str]:
    return re.findall(r'class="thread-link" href="[^"]+">([^<]+)</a>', html)


def older_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next">Older</a>', html)
    return match[1].replace("&amp;", "&") if match else None


@pytest.fixture
def second_board(app) -> int:
    from forum.extensions import db

    with app.app_context():
        board = Board(name="Clients", slug="clients", position=1)
        db.session.add(board)
        db.session.commit()
        return board.id


def at_minutes_ago(app, thread_id: int, minutes: int) -> None:
    """Move a thread's last activity into the past, so the order of a list is known."""
    db_update(app, Thread, thread_id, last_posted_at=utcnow() - timedelta(minutes=minutes))


def test_latest_lists_threads_of_every_board_newest_activity_first(
    app, client, member, other_member, board, second_board
):
    old = make_thread(app, member, board, subject="Oldest question")
    make_thread(app, member, second_board, subject="Middle question")
    make_thread(app, member, board, subject="Newest question")
    make_thread(app, other_member, board, subject="Fresh reply here", replies=0)
    from forum.extensions import db
    from forum.models import Member
    from forum.threads import services

    with app.app_context():
        services.reply(db.session.get(Member, other_member), db.session.get(Thread, old), "Hi")

    html = client.get("/latest").get_data(as_text=True)

    assert subjects(html) == [
        "Oldest question",
        "Fresh reply here",
        "Newest question",
        "Middle question",
    ]
    first, *_, last = rows(html)
    assert "by Alice A" in first and ">Freelancers</a>" in first
    assert '<td class="count" data-label="Replies">1</td>' in first and re.search(
        r"</time></a>\s*<span class=\"meta\">by Bob B", first
    )
    assert ">Clients</a>" in last and 'data-label="Replies">0</td>' in last


def test_unanswered_lists_only_threads_nobody_has_replied_to(app, client, member, board):
    make_thread(app, member, board, subject="Answered", replies=1)
    make_thread(app, member, board, subject="Waiting")

    html = client.get("/unanswered").get_data(as_text=True)

    assert subjects(html) == ["Waiting"]
    assert '<a href="/unanswered" aria-current="page">No replies</a>' in html


def test_no_solution_tab_leaves_out_solved_threads_which_latest_marks_solved(
    app, client, member, other_member, board
):
    solved = make_thread(app, member, board, subject="Solved one", replies=1)
    make_thread(app, member, board, subject="Open one", replies=1)
    login(client, "alice")
    reply_id = post_id_at(app, solved, 2)
    post_form(client, f"/t/{solved}/solution", {"post_id": reply_id})

    unsolved = client.get("/unanswered/no-solution").get_data(as_text=True)
    latest = client.get("/latest").get_data(as_text=True)

    assert subjects(unsolved) == ["Open one"]
    assert 'aria-current="page">No accepted solution</a>' in unsolved
    [open_row] = rows(unsolved)
    assert "badge-solved" not in open_row
    marked = {s: "badge-solved" in r for s, r in zip(subjects(latest), rows(latest), strict=True)}
    assert marked == {"Solved one": True, "Open one": False}


@pytest.mark.parametrize("viewer", [None, "alice", "maude"])
def test_hidden_threads_never_appear_in_any_list(app, client, member, moderator, board, viewer):
    hidden = make_thread(app, member, board, subject="Spam thread")
    make_thread(app, member, board, subject="Real question")
    login(client, "maude")
    post_form(client, f"/moderation/posts/{post_id_at(app, hidden, 1)}/remove")
    post_form(client, "/logout")
    if viewer:
        login(client, viewer)

    for url in LISTS:
        html = client.get(url).get_data(as_text=True)
        assert subjects(html) == ["Real question"], url
        assert "Spam thread" not in html


def test_locked_threads_are_in_latest_but_not_waiting_for_answers(app, client, member, board):
    locked = make_thread(app, member, board, subject="Locked question")
    db_update(app, Thread, locked, is_locked=True)

    assert subjects(client.get("/latest").get_data(as_text=True)) == ["Locked question"]
    for url in LISTS[1:]:
        assert subjects(client.get(url).get_data(as_text=True)) == [], url


@pytest.mark.parametrize("url", LISTS)
def test_lists_page_by_keyset_through_every_thread_once(app, client, member, board, url):
    app.config["THREADS_PER_PAGE"] = 2
    for n in range(5):
        at_minutes_ago(app, make_thread(app, member, board, subject=f"Question {n}"), n)

    seen, pages, next_url = [], [], url
    while next_url:
        html = client.get(next_url).get_data(as_text=True)
        pages.append(html)
        seen += subjects(html)
        next_url = older_link(html)

    assert seen == [f"Question {n}" for n in range(5)]
    assert len(pages) == 3
    assert "Newest</a>" not in pages[0] and f'<a href="{url}">Newest</a>' in pages[2]


def test_threads_with_the_same_activity_time_are_neither_lost_nor_repeated(
    app, client, member, board
):
    app.config["THREADS_PER_PAGE"] = 2
    same = utcnow() - timedelta(hours=1)
    for n in range(5):
        db_update(
            app, Thread, make_thread(app, member, board, subject=f"Tie {n}"), last_posted_at=same
        )

    seen, next_url = [], "/latest"
    while next_url:
        html = client.get(next_url).get_data(as_text=True)
        seen += subjects(html)
        next_url = older_link(html)

    assert seen == [f"Tie {n}" for n in reversed(range(5))]  # ties: the newer thread first


@pytest.mark.parametrize(
    "query",
    ["after=", "after=abc", "after=1.", "after=.1", "after=-5.1", "after=1.2.3", "after=1e9.1",
     "after=" + "9" * 30 + ".1", "after=1." + "9" * 23],
)  # fmt: skip
def test_a_page_cursor_no_link_carries_is_a_404(client, app, query):
    assert client.get(f"/latest?{query}").status_code == 404


def test_an_unknown_unanswered_tab_is_a_404(client, app):
    assert client.get("/unanswered/latest").status_code == 404


def test_every_page_header_links_to_latest_and_unanswered(client, app):
    html = client.get("/").get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    assert '<a href="/latest">Latest</a>' in header
    assert '<a href="/unanswered">Unanswered</a>' in header


def list_queries(app, client, url: str) -> int:
    with count_queries(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_list_pages_cost_the_same_queries_at_5_and_50_threads(
    app, client, member, other_member, board, second_board, logged_in
):
    """Threads by different members on different boards, some answered by a third: each row's
    board, author and last poster come with the list's one query."""
    writer = make_member(app, "writer")
    if logged_in:
        login(client, "alice")

    def add_threads(numbers: range) -> None:
        for n in numbers:
            author, board_id = (writer, other_member)[n % 2], (board, second_board)[n % 2]
            make_thread(app, author, board_id, f"Q{n}", replies=n % 3 // 2, reply_author_id=member)

    add_threads(range(5))
    at_5 = {url: list_queries(app, client, url) for url in LISTS}
    add_threads(range(5, 50))
    at_50 = {url: list_queries(app, client, url) for url in LISTS}

    assert at_5 == at_50
    assert max(at_50.values()) <= 4, at_50
