"""The forum's tables, one module per aggregate."""

from forum.models.board import Board, BoardOldSlug
from forum.models.draft import Draft
from forum.models.member import Member, MemberSession, Role
from forum.models.moderation import (
    AuditEntry,
    HeldPost,
    HeldStatus,
    Report,
    ReportStatus,
    SiteSettings,
)
from forum.models.notification import (
    EmailPreference,
    EventKind,
    Frequency,
    Kind,
    MailDelivery,
    MailStatus,
    MemberMute,
    Notification,
    NotificationEvent,
    Subscription,
    ThreadRead,
    WatchLevel,
)
from forum.models.reputation import Badge, MemberBadge, Rank, RankChange
from forum.models.search import IndexOutbox, SearchMiss
from forum.models.thread import Kudos, Post, PostRevision, Thread

__all__ = [
    "AuditEntry",
    "Badge",
    "Board",
    "BoardOldSlug",
    "Draft",
    "EmailPreference",
    "EventKind",
    "Frequency",
    "HeldPost",
    "HeldStatus",
    "IndexOutbox",
    "Kind",
    "Kudos",
    "MailDelivery",
    "MailStatus",
    "Member",
    "MemberBadge",
    "MemberMute",
    "MemberSession",
    "Notification",
    "NotificationEvent",
    "Post",
    "PostRevision",
    "Rank",
    "RankChange",
    "Report",
    "ReportStatus",
    "Role",
    "SearchMiss",
    "SiteSettings",
    "Subscription",
    "Thread",
    "ThreadRead",
    "WatchLevel",
]
