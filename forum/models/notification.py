"""Watching, notifications, read positions and the e-mail they send.

What must be notified is recorded as a NotificationEvent in the transaction that caused it (the
way the search outbox works); a worker turns each event into Notification rows and MailDelivery
rows in one transaction, and sends the mail later, so a crash loses nothing.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from forum.database import UTCDateTime, utcnow
from forum.extensions import db


def _key_to(table: str):
    """A primary-key column that is also a cascading foreign key (a pair's member, thread...)."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True)


def _enum(kind: type[enum.StrEnum], length: int = 24) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [k.value for k in e]
    )


class Kind(enum.StrEnum):
    """What a notification is about; each kind has its own e-mail preference."""

    THREAD_REPLY = "thread_reply"  # a reply in a thread you started
    WATCHED_REPLY = "watched_reply"  # a reply in another thread you watch
    NEW_THREAD = "new_thread"  # a new thread on a board you watch
    MENTION = "mention"
    QUOTE = "quote"
    SOLUTION = "solution"  # your reply was accepted
    KUDOS = "kudos"
    BADGE = "badge"
    RANK = "rank"
    MODERATION = "moderation"  # a moderator removed your post


class Frequency(enum.StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"
    NEVER = "never"


class WatchLevel(enum.StrEnum):
    WATCHING = "watching"
    MUTED = "muted"


class Subscription(db.Model):
    """A member watching (or muting) one thread or one whole board; no row means neither."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("member_id", "thread_id"),
        UniqueConstraint("member_id", "board_id"),
        Index("ix_subscriptions_thread_level", "thread_id", "level"),
        Index("ix_subscriptions_board_level", "board_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    level: Mapped[WatchLevel] = mapped_column(_enum(WatchLevel, 16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberMute(db.Model):
    """A member who wants no notifications caused by another member."""

    __tablename__ = "member_mutes"

    member_id: Mapped[int] = _key_to("members")
    muted_id: Mapped[int] = _key_to("members")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventKind(enum.StrEnum):
    POST = "post"  # a new thread or reply: watchers, board watchers, mentions, quotes
    KUDOS = "kudos"
    SOLUTION = "solution"
    BADGE = "badge"
    RANK = "rank"
    MODERATION = "moderation"


class NotificationEvent(db.Model):
    """Something happened that may notify members: the outbox the notification worker drains."""

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, 16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    details: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)  # failed tries; given up after a few
    last_error: Mapped[str] = mapped_column(String(500), default="")


class Notification(db.Model):
    """One line in a member's notifications; unread ones of the same group collapse into one.

    group_key names what collapses ("thread:12" for replies, "kudos:55" for kudos on a post): a
    partial unique index keeps one unread row per member and group.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_member_updated", "member_id", "updated_at"),
        Index(
            "uq_notifications_unread_group",
            "member_id",
            "group_key",
            unique=True,
            sqlite_where=text("is_read = 0"),
            postgresql_where=text("NOT is_read"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind))
    group_key: Mapped[str] = mapped_column(String(80))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(default=1)  # replies or kudos collapsed into this row
    others: Mapped[int] = mapped_column(default=0)  # other members besides the actor
    details: Mapped[str] = mapped_column(String(255), default="")
    is_read: Mapped[bool] = mapped_column(default=False)
    is_emailed: Mapped[bool] = mapped_column(default=False)  # sent at once or in a digest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThreadRead(db.Model):
    """How far a member has read a thread: the highest position they have had on screen."""

    __tablename__ = "thread_reads"

    member_id: Mapped[int] = _key_to("members")
    thread_id: Mapped[int] = _key_to("threads")
    last_read_position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailPreference(db.Model):
    """A member's choice for one kind; kinds without a row follow forum.notifications.DEFAULTS."""

    __tablename__ = "email_preferences"

    member_id: Mapped[int] = _key_to("members")
    kind: Mapped[Kind] = mapped_column(_enum(Kind), primary_key=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, 16))


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; a claim older than the timeout is retried
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class MailDelivery(db.Model):
    """One e-mail, composed when it was decided and sent later, always with the same Message-ID.

    (event_id, member_id) is unique, so a fan-out repeated after a crash cannot queue a second
    copy; a retry of a claimed message resends it under its recorded Message-ID.
    """

    __tablename__ = "mail_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        Index("ix_mail_deliveries_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_events.id", ondelete="SET NULL")
    )
    purpose: Mapped[str] = mapped_column(String(24))  # a notification kind, digest, or account
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str] = mapped_column(String(500), default="")
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus, 16), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
