"""The index outbox: how a backend that writes outside the database (Whoosh) follows it.

The transaction that changes a post writes an "index post 42" row (so a rollback takes it away);
after the commit the backend's drain applies pending rows and deletes them. A held lock, a full
disk or a crash leaves the rows for the next writer or `flask search drain`: nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Row, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from forum.database import WRITE_OPTION, utcnow
from forum.models import IndexOutbox, Post, Thread
from forum.search.backend import Changes

BATCH = 1000


class Outbox:
    """The outbox table, read and written in sessions of its own (record uses the caller's)."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def record(self, session: Session, changes: Changes) -> None:
        """Write a row per changed post in the session's transaction, without loading the posts
        of a renamed thread, member or board (INSERT ... SELECT)."""
        now = utcnow()
        connection = session.connection()
        if changes.posts:
            connection.execute(
                insert(IndexOutbox),
                [{"post_id": i, "created_at": now} for i in sorted(changes.posts)],
            )
        stamp = literal(now, IndexOutbox.created_at.type)
        for column, ids in ((Post.thread_id, changes.threads), (Post.author_id, changes.members)):
            if ids:
                connection.execute(
                    insert(IndexOutbox).from_select(
                        ["post_id", "created_at"], select(Post.id, stamp).where(column.in_(ids))
                    )
                )
        if changes.boards:
            connection.execute(
                insert(IndexOutbox).from_select(
                    ["post_id", "created_at"],
                    select(Post.id, stamp)
                    .join(Thread, Thread.id == Post.thread_id)
                    .where(Thread.board_id.in_(changes.boards)),
                )
            )

    def rows(self, session: Session, after_id: int | None, size: int) -> list[Row]:
        """Up to size rows (id, post_id) after after_id, or the newest size when after_id is None
        (read in the caller's session, which loads their posts next)."""
        query = select(IndexOutbox.id, IndexOutbox.post_id).limit(size)
        if after_id is None:
            query = query.order_by(IndexOutbox.id.desc())
        else:
            query = query.where(IndexOutbox.id > after_id).order_by(IndexOutbox.id)
        return list(session.execute(query).all())

    def ids(self) -> list[int]:
        """Every row's id (a rebuild drops the rows its scan covers)."""
        with self.session_factory() as session:
            return list(session.scalars(select(IndexOutbox.id)))

    def delete(self, ids: list[int]) -> None:
        """Delete rows by id (never by range: a lower id may still be uncommitted)."""
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_(chunk)))
            session.commit()

    def queue(self, post_ids: list[int]) -> None:
        """Ask for posts to be indexed again (a check's repair)."""
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            session.execute(IndexOutbox.__table__.insert(), [{"post_id": i} for i in post_ids])
            session.commit()

    def pending(self) -> int:
        with self.session_factory() as session:
            return session.scalar(select(func.count()).select_from(IndexOutbox))

    def oldest(self) -> datetime | None:
        with self.session_factory() as session:
            return session.scalar(select(func.min(IndexOutbox.created_at)))
