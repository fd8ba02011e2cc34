"""Database plumbing: SQLite pragmas and write transactions, UTC-aware timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from forum.extensions import db

WRITE_OPTION = "forum_write"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns aware datetimes, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use forum.database.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def configure_sqlite(engine: Engine) -> None:
    """WAL, a generous busy timeout, foreign keys, and BEGIN IMMEDIATE only for writes.

    pysqlite's own transaction handling is switched off so we emit BEGIN ourselves: write units of
    work take the write lock up front (no deadlocking lock upgrade), page views stay deferred.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[Session]:
    """One unit of work that writes: begins as a writer, commits once, rolls back on error.

    A read transaction already open (the login lookup, objects a view loaded) is ended first so
    the writes start from fresh data and, on SQLite, take the write lock before reading.
    """
    session = db.session()
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def listen_to_every_session(**listeners) -> None:
    """Hook a session-event outbox's listeners (event name=function) onto every Session, once
    per process: the apps of one process (the tests build many) share them."""
    name, listener = next(iter(listeners.items()))
    if event.contains(Session, name, listener):
        return
    for name, listener in listeners.items():
        event.listen(Session, name, listener)


LIST_PAGE_SIZE = 50


def page_of_rows(statement, page: int, per_page: int = LIST_PAGE_SIZE):
    """One page of a listing: Flask-SQLAlchemy's Pagination (items, page, pages, total)."""
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)
