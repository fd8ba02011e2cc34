"""Atom feeds, sitemaps and robots.txt, read as a feed reader and a crawler read them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.robotparser import RobotFileParser

import feedparser
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Board, Member, Post, Thread
from tests.builders import make_member, make_thread, minutes_ago
from tests.databases import count_queries, db_scalar, db_update, post_id_at
from tests.pages import login

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "http://localhost"


def read_feed(client, url: str, **headers):
    """The feed at url, parsed; it must be well-formed Atom served as Atom."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def titles(parsed) -> list[str]:
    return [entry.title for entry in parsed.entries]


def contents(response) -> list[str]:
    """Each entry's <content> exactly as the feed carries it (feedparser would re-sanitise it)."""
    root = ET.fromstring(response.data)
    return [entry.find(f"{ATOM}content").text for entry in root.iter(f"{ATOM}entry")]


def service(app, call):
    """Run a service as the views do, inside an app context, with rows loaded there."""
    with app.app_context():
        return call(db.session)


def remove(app, moderator_id: int, post_id: int) -> None:
    from forum.threads.services import set_removed

    service(
        app,
        lambda s: set_removed(s.get(Member, moderator_id), s.get(Post, post_id), True, "spam"),
    )


def reply(app, author_id: int, thread_id: int, body: str) -> None:
    from forum.threads.services import reply as reply_service

    service(app, lambda s: reply_service(s.get(Member, author_id), s.get(Thread, thread_id), body))


@pytest.fixture
def second_board(app) -> int:
    with app.app_context():
        board = Board(name="Clients", slug="clients", description="Finding clients", position=1)
        db.session.add(board)
        db.session.commit()
        return board.id


def test_latest_feed_lists_threads_by_newest_activity_with_authors_and_links(
    app, client, member, other_member, board, second_board
):
    first = make_thread(app, member, board, "Invoicing in euros", "How do I *invoice*?")
    second = make_thread(app, other_member, second_board, "Finding a first client")
    db_update(app, Thread, first, last_posted_at=minutes_ago(10))
    db_update(app, Thread, second, last_posted_at=minutes_ago(5))

    parsed = read_feed(client, "/latest/feed.atom")

    assert titles(parsed) == ["Finding a first client", "Invoicing in euros"]
    assert parsed.feed.title == "Latest threads · Community Forum"
    assert parsed.feed.link == f"{BASE}/latest"
    newest, older = parsed.entries
    assert newest.author == "Bob B"
    assert newest.author_detail.href == f"{BASE}/members/bob"
    assert newest.link == f"{BASE}/t/{second}-finding-a-first-client"
    assert older.id == f"{BASE}/t/{first}"
    assert "<em>invoice</em>" in older.content[0].value
    assert parsed.feed.updated_parsed == newest.updated_parsed

    reply(app, other_member, first, "Use a euro account.")
    assert titles(read_feed(client, "/latest/feed.atom")) == [
        "Invoicing in euros",
        "Finding a first client",
    ]


def test_board_feed_holds_only_that_boards_threads(app, client, member, board, second_board):
    make_thread(app, member, board, "On the first board")
    make_thread(app, member, second_board, "On the second board")

    parsed = read_feed(client, "/b/clients/feed.atom")

    assert titles(parsed) == ["On the second board"]
    assert parsed.feed.title == "Clients · Community Forum"
    assert parsed.feed.subtitle == "Finding clients"
    assert client.get("/b/nowhere/feed.atom").status_code == 404


def test_a_renamed_boards_old_feed_address_redirects_to_the_new_one(app, client, board):
    from forum.moderation.services import save_board

    admin = make_member(app, "boss", role="admin")
    service(
        app,
        lambda s: save_board(
            s.get(Member, admin), board, name="Freelancers", description="", slug="freelance"
        ),
    )

    response = client.get("/b/freelancers/feed.atom")

    assert response.status_code == 301
    assert response.headers["Location"] == "/b/freelance/feed.atom"


