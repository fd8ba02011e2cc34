"""Pure predicates on who may do what; the services enforce them, templates use them to show buttons."""

from __future__ import annotations

from datetime import datetime, timedelta

from forum.database import utcnow
from forum.models import Member, Post, SpammerRemoval, Thread

# How long a "remove spammer" can be undone with one click.
SPAMMER_UNDO_WINDOW = timedelta(days=30)


def can_moderate(member: Member | None) -> bool:
    return member is not None and member.is_authenticated and member.is_moderator


def can_remove_spammer(moderator: Member | None, member: Member) -> bool:
    """Moderators remove members as spammers, never a moderator, an admin or themselves."""
    return can_moderate(moderator) and not member.is_moderator and member.id != moderator.id


def can_undo_spammer_removal(
    member: Member | None, removal: SpammerRemoval, now: datetime | None = None
) -> bool:
    """A moderator undoes a removal once, within the window."""
    return (
        can_moderate(member)
        and removal.undone_at is None
        and (now or utcnow()) - removal.created_at <= SPAMMER_UNDO_WINDOW
    )


def can_post(member: Member | None, now: datetime | None = None) -> bool:
    return member is not None and member.is_authenticated and not member.is_suspended(now)


def can_reply(member: Member | None, thread: Thread) -> bool:
    """Nobody replies to a merged thread, moderators included: its posts live elsewhere now."""
    if not can_post(member) or thread.merged_into_id is not None:
        return False
    return can_moderate(member) or not (thread.is_locked or thread.is_hidden)


def can_edit(
    member: Member | None, post: Post, window: timedelta, now: datetime | None = None
) -> bool:
    """Authors edit within the window (not once removed); moderators edit any time."""
    if can_moderate(member):
        return True
    if not can_post(member, now) or post.author_id != member.id or post.is_removed:
        return False
    return (now or utcnow()) - post.created_at <= window


def can_give_kudos(member: Member | None, post: Post) -> bool:
    return (
        member is not None
        and member.is_authenticated
        and post.author_id != member.id
        and not post.is_removed
    )


def can_accept_solution(member: Member | None, thread: Thread) -> bool:
    """The member who asked, or a moderator."""
    if can_moderate(member):
        return True
    return can_post(member) and thread.author_id == member.id


def can_see_history(member: Member | None, post: Post) -> bool:
    """A post's edit history is its author's and the moderators' (removed posts included)."""
    return can_moderate(member) or (
        member is not None and member.is_authenticated and post.author_id == member.id
    )
