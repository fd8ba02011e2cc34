"""Drafts: the reply or new thread a member has not posted yet, kept as they type.

A draft may be empty or half-written; only its size is checked, against the limits posts have.
The posting services clear it (clear(), in the post's own transaction), so it never outlives the
post it became. Nothing here imports the posting services: they import this.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forum import permissions
from forum.database import utcnow, write_transaction
from forum.errors import InvalidInput, NotAllowed
from forum.extensions import db
from forum.models import Board, Draft, Member, Thread
from forum.text import storable

MAX_DRAFT_SUBJECT = Draft.__table__.c.subject.type.length


def check_draft_body(body: str) -> str:
    """A draft's body fits what a post may hold (FORUM_MAX_POST_LENGTH); it may be empty."""
    body = storable(body)
    limit = current_app.config["MAX_POST_LENGTH"]
    if len(body) > limit:
        raise InvalidInput(f"Drafts are at most {limit:,} characters ({len(body):,} given).")
    return body


def check_draft_subject(subject: str) -> str:
    subject = storable(subject)
    if len(subject) > MAX_DRAFT_SUBJECT:
        raise InvalidInput(f"Subjects are at most {MAX_DRAFT_SUBJECT} characters.")
    return subject


def _key(member: Member, thread: Thread | None, board: Board | None) -> dict[str, int]:
    """Which draft: the member's reply to a thread, or their new thread on a board."""
    if (thread is None) == (board is None):
        raise ValueError("a draft belongs to a thread or a board")
    if thread is not None:
        return {"member_id": member.id, "thread_id": thread.id}
    return {"member_id": member.id, "board_id": board.id}


def _check_can_draft(member: Member, thread: Thread | None) -> None:
    """A draft is a post not yet sent: whoever may not post it may not keep it either."""
    allowed = permissions.can_reply(member, thread) if thread else permissions.can_post(member)
    if not allowed:
        raise NotAllowed("You cannot post here, so there is no draft to keep.")


def save_draft(
    member: Member,
    *,
    thread: Thread | None = None,
    board: Board | None = None,
    subject: str = "",
    body: str,
) -> None:
    """Keep what the member has typed (one row per thread or board, replaced each time); a
    draft with nothing in it is no draft, and goes."""
    _check_can_draft(member, thread)
    subject, body = check_draft_subject(subject), check_draft_body(body)
    key = _key(member, thread, board)
    with write_transaction() as session:
        if not (subject.strip() or body.strip()):
            clear(session, **key)
            return
        dialect = session.connection().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        values = {"subject": subject, "body": body, "updated_at": utcnow()}
        # An upsert: two tabs saving at once must not fail on the unique key.
        session.execute(
            insert(Draft)
            .values(**key, **values)
            .on_conflict_do_update(index_elements=list(key), set_=values)
        )


def discard_draft(
    member: Member, *, thread: Thread | None = None, board: Board | None = None
) -> None:
    """Throw the member's draft away (nothing happens when there is none)."""
    key = _key(member, thread, board)
    with write_transaction() as session:
        clear(session, **key)


def clear(
    session: Session, *, member_id: int, thread_id: int | None = None, board_id: int | None = None
) -> None:
    """Delete a member's draft inside the caller's unit of work (the post it became)."""
    column, value = (Draft.thread_id, thread_id) if thread_id else (Draft.board_id, board_id)
    session.execute(delete(Draft).where(Draft.member_id == member_id, column == value))


def draft_for(
    member: Member, *, thread: Thread | None = None, board: Board | None = None
) -> Draft | None:
    """The member's own draft of a reply or a new thread, if they have one."""
    key = _key(member, thread, board)
    return db.session.scalar(select(Draft).filter_by(**key))


def latest_thread_draft(member: Member) -> Draft | None:
    """The member's most recently saved new-thread draft, on any board (the bare /new form)."""
    return db.session.scalar(
        select(Draft)
        .where(Draft.member_id == member.id, Draft.board_id.is_not(None))
        .order_by(Draft.updated_at.desc(), Draft.id.desc())
        .limit(1)
    )
