"""The audit log: every moderator and system action, written inside the action's own transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.models import AuditEntry


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    *,
    reason: str = "",
    details: str = "",
    **about: int | None,
) -> None:
    """Add an entry to the caller's unit of work (it commits with the action). about names what
    the action concerns: member_id, thread_id, post_id or badge_id (others raise TypeError)."""
    session.add(
        AuditEntry(actor_id=actor_id, action=action, reason=reason, details=details, **about)
    )
