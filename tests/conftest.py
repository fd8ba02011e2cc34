"""Fixtures: every test gets a real database (SQLite file, and PostgreSQL when configured) and index.

The schema comes from the Alembic migrations, not create_all, so tests run on what production runs.
SQLite: migrated once into a template file, copied per test. PostgreSQL: migrated once into a
schema of its own (FORUM_TEST_DATABASE_URL), emptied between tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum import create_app
from forum.search import get_search
from tests.builders import make_member
from tests.databases import config_for_tests, empty_postgres, migrate, pg_schema
from tests.leaks import pop_leaked_contexts


@pytest.fixture(autouse=True)
def leak_detector() -> Iterator[None]:
    """A test that leaves an app or request context pushed fails (and stops leaking it)."""
    yield
    leaked = pop_leaked_contexts()
    assert leaked == [], "the test left these pushed"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "forum.db"
    migrate(f"sqlite:///{path}", path.parent)
    return path


@pytest.fixture(scope="session")
def pg_session_schema(tmp_path_factory) -> Iterator[str]:
    with pg_schema(tmp_path_factory.mktemp("pg")) as url:
        yield url


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
def search_backend() -> str:
    """FORUM_SEARCH_BACKEND for the test's app; a module overrides it to test another engine."""
    return "whoosh"


@pytest.fixture
def app(database_url: str, search_backend: str, tmp_path: Path) -> Iterator[Flask]:
    if search_backend == "postgresql" and not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL search backend runs on PostgreSQL only")
    app = create_app(config_for_tests(database_url, tmp_path) | {"SEARCH_BACKEND": search_backend})
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
