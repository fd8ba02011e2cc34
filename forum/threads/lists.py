"""Lists of threads across every board (latest activity, unanswered), a keyset page at a time."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import false, select, tuple_
from sqlalchemy.orm import joinedload, load_only, raiseload

from forum.extensions import db
from forum.models import Member, Post, Thread

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Listing(enum.StrEnum):
    """Which threads a list holds; each has an index that serves its order."""

    LATEST = "latest"  # every listed thread, newest activity first
    NO_REPLIES = "no-replies"  # nobody has replied yet
    NO_SOLUTION = "no-solution"  # no accepted solution yet


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last thread's activity time and id (ids break ties)."""

    at: datetime
    id: int

    @property
    def token(self) -> str:
        """The ?after= value: microseconds since 1970 and the id, exact on both databases."""
        return f"{(self.at - EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor a token names; ValueError for anything a page link never carries."""
        micros, _, thread_id = token.partition(".")
        if not (micros.isdigit() and thread_id.isdigit() and len(micros) <= 17):
            raise ValueError(f"not a page cursor: {token[:40]!r}")
        if int(thread_id) > 2**63 - 1:
            raise ValueError("thread id out of range")
        return cls(EPOCH + timedelta(microseconds=int(micros)), int(thread_id))


@dataclass(frozen=True)
class ThreadPage:
    threads: list[Thread]
    older: Cursor | None  # where the next page starts, if there is one


def public_threads() -> tuple:
    """Which threads anyone may read: those whose opening post was not removed."""
    return (Thread.is_hidden == false(),)


def public_posts() -> tuple:
    """Which posts anyone may read: not removed, in a public thread (a query joining Thread).
    Held posts wait in a table of their own, so they are never here."""
    return (Post.is_removed == false(), *public_threads())


def _listed(listing: Listing):
    """Which threads a list shows. Hidden threads never (not even to moderators: these lists are
    where members look for questions), and locked ones are no question anyone can answer."""
    where = list(public_threads())
    if listing is Listing.NO_REPLIES:
        where += [Thread.post_count == 1, Thread.is_locked == false()]
    elif listing is Listing.NO_SOLUTION:
        where += [Thread.solution_post_id.is_(None), Thread.is_locked == false()]
    return where


def thread_row_options() -> tuple:
    """What a row of a thread list shows: the thread, and its author's and last poster's names.

    Loading each author's ranks and badge and each last post's body made board pages the slowest
    listing; anything else a template asks of these objects raises in the tests rather than
    costing a query per row."""
    names_only = (
        load_only(Member.id, Member.handle, Member.display_name, raiseload=True),
        raiseload("*"),
    )
    return (
        joinedload(Thread.author).options(*names_only),
        joinedload(Thread.last_post)
        .options(load_only(Post.id, Post.author_id, raiseload=True))
        .joinedload(Post.author)
        .options(*names_only),
    )


def thread_list(
    listing: Listing, *, after: Cursor | None, per_page: int, board_id: int | None = None
) -> ThreadPage:
    """One page of a list, newest activity first (of one board's threads, if given): one query,
    a keyset range walked down an index (ix_threads_*), so page 100 costs what page 1 costs."""
    statement = (
        select(Thread)
        .where(*_listed(listing))
        .options(*thread_row_options())
        .order_by(Thread.last_posted_at.desc(), Thread.id.desc())
        .limit(per_page + 1)  # one more says whether another page follows
    )
    if board_id is not None:
        statement = statement.where(Thread.board_id == board_id)
    if after is not None:
        # A row value, not "a < x OR (a = x AND id < y)": both databases seek the index to it.
        statement = statement.where(tuple_(Thread.last_posted_at, Thread.id) < (after.at, after.id))
    threads = list(db.session.scalars(statement).unique())
    if len(threads) <= per_page:
        return ThreadPage(threads, None)
    last = threads[per_page - 1]
    return ThreadPage(threads[:per_page], Cursor(last.last_posted_at, last.id))
