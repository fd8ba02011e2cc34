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
from forum.models.registration import Refusal, RefusedRegistration, Registration
from forum.models.reputation import Badge, MemberBadge, Rank, RankChange
from forum.models.search import IndexOutbox, SearchMiss
from forum.models.spam import SpamToken
from forum.models.spammer import SpammerRemoval, SpammerRemovalPost
from forum.models.thread import Kudos, Post, PostRevision, Thread
from forum.models.token import ApiToken

__all__ = [
    "ApiToken",
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
    "Refusal",
    "RefusedRegistration",
    "Registration",
    "Report",
    "ReportStatus",
    "Role",
    "SearchMiss",
    "SiteSettings",
    "SpamToken",
    "SpammerRemoval",
    "SpammerRemovalPost",
    "Subscription",
    "Thread",
    "ThreadRead",
    "WatchLevel",
]
