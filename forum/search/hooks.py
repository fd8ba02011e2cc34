"""Session listeners that keep the index following the database, whatever the backend.

after_flush tells the backend what changed, inside the transaction (Whoosh writes outbox rows,
so a rollback takes them away); after_commit asks it to drain what it recorded; a kudos or a
counter, which change by bulk UPDATE and touch no searchable field, change nothing here.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from forum.database import listen_to_every_session
from forum.models import Board, Member, Post, Thread
from forum.search import EXTENSION
from forum.search.backend import Changes

log = logging.getLogger(__name__)
PENDING = "search_changes_recorded"
POST_FIELDS = ("subject", "body_source", "is_removed", "thread_id", "author_id", "position")
THREAD_FIELDS = ("subject", "board_id", "is_hidden", "solution_post_id")
MEMBER_FIELDS = ("display_name", "handle")
BOARD_FIELDS = ("slug",)  # board: in the search box matches the slug


def _changed(obj, fields: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


def _dirty(session: Session, model: type, fields: tuple[str, ...]) -> frozenset[int]:
    return frozenset(o.id for o in session.dirty if isinstance(o, model) and _changed(o, fields))


def queue_changes(session: Session, _flush_context) -> None:
    posts = {o.id for o in session.new if isinstance(o, Post)}
    posts |= {o.id for o in session.deleted if isinstance(o, Post)}
    changes = Changes(
        posts=frozenset(posts) | _dirty(session, Post, POST_FIELDS),
        threads=_dirty(session, Thread, THREAD_FIELDS),
        members=_dirty(session, Member, MEMBER_FIELDS),
        boards=_dirty(session, Board, BOARD_FIELDS),
    )
    if not changes:
        return
    # Every session that changes posts runs in an app context (requests, CLI, tasks); one that
    # did not would leave the index behind until `search check --repair`, so say so.
    service = current_app.extensions.get(EXTENSION) if has_app_context() else None
    if service is None:
        log.warning("posts changed outside the forum app: the search index was not told")
        return
    service.backend.index_in_transaction(session, changes)
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
