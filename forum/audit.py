"""The audit log: every moderator and system action, written inside the action's own transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.models import AuditEntry


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    *,
    member_id: int | None = None,
    thread_id: int | None = None,
    post_id: int | None = None,
    badge_id: int | None = None,
    reason: str = "",
    details: str = "",
) -> None:
    """Add an entry to the caller's unit of work (it commits with the action)."""
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            member_id=member_id,
            thread_id=thread_id,
            post_id=post_id,
            badge_id=badge_id,
            reason=reason,
            details=details,
        )
    )