def test_thread_feed_lists_its_posts_newest_first_linking_each_to_its_page(
    app, client, member, other_member, board
):
    app.config["POSTS_PER_PAGE"] = 2
    thread = make_thread(
        app, member, board, "Rates", "What do you charge?", replies=2, reply_author_id=other_member
    )

    parsed = read_feed(client, f"/t/{thread}/feed.atom")

    assert titles(parsed) == ["Re: Rates", "Re: Rates", "Rates"]
    assert [e.author for e in parsed.entries] == ["Bob B", "Bob B", "Alice A"]
    assert [e.link for e in parsed.entries] == [
        f"{BASE}/t/{thread}-rates?page=2#p3",
        f"{BASE}/t/{thread}-rates#p2",
        f"{BASE}/t/{thread}-rates#p1",
    ]
    assert parsed.entries[0].id == f"{BASE}/p/{post_id_at(app, thread, 3)}"
    assert parsed.feed.link == f"{BASE}/t/{thread}-rates"


def test_member_feed_lists_their_public_posts_across_threads(
    app, client, member, other_member, board
):
    asked = make_thread(app, member, board, "Alice asks")
    make_thread(app, other_member, board, "Bob asks")
    reply(app, member, asked, "Alice adds a detail")

    parsed = read_feed(client, "/members/alice/feed.atom")

    assert titles(parsed) == ["Re: Alice asks", "Alice asks"]
    assert {e.author for e in parsed.entries} == {"Alice A"}
    assert parsed.feed.link == f"{BASE}/members/alice"
    assert client.get("/members/nobody/feed.atom").status_code == 404


def test_a_suspended_members_feed_still_lists_their_visible_posts(
    app, client, member, moderator, board
):
    from forum.moderation.services import suspend

    make_thread(app, member, board, "Posted before the suspension")
    service(app, lambda s: suspend(s.get(Member, moderator), s.get(Member, member), 3, "rude"))

    assert titles(read_feed(client, "/members/alice/feed.atom")) == ["Posted before the suspension"]


def test_entry_ids_stay_put_across_requests_and_edits_while_updated_follows_the_edit(
    app, client, member, board
):
    from forum.threads.services import edit_post

    thread = make_thread(app, member, board, "Stable ids", "First words")
    before = read_feed(client, f"/t/{thread}/feed.atom").entries[0]
    assert read_feed(client, f"/t/{thread}/feed.atom").entries[0].id == before.id
    post_id = post_id_at(app, thread, 1)
    db_update(app, Post, post_id, created_at=minutes_ago(5))

    service(app, lambda s: edit_post(s.get(Member, member), s.get(Post, post_id), "Better words"))

    after = read_feed(client, f"/t/{thread}/feed.atom").entries[0]
    assert after.id == before.id
    assert after.updated_parsed > after.published_parsed
    edited_at = db_scalar(app, select(Post.edited_at).where(Post.id == post_id))
    assert after.updated_parsed[:6] == edited_at.timetuple()[:6]
    assert "Better words" in after.content[0].value
    latest = read_feed(client, "/latest/feed.atom").entries[0]
    assert latest.id == f"{BASE}/t/{thread}"
    assert latest.updated_parsed[:6] == edited_at.timetuple()[:6]


def test_removed_posts_and_hidden_threads_appear_in_no_feed(
    app, client, member, other_member, moderator, board
):
    kept = make_thread(app, member, board, "Kept thread")
    hidden = make_thread(app, member, board, "Hidden thread", "Spam opening")
    reply(app, other_member, kept, "A spam reply")
    reply(app, other_member, kept, "A good reply")
    remove(app, moderator, post_id_at(app, kept, 2))
    remove(app, moderator, post_id_at(app, hidden, 1))

    thread_feed = read_feed(client, f"/t/{kept}/feed.atom")
    assert [e.content[0].value for e in thread_feed.entries] == [
        "<p>A good reply</p>",
        "<p>Opening post</p>",
    ]
    assert titles(read_feed(client, "/latest/feed.atom")) == ["Kept thread"]
    assert titles(read_feed(client, "/b/freelancers/feed.atom")) == ["Kept thread"]
    assert titles(read_feed(client, "/members/alice/feed.atom")) == ["Kept thread"]
    bobs = read_feed(client, "/members/bob/feed.atom")
    assert [e.content[0].value for e in bobs.entries] == ["<p>A good reply</p>"]
    assert client.get(f"/t/{hidden}/feed.atom").status_code == 404
    login(client, "maude")  # a moderator reads the hidden thread's page, not its feed
    assert client.get(f"/t/{hidden}/feed.atom").status_code == 404


