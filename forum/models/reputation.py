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
    """A distinction moderators create and grant; with a rule, members earn it automatically."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(7), default="#3b6ea5")
    icon: Mapped[str] = mapped_column(String(60), default="")  # a file under static/badges/
    is_retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An automatic badge's rule: all thresholds that are set must hold.
    is_automatic: Mapped[bool] = mapped_column(default=False)
    min_posts: Mapped[int] = mapped_column("rule_min_posts", default=0)
    min_kudos: Mapped[int] = mapped_column("rule_min_kudos", default=0)
    min_solutions: Mapped[int] = mapped_column("rule_min_solutions", default=0)
    min_days: Mapped[int] = mapped_column("rule_min_days", default=0)


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


class RankChange(db.Model):
    """A member's rank history: every change of the rank shown beside their posts."""

    __tablename__ = "rank_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    old_rank: Mapped[str] = mapped_column(String(60), default="")
    new_rank: Mapped[str] = mapped_column(String(60), default="")
    cause: Mapped[str] = mapped_column(String(120), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
