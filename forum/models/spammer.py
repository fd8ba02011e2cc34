"""Remove-spammer actions: what each one hid and the suspension it set, so undo restores just that."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.database import UTCDateTime, utcnow
from forum.extensions import db
from forum.models.member import Member


class SpammerRemoval(db.Model):
    """One "remove spammer" action on a member, and its undo."""

    __tablename__ = "spammer_removals"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The audit entry it wrote, so the audit log can offer the undo.
    audit_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_log.id", ondelete="SET NULL"), index=True
    )
    post_count: Mapped[int] = mapped_column(default=0)  # posts this action hid
    thread_count: Mapped[int] = mapped_column(default=0)  # threads hidden with their opening post
    # The suspension it set, and the member's suspension before it (restored on undo).
    suspended_until: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_suspension_reason: Mapped[str] = mapped_column(String(255), default="")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    moderator: Mapped[Member | None] = relationship(foreign_keys=[moderator_id])
    undone_by: Mapped[Member | None] = relationship(foreign_keys=[undone_by_id])


class SpammerRemovalPost(db.Model):
    """A post a removal flipped from visible to removed (posts already removed are not listed)."""

    __tablename__ = "spammer_removal_posts"

    removal_id: Mapped[int] = mapped_column(
        ForeignKey("spammer_removals.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Whether the removal taught the spam classifier this post (at most SPAM_LEARNT_POSTS of
    # them), so undo takes back exactly those.
    learnt_as_spam: Mapped[bool] = mapped_column(default=False, server_default=false())
