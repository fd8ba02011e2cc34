"""The forum's tables, one module per aggregate."""

from forum.models.board import Board
from forum.models.member import Member, MemberSession, Role
from forum.models.reputation import Badge, MemberBadge, Rank
from forum.models.search import IndexOutbox, SearchMiss
from forum.models.thread import Kudos, Post, Thread

__all__ = [
    "Badge",
    "Board",
    "IndexOutbox",
    "Kudos",
    "Member",
    "MemberBadge",
    "MemberSession",
    "Post",
    "Rank",
    "Role",
    "SearchMiss",
    "Thread",
]