def test_entry_content_is_the_stored_sanitised_html_with_absolute_links(
    app, client, member, other_member, board
):
    body = "<script>alert(1)</script> ask @bob, see [the guide](/b/freelancers) :)"
    thread = make_thread(app, member, board, "Markup", body)
    stored = db_scalar(app, select(Post.body_html).where(Post.id == post_id_at(app, thread, 1)))

    for url in (f"/t/{thread}/feed.atom", "/latest/feed.atom", "/members/alice/feed.atom"):
        (content,) = contents(client.get(url))
        assert "<script" not in content
        assert "&lt;script&gt;" in content  # typed HTML shows as text, as on the page
        assert f'href="{BASE}/members/bob"' in content
        assert f'href="{BASE}/b/freelancers"' in content
        assert f'src="{BASE}/static/' in content
        assert content == stored.replace('href="/', f'href="{BASE}/').replace(
            'src="/', f'src="{BASE}/'
        )


def test_feeds_answer_304_to_a_current_etag_or_date_and_change_with_a_new_post(
    app, client, member, board
):
    thread = make_thread(app, member, board, "Conditional")
    db_update(app, Post, post_id_at(app, thread, 1), created_at=minutes_ago(5))
    url = f"/t/{thread}/feed.atom"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "no-cache"

    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.data == b""
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    reply(app, member, thread, "A new post")
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert len(feedparser.parse(after.data).entries) == 2
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/latest/feed.atom", "/b/freelancers/feed.atom", "/t/{t}/feed.atom", "/members/bob/feed.atom"],
)
def test_a_feed_costs_the_same_queries_at_5_posts_or_50(
    app, client, member, other_member, board, url
):
    def queries_for(replies: int) -> tuple[int, int]:
        for n in range(replies // 5):
            make_thread(app, other_member, board, f"Thread {replies}-{n}", replies=4)
        thread = make_thread(
            app, member, board, "Measured", replies=replies, reply_author_id=other_member
        )
        with count_queries(app) as statements:
            parsed = read_feed(client, url.format(t=thread))
        return len(statements), len(parsed.entries)

    few, few_entries = queries_for(5)
    many, many_entries = queries_for(50)
    assert few == many
    assert few_entries < many_entries <= 30


def test_pages_name_their_feeds_in_the_head(app, client, member, moderator, board):
    thread = make_thread(app, member, board, "With a feed")
    hidden = make_thread(app, member, board, "Hidden with no feed")
    remove(app, moderator, post_id_at(app, hidden, 1))

    def feed_links(url: str) -> list[str]:
        html = client.get(url).get_data(as_text=True)
        head = html.split("</head>")[0]
        return [
            part.split('href="')[1].split('"')[0]
            for part in head.split("<link ")[1:]
            if 'rel="alternate" type="application/atom+xml"' in part
        ]

    assert feed_links("/") == ["/latest/feed.atom"]
    assert feed_links("/latest") == ["/latest/feed.atom"]
    assert feed_links("/b/freelancers") == ["/latest/feed.atom", "/b/freelancers/feed.atom"]
    assert feed_links(f"/t/{thread}-with-a-feed") == ["/latest/feed.atom", f"/t/{thread}/feed.atom"]
    assert feed_links("/members/alice") == ["/latest/feed.atom", "/members/alice/feed.atom"]
    for link in feed_links(f"/t/{thread}-with-a-feed") + feed_links("/members/alice"):
        assert client.get(link).status_code == 200
    login(client, "maude")
    assert feed_links(f"/t/{hidden}-hidden-with-no-feed") == ["/latest/feed.atom"]


def sitemap_locs(client, url: str, kind: str) -> list[tuple[str, str | None]]:
    """The (loc, lastmod) pairs of a sitemap or sitemap index, checked against the protocol."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SITEMAP}{'sitemapindex' if kind == 'sitemap' else 'urlset'}"
    found = []
    for item in root:
        assert item.tag == f"{SITEMAP}{kind}"
        assert {child.tag for child in item} <= {f"{SITEMAP}loc", f"{SITEMAP}lastmod"}
        loc, lastmod = item.find(f"{SITEMAP}loc").text, item.find(f"{SITEMAP}lastmod")
        assert loc.startswith(f"{BASE}/")
        found.append((loc, lastmod.text if lastmod is not None else None))
    return found


def test_sitemap_lists_the_public_pages_and_visible_threads_in_files_by_id_range(
    app, client, member, moderator, board
):
    app.config["SITEMAP_URLS_PER_FILE"] = 2
    threads = [make_thread(app, member, board, f"Thread {n}") for n in range(5)]
    remove(app, moderator, post_id_at(app, threads[1], 1))
    remove(app, moderator, post_id_at(app, threads[2], 1))
    chunk = [(t - 1) // 2 + 1 for t in threads]

    index = sitemap_locs(client, "/sitemap.xml", "sitemap")

    files = [loc for loc, _ in index]
    assert files[0] == f"{BASE}/sitemaps/pages.xml"
    expected = sorted({chunk[0], chunk[3], chunk[4]})
    assert files[1:] == [f"{BASE}/sitemaps/threads-{n}.xml" for n in expected]
    assert all(lastmod for _, lastmod in index[1:])
    listed = [
        loc
        for file in files[1:]
        for loc, lastmod in sitemap_locs(client, file.removeprefix(BASE), "url")
        if lastmod
    ]
    assert listed == [f"{BASE}/t/{threads[n]}-thread-{n}" for n in (0, 3, 4)]
    pages = [loc for loc, _ in sitemap_locs(client, "/sitemaps/pages.xml", "url")]
    assert pages == [f"{BASE}/", f"{BASE}/latest", f"{BASE}/b/freelancers"]
    hidden_only = {chunk[1], chunk[2]} - set(expected)
    for number in hidden_only | {0, max(chunk) + 1}:
        assert client.get(f"/sitemaps/threads-{number}.xml").status_code == 404


def test_robots_txt_keeps_crawlers_to_the_public_pages_and_names_the_sitemap(
    app, client, member, board
):
    thread = make_thread(app, member, board, "Crawlable")
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert f"Sitemap: {BASE}/sitemap.xml" in text.splitlines()
    robots = RobotFileParser()
    robots.parse(text.splitlines())
    for public in ("/", "/latest", "/b/freelancers", f"/t/{thread}-crawlable", "/members/alice"):
        assert robots.can_fetch("*", public), public
        assert client.get(public).status_code == 200
    for private in (
        "/search?q=x",
        "/moderation/reports",
        "/members/settings",
        "/login",
        "/register",
        "/notifications",
        "/settings/password",
        "/new",
        "/api/v1/search",
    ):
        assert not robots.can_fetch("*", private), private
    # Every rule names a path the site serves (a route renamed would leave a rule behind).
    rules = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Disallow")]
    served = [rule.rule for rule in app.url_map.iter_rules()]
    for rule in rules:
        prefix, _, suffix = rule.partition("*")
        assert any(s.startswith(prefix) and s.endswith(suffix) for s in served), rule


def test_an_empty_forums_feed_and_sitemap_are_still_valid(app, client):
    assert read_feed(client, "/latest/feed.atom").entries == []
    assert [loc for loc, _ in sitemap_locs(client, "/sitemap.xml", "sitemap")] == [
        f"{BASE}/sitemaps/pages.xml"
    ]
