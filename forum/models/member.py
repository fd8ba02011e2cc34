"""Members, their server-side login sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.database import UTCDateTime, utcnow
from forum.extensions import db

if TYPE_CHECKING:
    from forum.models.reputation import Badge, Rank


def initials(display_name: str, handle: str) -> str:
    """Avatar letters: "Philip D" -> "PD"."""
    letters = [part[0] for part in display_name.split() if part[:1].isalnum()]
    return "".join(letters[:2]).upper() or handle[:1].upper()


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Member(UserMixin, db.Model):
    """A person with an account. Counters change only through atomic UPDATEs in the services.

    Flask-Login identifies a login by its MemberSession token (see get_id), not by the member id,
    so ending a session on the server really logs that browser out.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(30), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [r.value for r in e]),
        default=Role.MEMBER,
    )
    member_since: Mapped[date] = mapped_column(default=lambda: utcnow().date())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rank_id: Mapped[int | None] = mapped_column(ForeignKey("ranks.id", ondelete="SET NULL"))
    fixed_rank_id: Mapped[int | None] = mapped_column(ForeignKey("ranks.id", ondelete="SET NULL"))
    featured_badge_id: Mapped[int | None] = mapped_column(
        ForeignKey("badges.id", ondelete="SET NULL", use_alter=True)
    )
    signature_source: Mapped[str] = mapped_column(Text, default="")
    signature_html: Mapped[str] = mapped_column(Text, default="")
    post_count: Mapped[int] = mapped_column(default=0)
    kudos_received: Mapped[int] = mapped_column(default=0)
    solution_count: Mapped[int] = mapped_column(default=0)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str] = mapped_column(String(255), default="")
    # Never shown to other members; stored lower-case, so unique ignoring case.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_watch: Mapped[bool] = mapped_column(default=True)  # watch threads you start or reply to
    # Unread notification rows, kept by the notification services so the header costs no query.
    unread_notifications: Mapped[int] = mapped_column(default=0)
    # Their submissions waiting for a moderator, kept by the services so the thread page looks
    # for them only when there are some.
    pending_posts: Mapped[int] = mapped_column(default=0)
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An IANA name chosen in settings; None follows the browser on pages, UTC in e-mail.
    time_zone: Mapped[str | None] = mapped_column(String(64))

    rank: Mapped[Rank | None] = relationship(foreign_keys=[rank_id], lazy="joined")
    fixed_rank: Mapped[Rank | None] = relationship(foreign_keys=[fixed_rank_id], lazy="joined")
    featured_badge: Mapped[Badge | None] = relationship(
        foreign_keys=[featured_badge_id], lazy="joined"
    )

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def shown_rank(self) -> Rank | None:
        """The rank shown: a fixed rank (set by a moderator or an import) wins over the ladder."""
        return self.fixed_rank or self.rank

    @property
    def title(self) -> str:
        """What stands under the name on a post: the featured badge, else the rank."""
        if self.featured_badge is not None:
            return self.featured_badge.name
        rank = self.shown_rank
        return rank.name if rank else ""

    @property
    def initials(self) -> str:
        return initials(self.display_name, self.handle)

    def is_suspended(self, now: datetime | None = None) -> bool:
        return self.suspended_until is not None and self.suspended_until > (now or utcnow())

    session_token = None  # the login token, set by the login and the user loader; not a column

    def get_id(self) -> str | None:
        return self.session_token


class MemberSession(db.Model):
    """One login. Flask-Login stores its token, so deleting the row ends that login everywhere."""

    __tablename__ = "member_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    member: Mapped[Member] = relationship(lazy="joined", innerjoin=True)
