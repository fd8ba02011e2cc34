"""Threads and their posts. A post's position ("N of M") is stored, so pages are found by range."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.database import UTCDateTime, utcnow
from forum.extensions import db
from forum.models.board import Board
from forum.models.member import Member


class Thread(db.Model):
    """A question and its replies. post_count is M in "N of M" and counts removed posts too."""

    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_board_listing", "board_id", "is_pinned", "last_posted_at"),
        # The cross-board lists (forum/threads/lists.py) walk these newest first, a keyset page
        # at a time; the leading equality columns are the lists' filters.
        Index("ix_threads_latest", "is_hidden", "last_posted_at", "id"),
        Index("ix_threads_no_replies", "is_hidden", "post_count", "last_posted_at", "id"),
        Index("ix_threads_no_solution", "is_hidden", "solution_post_id", "last_posted_at", "id"),
        # A board's feed: its public threads newest activity first, pinned or not.
        Index("ix_threads_board_latest", "board_id", "is_hidden", "last_posted_at", "id"),
        UniqueConstraint("board_id", "import_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    post_count: Mapped[int] = mapped_column(default=0)
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )
    last_posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    solution_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )
    is_locked: Mapped[bool] = mapped_column(default=False)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    is_hidden: Mapped[bool] = mapped_column(default=False)  # its opening post was removed
    # A duplicate merged into another thread: a hidden, empty row whose URL redirects to where
    # its posts went (merged_post_id: the first of them, so the redirect can name its position).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL", use_alter=True)
    )
    merged_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    import_key: Mapped[str | None] = mapped_column(String(255))

    board: Mapped[Board] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    last_post: Mapped[Post | None] = relationship(foreign_keys=[last_post_id])
    solution_post: Mapped[Post | None] = relationship(foreign_keys=[solution_post_id])

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)

    @property
    def is_solved(self) -> bool:
        return self.solution_post_id is not None


class Post(db.Model):
    """One post. Removed posts keep their position; members see a placeholder instead."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("thread_id", "position"),
        Index("ix_posts_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    position: Mapped[int]
    subject: Mapped[str] = mapped_column(String(210))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    kudos_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    is_removed: Mapped[bool] = mapped_column(default=False)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    edited_by: Mapped[Member | None] = relationship(foreign_keys=[edited_by_id])


class Kudos(db.Model):
    """One member's kudos on one post; the primary key makes a second one impossible."""

    __tablename__ = "kudos"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostRevision(db.Model):
    """A version of a post that an edit replaced (the current one lives on the post): kept for
    its author and moderators, removed posts included."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1 is the post as first written
    subject: Mapped[str] = mapped_column(String(210))
    body_source: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)

    written_by: Mapped[Member | None] = relationship()
