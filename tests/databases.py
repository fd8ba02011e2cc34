"""Databases for tests: configs, migrated PostgreSQL schemas, and reads behind the app's back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask

from forum import create_app

PG_URL = os.environ.get("FORUM_TEST_DATABASE_URL", "")
REQUIRE_SERVICES = os.environ.get("FORUM_REQUIRE_SERVICES") == "1"


def need_service(reason: str) -> None:
    """Skip a test whose service is not configured, or fail under FORUM_REQUIRE_SERVICES=1."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (FORUM_REQUIRE_SERVICES=1 turns this skip into a failure)")
    pytest.skip(reason)


def config_for_tests(database_url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": f"forum-sqlite://{tmp_path / 'ratelimits.sqlite'}",
        "TASK_QUEUE_URL": "memory://",  # tests run the jobs themselves (forum.tasks.run_pending_work)
        "BASE_URL": "http://localhost",
        "MAIL_FILE_DIR": str(tmp_path / "mail"),  # mail without an SMTP server stays in the test
        # Test clients register at once and from one address; tests/auth/test_registration_defences
        # switches these on where it tests them.
        "REGISTRATION_MIN_SECONDS": 0,
        "REGISTRATIONS_PER_IP_PER_DAY": 100_000,
        # Nobody's posts are held and only a first day makes a member new, unless a test saves
        # the new-member settings (tests/moderation/test_held_posts.py)
        "HELD_FIRST_POSTS": 0,
        "NEW_MEMBER_POSTS": 0,
        # argon2id stays argon2id, just cheap enough for a test suite
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    }


def migrate(database_url: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(config_for_tests(database_url, tmp_path))
    with app.app_context():
        upgrade()
        from forum.extensions import db

        db.engine.dispose()


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def pg_schema(tmp_path: Path, migrated: bool = True) -> Iterator[str]:
    """A throwaway PostgreSQL schema, migrated to head; yields a URL that uses it."""
    if not PG_URL:
        need_service("PostgreSQL tests need FORUM_TEST_DATABASE_URL")
    schema = f"forum_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = with_search_path(PG_URL, schema)
    try:
        if migrated:
            migrate(url, tmp_path)
        yield url
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def empty_postgres(url: str) -> None:
    """Empty every table but the migration marker, then put the default rank ladder back."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app's engine runs inside the block."""
    from forum.extensions import db

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def db_scalar(app: Flask, statement):
    """One value from the database, read in a fresh app context (no app context stays open)."""
    from forum.extensions import db

    with app.app_context():
        return db.session.scalar(statement)


def db_count(app: Flask, model, *where) -> int:
    from sqlalchemy import func, select

    return db_scalar(app, select(func.count()).select_from(model).where(*where))


def db_update(app: Flask, model, row_id: int, **values) -> None:
    """Change a row behind the application's back (a clock moved on, a moderator's console)."""
    from sqlalchemy import update

    from forum.extensions import db

    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def member_value(app: Flask, member_id: int, column: str):
    from sqlalchemy import select

    from forum.models import Member

    return db_scalar(app, select(getattr(Member, column)).where(Member.id == member_id))


def post_id_at(app: Flask, thread_id: int, position: int) -> int:
    from sqlalchemy import select

    from forum.models import Post

    return db_scalar(
        app, select(Post.id).where(Post.thread_id == thread_id, Post.position == position)
    )
