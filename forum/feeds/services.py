"""What the feeds and sitemaps list: public content only, by the threads area's own rules.

Every URL is absolute under FORUM_BASE_URL (forum.links.site_url), as in e-mail: a feed or a
sitemap is read away from the site, and never depends on the Host a request named.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.links import site_post_url, site_url
from forum.mail import absolute_links
from forum.models import Board, Member, Post, Thread
from forum.threads import lists
from forum.threads.services import visible_thread

FEED_ENTRIES = 30  # what a reader polling every hour on a busy board still sees whole


@dataclass(frozen=True)
class Entry:
    id: str  # a permalink that no rename, move or new page changes
    title: str
    link: str
    author_name: str
    author_link: str
    published: datetime
    updated: datetime
    html: str  # the stored sanitised HTML, its links made absolute


@dataclass(frozen=True)
class Feed:
    title: str
    subtitle: str
    link: str  # the page the feed follows
    self_link: str
    entries: tuple[Entry, ...]

    @property
    def updated(self) -> datetime | None:
        return max((entry.updated for entry in self.entries), default=None)

    @property
    def etag(self) -> str:
        """A digest of everything the feed shows, taken before any XML is written: an edit,
        a removal, a new post or a renamed author changes it."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:32]


def _post_rows(*where, order_by):
    """The newest public posts matching where, with what an entry shows (one query)."""
    return db.session.execute(
        select(
            Post.id,
            Post.position,
            Post.subject,
            Post.body_html,
            Post.created_at,
            Post.edited_at,
            Post.thread_id,
            Thread.slug,
            Member.handle,
            Member.display_name,
        )
        .join(Thread, Thread.id == Post.thread_id)
        .join(Member, Member.id == Post.author_id)
        .where(*lists.public_posts(), *where)
        .order_by(*order_by)
        .limit(FEED_ENTRIES)
    ).all()


def _post_entry(row) -> Entry:
    return Entry(
        id=site_url("threads.permalink", post_id=row.id),
        title=row.subject,
        link=site_post_url(row.thread_id, row.slug, row.position),
        author_name=row.display_name,
        author_link=site_url("members.profile", handle=row.handle),
        published=row.created_at,
        updated=row.edited_at or row.created_at,
        html=absolute_links(row.body_html),
    )


def _thread_entries(threads: list[Thread]) -> tuple[Entry, ...]:
    """A thread as an entry: its opening post, updated by its latest activity (one query for
    all the opening posts)."""
    openings = {
        row.thread_id: row
        for row in db.session.execute(
            select(Post.thread_id, Post.body_html, Post.edited_at, Member.handle)
            .join(Member, Member.id == Post.author_id)
            .where(Post.thread_id.in_([t.id for t in threads]), Post.position == 1)
        )
    }
    entries = []
    for thread in threads:
        opening = openings[thread.id]
        entries.append(
            Entry(
                id=site_url("threads.thread", thread_id=thread.id),
                title=thread.subject,
                link=site_url("threads.thread", thread_id=thread.id, slug=thread.slug),
                author_name=thread.author.display_name,
                author_link=site_url("members.profile", handle=opening.handle),
                published=thread.created_at,
                updated=max(thread.last_posted_at, opening.edited_at or thread.created_at),
                html=absolute_links(opening.body_html),
            )
        )
    return tuple(entries)


def _latest_threads(board_id: int | None = None) -> tuple[Entry, ...]:
    page = lists.thread_list(
        lists.Listing.LATEST, after=None, per_page=FEED_ENTRIES, board_id=board_id
    )
    return _thread_entries(page.threads)


def latest_feed() -> Feed:
    """Threads on every board, the most recent activity first (the Latest page)."""
    return Feed(
        title="Latest threads · Community Forum",
        subtitle="Threads on every board, the most recent activity first.",
        link=site_url("threads.latest"),
        self_link=site_url("feeds.latest"),
        entries=_latest_threads(),
    )


def board_feed(board: Board) -> Feed:
    """A board's threads, the most recent activity first (pinned ones take no precedence)."""
    return Feed(
        title=f"{board.name} · Community Forum",
        subtitle=board.description or f"Threads on {board.name}.",
        link=site_url("threads.board", slug=board.slug),
        self_link=site_url("feeds.board", slug=board.slug),
        entries=_latest_threads(board.id),
    )


def thread_feed(thread_id: int) -> Feed | None:
    """A public thread's newest posts; None for a thread no visitor may see."""
    thread = visible_thread(thread_id, None)  # feeds are public: a moderator sees what all see
    if thread is None:
        return None
    rows = _post_rows(Post.thread_id == thread.id, order_by=[Post.position.desc()])
    return Feed(
        title=f"{thread.subject} · Community Forum",
        subtitle=f"Posts in “{thread.subject}” on {thread.board.name}.",
        link=site_url("threads.thread", thread_id=thread.id, slug=thread.slug),
        self_link=site_url("feeds.thread", thread_id=thread.id),
        entries=tuple(map(_post_entry, rows)),
    )


def member_feed(member: Member) -> Feed:
    """A member's newest public posts. A suspended member's stay listed: a suspension stops
    posting, it does not take back what was posted (a moderator removes posts one by one)."""
    rows = _post_rows(
        Post.author_id == member.id, order_by=[Post.created_at.desc(), Post.id.desc()]
    )
    return Feed(
        title=f"Posts by {member.display_name} · Community Forum",
        subtitle=f"The newest posts of @{member.handle}.",
        link=site_url("members.profile", handle=member.handle),
        self_link=site_url("feeds.member", handle=member.handle),
        entries=tuple(map(_post_entry, rows)),
    )


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: datetime | None = None


def _urls_per_file() -> int:
    return current_app.config["SITEMAP_URLS_PER_FILE"]


def sitemap_files() -> list[SitemapUrl]:
    """The sitemap index: the pages file, then one file per range of thread ids that holds a
    public thread, each with its newest activity (one grouped query)."""
    size = _urls_per_file()
    chunk = ((Thread.id - 1) // size + 1).label("chunk")
    chunks = db.session.execute(
        select(chunk, func.max(Thread.last_posted_at))
        .where(*lists.public_threads())
        .group_by(chunk)
        .order_by(chunk)
    ).all()
    return [SitemapUrl(site_url("feeds.sitemap_pages"))] + [
        SitemapUrl(site_url("feeds.sitemap_threads", number=number), lastmod)
        for number, lastmod in chunks
    ]


def sitemap_pages() -> list[SitemapUrl]:
    """The front page, the Latest page and every board, with its last post's time."""
    boards = db.session.scalars(
        select(Board).options(joinedload(Board.last_post)).order_by(Board.position, Board.name)
    ).unique()
    return [SitemapUrl(site_url("threads.index")), SitemapUrl(site_url("threads.latest"))] + [
        SitemapUrl(
            site_url("threads.board", slug=board.slug),
            board.last_post.created_at if board.last_post else None,
        )
        for board in boards
    ]


def sitemap_threads(number: int) -> list[SitemapUrl]:
    """The public threads whose ids fall in the number-th range, by id: a keyset range on the
    primary key, so the last file costs what the first does."""
    size = _urls_per_file()
    rows = db.session.execute(
        select(Thread.id, Thread.slug, Thread.last_posted_at)
        .where(*lists.public_threads(), Thread.id.between((number - 1) * size + 1, number * size))
        .order_by(Thread.id)
    )
    return [
        SitemapUrl(site_url("threads.thread", thread_id=id_, slug=slug), lastmod)
        for id_, slug, lastmod in rows
    ]
