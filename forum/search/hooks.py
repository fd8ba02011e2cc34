"""Session listeners that keep the index following the database through the outbox.

after_flush writes "post N changed" rows in the same transaction as the change (so a rollback
takes them away); after_commit asks the search service to drain; a kudos or a counter, which
change by bulk UPDATE and touch no searchable field, write nothing.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import insert, inspect, literal, select
from sqlalchemy.orm import Session

from forum.database import listen_to_every_session, utcnow
from forum.models import Board, IndexOutbox, Member, Post, Thread
from forum.search import EXTENSION

log = logging.getLogger(__name__)
PENDING = "search_outbox_written"
POST_FIELDS = ("subject", "body_source", "is_removed", "thread_id", "author_id", "position")
THREAD_FIELDS = ("subject", "board_id", "is_hidden", "solution_post_id")
MEMBER_FIELDS = ("display_name", "handle")
BOARD_FIELDS = ("slug",)  # board: in the search box matches the slug


def _changed(obj, fields: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


def queue_changes(session: Session, _flush_context) -> None:
    post_ids = {o.id for o in session.new if isinstance(o, Post)}
    post_ids |= {o.id for o in session.deleted if isinstance(o, Post)}
    post_ids |= {o.id for o in session.dirty if isinstance(o, Post) and _changed(o, POST_FIELDS)}
    thread_ids = {
        o.id for o in session.dirty if isinstance(o, Thread) and _changed(o, THREAD_FIELDS)
    }
    member_ids = {
        o.id for o in session.dirty if isinstance(o, Member) and _changed(o, MEMBER_FIELDS)
    }
    board_ids = {o.id for o in session.dirty if isinstance(o, Board) and _changed(o, BOARD_FIELDS)}
    if not (post_ids or thread_ids or member_ids or board_ids):
        return
    now = utcnow()
    connection = session.connection()
    if post_ids:
        connection.execute(
            insert(IndexOutbox), [{"post_id": i, "created_at": now} for i in sorted(post_ids)]
        )
    for column, ids in ((Post.thread_id, thread_ids), (Post.author_id, member_ids)):
        if ids:
            connection.execute(
                insert(IndexOutbox).from_select(
                    ["post_id", "created_at"],
                    select(Post.id, literal(now, IndexOutbox.created_at.type)).where(
                        column.in_(ids)
                    ),
                )
            )
    if board_ids:
        connection.execute(
            insert(IndexOutbox).from_select(
                ["post_id", "created_at"],
                select(Post.id, literal(now, IndexOutbox.created_at.type))
                .join(Thread, Thread.id == Post.thread_id)
                .where(Thread.board_id.in_(board_ids)),
            )
        )
    session.info[PENDING] = True


def drain_after_commit(session: Session) -> None:
    if not session.info.pop(PENDING, False) or not has_app_context():
        return
    service = current_app.extensions.get(EXTENSION)
    if service is None or not current_app.config["SEARCH_DRAIN_AFTER_COMMIT"]:
        return
    try:
        # Bounded, so a change touching thousands of posts (a rename) costs no request seconds:
        # the rest is drained by the task queue, and a member's own new post is applied here.
        service.catch_up(current_app.config["SEARCH_DRAIN_IN_REQUEST"])
    except Exception:  # the post is saved; its outbox row waits for the next drain
        log.exception("draining the search outbox failed")


def forget_pending(session: Session, _previous_transaction=None) -> None:
    session.info.pop(PENDING, None)


def register() -> None:
    """Follow every Session: queue changes at flush, drain after commit, forget on rollback."""
    listen_to_every_session(
        after_flush=queue_changes, after_commit=drain_after_commit, after_rollback=forget_pending
    )
