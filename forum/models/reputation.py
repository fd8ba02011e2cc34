"""The rank ladder and badges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.database import UTCDateTime, utcnow
from forum.extensions import db


class Rank(db.Model):
    """A rung of the ladder; a member holds the highest rung whose thresholds all hold."""

    __tablename__ = "ranks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(unique=True)
    min_posts: Mapped[int] = mapped_column(default=0)
    min_kudos: Mapped[int] = mapped_column(default=0)
    min_solutions: Mapped[int] = mapped_column(default=0)
    min_days: Mapped[int] = mapped_column(default=0)


class Badge(db.Model):
    """A distinction moderators create and grant."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(7), default="#3b6ea5")
    is_retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberBadge(db.Model):
    """A badge held by a member; granted_by is None when the system granted it (import, rule)."""

    __tablename__ = "member_badges"
    __table_args__ = (UniqueConstraint("member_id", "badge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    badge: Mapped[Badge] = relationship(lazy="joined")
