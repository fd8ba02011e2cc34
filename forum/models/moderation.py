"""What moderators act on and the record of what they did."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.database import UTCDateTime, utcnow
from forum.extensions import db
from forum.models.board import Board
from forum.models.member import Member
from forum.models.thread import Post, Thread


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    REMOVED = "removed"  # resolved by removing the post
    DISMISSED = "dismissed"


class Report(db.Model):
    """A member's report of a post, waiting in the moderators' queue until resolved."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[ReportStatus] = mapped_column(
        Enum(
            ReportStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [s.value for s in e],
        ),
        default=ReportStatus.OPEN,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship()
    reporter: Mapped[Member] = relationship(foreign_keys=[reporter_id])


class AuditEntry(db.Model):
    """One moderator or system action: who did what to whom, why, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="SET NULL"))
    # Names at the time of the action: a later rename or deletion leaves the entry readable.
    actor_name: Mapped[str] = mapped_column(String(60), default="")
    member_name: Mapped[str] = mapped_column(String(60), default="")
    thread_subject: Mapped[str] = mapped_column(String(200), default="")
    board_name: Mapped[str] = mapped_column(String(80), default="")
    badge_name: Mapped[str] = mapped_column(String(60), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
    board: Mapped[Board | None] = relationship()


class HeldStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class HeldPost(db.Model):
    """A submission waiting for a moderator (a new member's first posts, ...).

    Not a Post until approved: pages, counts, ranks, search, feeds and notifications read posts,
    so a held submission is absent from all of them without a filter anywhere. It goes to a board
    (a new thread, with its subject) or to a thread (a reply).
    """

    __tablename__ = "held_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(200), default="")  # a new thread's
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text, default="")  # why it is held, one per line
    status: Mapped[HeldStatus] = mapped_column(
        Enum(
            HeldStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [s.value for s in e],
        ),
        default=HeldStatus.PENDING,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    # The spam verdict when it was submitted (None: not scored, e.g. too little training yet), and
    # the [token, probability] pairs that drove it, so the queue shows why as it was then.
    spam_score: Mapped[float | None] = mapped_column(Float)
    spam_reasons: Mapped[list | None] = mapped_column(JSON)

    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    board: Mapped[Board | None] = relationship()
    thread: Mapped[Thread | None] = relationship()

    @property
    def reason_list(self) -> list[str]:
        return [reason for reason in self.reasons.split("\n") if reason]


class SiteSettings(db.Model):
    """The admins' settings for new members, one row (id 1), edited on /moderation/settings.

    Until an admin first saves the page there is no row and the FORUM_* config values apply
    (forum/threads/holds.py), so a deployment or a test suite picks its starting values.
    """

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_first_posts: Mapped[int]
    new_member_posts: Mapped[int]
    new_member_link_cap: Mapped[int]
    new_member_post_interval: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
