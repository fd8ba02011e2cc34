"""The scaled deployment: 4 gunicorn workers on PostgreSQL, rate limits shared through Redis."""

from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import Member, Post, Thread
from forum.search import get_search
from tests.builders import make_member, make_thread
from tests.databases import PG_URL, config_for_tests, need_service, pg_schema
from tests.servers import HttpMember, forum_env, gunicorn, run_flask

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "")
WORKERS = 4


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    if not PG_URL:
        need_service("the scaled deployment tests need FORUM_TEST_DATABASE_URL (PostgreSQL)")
    workdir = tmp_path_factory.mktemp("scaled")
    with pg_schema(workdir) as url:
        yield url, workdir


@pytest.fixture(scope="module")
def seeded(postgres):
    """Four members, a board and a thread, made in-process on the same schema and index."""
    url, workdir = postgres
    config = config_for_tests(url, workdir) | {"SEARCH_INDEX_DIR": str(workdir / "search_index")}
    app = create_app(config)
    get_search(app).rebuild()
    members = [make_member(app, f"writer{n}") for n in range(WORKERS)]
    with app.app_context():
        from forum.models import Board

        db.session.add(Board(name="Scaled", slug="scaled"))
        db.session.commit()
    thread = make_thread(app, members[0], 1, subject="Busy thread")
    yield app, thread
    with app.app_context():
        db.engine.dispose()


def test_the_login_limit_holds_across_four_workers_sharing_redis(postgres, seeded):
    if not REDIS_URL:
        need_service("the shared rate-limit test needs FORUM_TEST_REDIS_URL (Redis)")
    url, workdir = postgres
    env = forum_env(
        url,
        workdir,
        FORUM_RATELIMIT_STORAGE_URI=REDIS_URL,
        FORUM_RATELIMIT_KEY_PREFIX=f"forum-test-{uuid.uuid4().hex}",
    )
    with gunicorn(env, workdir, workers=WORKERS) as base_url:

        def failed_login(_):
            member = HttpMember(base_url)
            status, _, headers = member.submit(
                "/login", "/login", {"handle": "writer0", "password": "not the password at all"}
            )
            return status, headers.get("Retry-After")

        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(failed_login, range(10)))
    statuses = sorted(status for status, _ in answers)
    # 6 a minute per address: the rest are refused whichever worker answers them
    assert statuses == [400] * 6 + [429] * 4, answers
    assert all(wait and int(wait) > 0 for status, wait in answers if status == 429)


def test_concurrent_posting_through_four_workers_loses_nothing(postgres, seeded):
    app, thread_id = seeded
    url, workdir = postgres
    env = forum_env(url, workdir, FORUM_RATELIMIT_ENABLED="0")
    replies_each = 10
    with gunicorn(env, workdir, workers=WORKERS) as base_url:

        def write(n: int) -> list[int]:
            member = HttpMember(base_url)
            status, _, _ = member.submit(
                "/login",
                "/login",
                {"handle": f"writer{n}", "password": "correct horse battery staple"},
            )
            assert status == 302
            statuses = []
            for k in range(replies_each):
                status, _, _ = member.submit(  # any page: its header holds the logout form
                    "/", f"/t/{thread_id}/reply", {"body": f"writer{n} reply {k} through gunicorn"}
                )
                statuses.append(status)
            return statuses

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(write, range(WORKERS)))
    assert all(status == 302 for statuses in results for status in statuses), results
    total = 1 + WORKERS * replies_each
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        positions = sorted(
            db.session.scalars(select(Post.position).where(Post.thread_id == thread_id))
        )
        assert thread.post_count == total and positions == list(range(1, total + 1))
        counts = dict(db.session.execute(select(Member.handle, Member.post_count)).all())
        assert counts == {"writer0": 1 + replies_each} | {
            f"writer{n}": replies_each for n in range(1, WORKERS)
        }
        assert db.session.scalar(select(func.count()).select_from(Post)) == total
    service = get_search(app)
    service.drain(lock_timeout=10)
    assert service.check().clean
    assert (
        run_flask(env, workdir, "search", "check")
        .strip()
        .endswith("The index matches the database.")
    )


def test_every_worker_finds_a_thread_the_moment_another_worker_saved_it(postgres, seeded):
    """Workers keep their index searchers and recent result pages between requests; a thread
    saved through one worker must be in the very next search on every other."""
    app, _ = seeded
    url, workdir = postgres
    with app.app_context():
        author = db.session.scalar(select(Member.id).where(Member.handle == "writer1"))
    make_thread(app, author, 1, subject="Quoll one", body="a quoll in the garden")
    env = forum_env(url, workdir, FORUM_RATELIMIT_ENABLED="0")
    with gunicorn(env, workdir, workers=WORKERS) as base_url:

        def threads_found(_) -> str:
            status, html, _ = HttpMember(base_url).request("/search?q=quoll")
            assert status == 200
            return re.search(r'<p class="result-count">([\d,]+) threads? found', html)[1]

        with ThreadPoolExecutor(max_workers=8) as pool:  # every worker caches "1 thread"
            assert set(pool.map(threads_found, range(40))) == {"1"}
        member = HttpMember(base_url)
        login = {"handle": "writer2", "password": "correct horse battery staple"}
        assert member.submit("/login", "/login", login)[0] == 302
        new_thread = {
            "board": "1",
            "subject": "Quoll two",
            "body": "another quoll",
            "submit": "Post",
        }
        assert member.submit("/new", "/new", new_thread)[0] == 302
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(threads_found, range(40))) == {"2"}
