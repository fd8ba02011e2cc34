"""The thread page: what it shows, how it pages, what it costs."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_member, make_thread
from tests.databases import count_queries
from tests.pages import login, post_form

DEMO_URL = "/t/1-what-does-interview-mean-on-upwork"


def articles(html: str) -> list[str]:
    return re.findall(r"<article.*?</article>", html, flags=re.S)


def test_demo_thread_shows_six_posts_numbered_in_order(client, demo):
    html = client.get(DEMO_URL).get_data(as_text=True)
    posts = articles(html)
    assert len(posts) == 6
    for n, post in enumerate(posts, start=1):
        assert f'<span class="post-position">{n} of 6</span>' in post


def test_demo_replies_are_titled_re_subject(client, demo):
    posts = articles(client.get(DEMO_URL).get_data(as_text=True))
    assert ">What does interview mean on Upwork?</a>" in posts[0]
    for post in posts[1:]:
        assert ">Re: What does interview mean on Upwork?</a>" in post


def test_demo_authors_show_rank_member_since_and_signature(client, demo):
    posts = articles(client.get(DEMO_URL).get_data(as_text=True))
    john = posts[1]
    assert ">John K</a>" in john
    assert '<span class="author-title">Community Guru</span>' in john
    assert "Member Since: Feb 17, 2015" in john
    assert '<div class="signature"><p>"No good deed goes unpunished." -- Clare Boothe Luce' in john
    philip = posts[0]
    assert '<span class="author-title">Ace Contributor</span>' in philip
    assert "Member Since: Feb 15, 2017" in philip


def test_demo_last_post_shows_smiley_happy_image(client, demo):
    last = articles(client.get(DEMO_URL).get_data(as_text=True))[5]
    assert re.search(
        r'<img class="emoticon" src="/static/emoticons/[\w-]+\.svg" alt="Smiley Happy"', last
    )


def test_each_post_heading_names_position_author_and_rank(client, demo):
    html = client.get(DEMO_URL).get_data(as_text=True)
    assert (
        'Re: What does interview mean on Upwork?</a><span class="visually-hidden"> — 2 of 6, by John K, Community Guru</span>'
        in html
    )


def test_thread_without_slug_redirects_to_current_slug(client, demo):
    response = client.get("/t/1")
    assert response.status_code == 301
    assert response.headers["Location"] == DEMO_URL


def test_old_slug_redirects_to_current_slug_keeping_the_page(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Old subject", replies=25)
    response = client.get(f"/t/{thread_id}-old-words?page=2")
    assert response.headers["Location"] == f"/t/{thread_id}-old-subject?page=2"


def test_unknown_thread_is_404(client, app):
    assert client.get("/t/999-nothing").status_code == 404


def test_page_past_the_end_is_404(client, demo):
    assert client.get(DEMO_URL + "?page=2").status_code == 404


def test_permalink_lands_on_the_page_holding_the_post(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Long one", replies=44)
    from forum.extensions import db
    from forum.models import Post

    with app.app_context():
        post_id = db.session.scalar(
            db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 41)
        )
    response = client.get(f"/p/{post_id}")
    assert response.headers["Location"] == f"/t/{thread_id}-long-one?page=3#p41"
    page = client.get(f"/t/{thread_id}-long-one?page=3").get_data(as_text=True)
    assert 'id="p41"' in page and "41 of 45" in page


def test_second_page_holds_posts_21_to_40(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Paged", replies=44)
    html = client.get(f"/t/{thread_id}-paged?page=2").get_data(as_text=True)
    positions = [
        int(n) for n in re.findall(r'<span class="post-position">(\d+) of 45</span>', html)
    ]
    assert positions == list(range(21, 41))


def page_queries(app, client, url: str) -> int:
    with count_queries(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_thread_page_queries_are_the_same_at_5_and_500_posts(app, client, member, board, logged_in):
    writer = make_member(app, "writer")
    small = make_thread(app, writer, board, subject="Small", replies=4)
    big = make_thread(app, writer, board, subject="Big", replies=499)
    if logged_in:
        login(client, "alice")
    counts = {
        "5 posts": page_queries(app, client, f"/t/{small}-small"),
        "500 posts, page 1": page_queries(app, client, f"/t/{big}-big"),
        "500 posts, page 25": page_queries(app, client, f"/t/{big}-big?page=25"),
    }
    assert len(set(counts.values())) == 1, counts
    assert counts["5 posts"] <= 8, counts


def test_removed_post_keeps_its_number_and_shows_a_placeholder(
    app, client, member, moderator, board
):
    thread_id = make_thread(app, member, board, subject="Removal", replies=2)
    login(client, "maude")
    from forum.extensions import db
    from forum.models import Post

    with app.app_context():
        post_id = db.session.scalar(
            db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 2)
        )
    post_form(client, f"/moderation/posts/{post_id}/remove")
    client.get("/")  # the moderator sees the text; a member must not
    post_form(client, "/logout")
    login(client, "alice")
    html = client.get(f"/t/{thread_id}-removal").get_data(as_text=True)
    posts = articles(html)
    assert len(posts) == 3
    assert "This post was removed by a moderator." in posts[1]
    assert "Reply number 1" not in posts[1]
    assert "2 of 3" in posts[1] and "3 of 3" in posts[2]


def test_removing_the_opening_post_hides_the_thread(app, client, member, moderator, board):
    thread_id = make_thread(app, member, board, subject="Hide me", replies=1)
    login(client, "maude")
    post_form(client, "/moderation/posts/1/remove")
    post_form(client, "/logout")
    assert client.get(f"/t/{thread_id}-hide-me").status_code == 404
    assert "Hide me" not in client.get("/b/freelancers").get_data(as_text=True)


def test_board_list_shows_counts_and_latest_post(client, demo):
    html = client.get("/").get_data(as_text=True)
    assert ">Freelancers</a>" in html
    assert 'data-label="Threads">1</td>' in html and 'data-label="Posts">6</td>' in html
    assert "by Philip D" in html


def test_board_page_lists_pinned_threads_first_with_reply_counts(app, client, member, board):
    from forum.extensions import db
    from forum.models import Thread

    first = make_thread(app, member, board, subject="Pinned rules", replies=3)
    make_thread(app, member, board, subject="Newer question")
    with app.app_context():
        db.session.get(Thread, first).is_pinned = True
        db.session.commit()
    html = client.get("/b/freelancers").get_data(as_text=True)
    assert html.index("Pinned rules") < html.index("Newer question")
    assert re.search(
        r'Pinned rules</a>.*?</td>\s*<td [^>]*data-label="Replies">3</td>', html, flags=re.S
    )


def test_cached_post_blocks_follow_a_change_of_the_authors_rank_at_once(app, client, member, board):
    thread_id = make_thread(app, member, board, subject="Cached", replies=2)
    url = f"/t/{thread_id}-cached"
    assert client.get(url).get_data(as_text=True).count('author-title">New Member<') == 3
    from forum.extensions import db
    from forum.models import Member
    from forum.reputation.services import refresh_rank

    with app.app_context():
        db.session.get(Member, member).post_count = 60
        db.session.get(Member, member).kudos_received = 30
        db.session.get(Member, member).solution_count = 3
        refresh_rank(db.session, member, "test")
        db.session.commit()
    assert client.get(url).get_data(as_text=True).count('author-title">Ace Contributor<') == 3


def test_each_viewer_sees_their_own_buttons_on_the_same_cached_posts(
    app, client, member, other_member, board
):
    thread_id = make_thread(app, member, board, subject="Buttons")
    url = f"/t/{thread_id}-buttons"
    anonymous = client.get(url).get_data(as_text=True)
    assert "Give kudos" not in anonymous and "Edit</a>" not in anonymous
    login(client, "alice")
    author = client.get(url).get_data(as_text=True)
    assert "Edit</a>" in author and "Give kudos" not in author
    bob = app.test_client()
    login(bob, "bob")
    other = bob.get(url).get_data(as_text=True)
    assert "Give kudos" in other and "Edit</a>" not in other
