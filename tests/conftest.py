"""Fixtures: every test gets a real database (SQLite file, and PostgreSQL when configured) and index.

The schema comes from the Alembic migrations, not create_all, so tests run on what production runs.
SQLite: migrated once into a template file, copied per test. PostgreSQL: migrated once into a
schema of its own (FORUM_TEST_DATABASE_URL), emptied between tests.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from forum import create_app
from forum.search import get_search

PG_URL = os.environ.get("FORUM_TEST_DATABASE_URL", "")
REQUIRE_SERVICES = os.environ.get("FORUM_REQUIRE_SERVICES") == "1"
DEFAULT_PASSWORD = "correct horse battery staple"


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "forum.db"
    migrate(f"sqlite:///{path}", path.parent)
    return path


@pytest.fixture(scope="session")
def pg_session_schema(tmp_path_factory) -> Iterator[str]:
    with pg_schema(tmp_path_factory.mktemp("pg")) as url:
        yield url


def empty_postgres(url: str) -> None:
    """Empty every table but the migration marker, then put the default rank ladder back."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "forum.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_session_schema")
    empty_postgres(url)
    return url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(config_for_tests(database_url, tmp_path))
    from forum.extensions import db
    from forum.reputation.services import seed_default_ladder

    with app.app_context():
        seed_default_ladder(db.session)  # PostgreSQL was emptied; the SQLite copy already has it
        db.session.commit()
    get_search(app).rebuild()  # an empty index in tmp_path: search is on in every test
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator:
    """Build another app on the test's database with config overrides (rate limits on, HTTPS...)."""
    from forum.extensions import db

    made: list[Flask] = []

    def build(**overrides) -> Flask:
        app = create_app(config_for_tests(database_url, tmp_path) | overrides)
        get_search(app).rebuild()
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """The CSRF token of the client's session, read from a real form (a logged-in member asking
    for /login is sent home, whose header holds the logout form)."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {page}"
    return match[1] or match[2]


def post_form(client: FlaskClient, url: str, data: dict | None = None, prefix: str = "", **kwargs):
    """Submit a form as a browser would: with the session's CSRF token (prefixed like its form)."""
    field = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={field: csrf_token(client), **(data or {})}, **kwargs)


def make_member(
    app: Flask,
    handle: str,
    role: str = "member",
    password: str = DEFAULT_PASSWORD,
    display_name: str | None = None,
):
    """Register a member through the service (the same rules as the form); returns its id."""
    from forum.auth.services import register
    from forum.models import Role

    with app.app_context():
        member = register(handle, display_name or handle.title(), password, role=Role(role))
        return member.id


def login(client: FlaskClient, handle: str, password: str = DEFAULT_PASSWORD, remember=False):
    """Log in through the real form."""
    data = {"handle": handle, "password": password}
    if remember:
        data["remember"] = "y"
    response = post_form(client, "/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def member(app: Flask) -> int:
    return make_member(app, "alice", display_name="Alice A")


@pytest.fixture
def other_member(app: Flask) -> int:
    return make_member(app, "bob", display_name="Bob B")


@pytest.fixture
def moderator(app: Flask) -> int:
    return make_member(app, "maude", role="moderator", display_name="Maude M")


@pytest.fixture
def board(app: Flask) -> int:
    from forum.extensions import db
    from forum.models import Board

    with app.app_context():
        board = Board(name="Freelancers", slug="freelancers", description="Freelance work")
        db.session.add(board)
        db.session.commit()
        return board.id


@pytest.fixture
def demo(app: Flask, runner) -> None:
    """The demo thread, imported through the real CLI command."""
    result = runner.invoke(args=["forum", "demo"])
    assert result.exit_code == 0, result.output


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


def make_thread(
    app: Flask,
    author_id: int,
    board_id: int,
    subject: str = "How do I start?",
    body: str = "Opening post",
    replies: int = 0,
    reply_author_id: int | None = None,
) -> int:
    """A thread with n replies, made through the posting services; returns the thread id.

    The index catches up once at the end (one drain instead of one per reply) to keep tests quick.
    """
    from forum.extensions import db
    from forum.models import Board, Member
    from forum.threads import services

    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False
    try:
        with app.app_context():
            author = db.session.get(Member, author_id)
            thread = services.create_thread(author, db.session.get(Board, board_id), subject, body)
            replier = db.session.get(Member, reply_author_id or author_id)
            for n in range(replies):
                services.reply(replier, thread, f"Reply number {n + 1}")
            thread_id = thread.id
    finally:
        app.config["SEARCH_DRAIN_AFTER_COMMIT"] = True
    get_search(app).drain()
    return thread_id
