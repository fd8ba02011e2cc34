"""The audit log: every moderator and system action, written inside the action's own transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.models import AuditEntry, Badge, Board, Member, Thread

# What an entry can be about: its id column, and the model, attribute and column that keep the
# object's name as it was when the action happened.
_NAMED = {
    "member_id": (Member, "display_name", "member_name"),
    "thread_id": (Thread, "subject", "thread_subject"),
    "board_id": (Board, "name", "board_name"),
    "badge_id": (Badge, "name", "badge_name"),
}


def _name(session: Session, model, attribute: str, row_id: int | None) -> str:
    row = session.get(model, row_id) if row_id is not None else None
    return getattr(row, attribute) if row is not None else ""


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    *,
    reason: str = "",
    details: str = "",
    post_id: int | None = None,
    **about: int | None,
) -> AuditEntry:
    """Add an entry to the caller's unit of work (it commits with the action) and return it. about
    names what the action concerns: member_id, thread_id, board_id or badge_id; each one's name
    is kept."""
    if unknown := about.keys() - _NAMED.keys():
        raise TypeError(f"an audit entry cannot be about {sorted(unknown)}")
    names = {
        column: _name(session, model, attribute, about.get(key))
        for key, (model, attribute, column) in _NAMED.items()
    }
    entry = AuditEntry(
        actor_id=actor_id,
        actor_name=_name(session, Member, "display_name", actor_id),
        action=action,
        reason=reason,
        details=details,
        post_id=post_id,
        **about,
        **names,
    )
    session.add(entry)
    return entry
