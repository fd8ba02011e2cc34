"""A real forum behind gunicorn for the API's HTTP tests, once per test session and database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.databases import pg_schema
from tests.servers import forum_env, gunicorn, run_flask

ADMIN = ("apiadmin", "API Admin", "a long enough api passphrase")


@dataclass(frozen=True)
class ApiServer:
    base_url: str
    handle: str  # an admin who can log in and make tokens
    password: str


def _serve(database_url: str, workdir) -> Iterator[ApiServer]:
    env = forum_env(database_url, workdir, FORUM_RATELIMIT_ENABLED="0")
    run_flask(env, workdir, "db", "upgrade")
    run_flask(env, workdir, "forum", "demo")
    handle, name, password = ADMIN
    run_flask(
        env, workdir, "forum", "create-admin",
        "--handle", handle, "--display-name", name, "--password", password,
    )  # fmt: skip
    with gunicorn(env, workdir, workers=2) as base_url:
        yield ApiServer(base_url, handle, password)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api_server(request, tmp_path_factory) -> Iterator[ApiServer]:
    """Gunicorn serving a migrated forum with the demo and an admin."""
    workdir = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        yield from _serve(f"sqlite:///{workdir / 'forum.db'}", workdir)
    else:
        with pg_schema(workdir, migrated=False) as url:
            yield from _serve(url, workdir)
