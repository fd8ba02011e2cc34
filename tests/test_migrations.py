"""The Alembic migrations, run as an operator runs them: `flask --app forum db ...` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from forum import PROJECT_ROOT
from tests.databases import pg_schema

NO_DRIFT = "No new upgrade operations detected"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with pg_schema(tmp_path, migrated=False) as url:
        yield url


def flask_db(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `flask --app forum db <args>` against the database, as an operator would."""
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": url,
        "FORUM_SECRET_KEY": "migration-test",  # so instance/secret_key is never written
        "FORUM_SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "forum", "db", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def upgrade(url: str, tmp_path: Path) -> None:
    result = flask_db(url, tmp_path, "upgrade")
    assert result.returncode == 0, result.stderr


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_of_an_empty_database_leaves_no_drift_from_the_models(empty_database, tmp_path):
    upgrade(empty_database, tmp_path)
    check = flask_db(empty_database, tmp_path, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert NO_DRIFT in check.stdout + check.stderr


def test_upgrade_creates_every_table_of_the_models(empty_database, tmp_path):
    from forum.extensions import db
    from forum.search.postgres import TABLES

    upgrade(empty_database, tmp_path)
    # the PostgreSQL search backend's tables, which have no models, exist on PostgreSQL only
    search = TABLES if empty_database.startswith("postgresql") else set()
    assert tables(empty_database) == {t.name for t in db.metadata.sorted_tables} | search | {
        "alembic_version"
    }


def test_upgrade_seeds_the_default_rank_ladder(empty_database, tmp_path):
    from forum.reputation.services import DEFAULT_LADDER

    upgrade(empty_database, tmp_path)
    engine = sa.create_engine(empty_database)
    with engine.connect() as conn:
        names = list(conn.scalars(sa.text("SELECT name FROM ranks ORDER BY position")))
    engine.dispose()
    assert names == [rung[0] for rung in DEFAULT_LADDER]


def test_upgraded_database_is_at_the_head_revision(empty_database, tmp_path):
    upgrade(empty_database, tmp_path)
    current = flask_db(empty_database, tmp_path, "current")
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout


def test_downgrade_to_base_removes_every_table(empty_database, tmp_path):
    upgrade(empty_database, tmp_path)
    down = flask_db(empty_database, tmp_path, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert tables(empty_database) == {"alembic_version"}


def test_upgrade_after_downgrade_to_base_leaves_no_drift(empty_database, tmp_path):
    upgrade(empty_database, tmp_path)
    assert flask_db(empty_database, tmp_path, "downgrade", "base").returncode == 0
    upgrade(empty_database, tmp_path)
    check = flask_db(empty_database, tmp_path, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert NO_DRIFT in check.stdout + check.stderr


def test_check_reports_drift_when_the_schema_differs_from_the_models(empty_database, tmp_path):
    upgrade(empty_database, tmp_path)
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_posts_author_created")
    engine.dispose()
    check = flask_db(empty_database, tmp_path, "check")
    assert check.returncode != 0
    assert "ix_posts_author_created" in check.stdout + check.stderr


def insert_members(conn, rows: list[tuple[int, str, int, int]]) -> None:
    """Members as the revisions before d41f0a7c9b12 stored them: (id, handle, posts, solutions)."""
    for member_id, handle, posts, solutions in rows:
        conn.execute(
            sa.text(
                "INSERT INTO members (id, handle, display_name, role, member_since, created_at,"
                " signature_source, signature_html, post_count, kudos_received,"
                " solution_count, suspension_reason) VALUES (:id, :h, :h, 'member',"
                " '2024-01-01', '2024-01-01 00:00:00', '', '', :posts, 0, :solutions, '')"
            ),
            {"id": member_id, "h": handle, "posts": posts, "solutions": solutions},
        )


def test_upgrade_takes_the_replies_of_threads_hidden_before_it_out_of_the_counts(
    empty_database, tmp_path
):
    """Threads hidden by the code before 5b2d9e41c7a3 left their replies counted; it recounts."""

    assert flask_db(empty_database, tmp_path, "upgrade", "cf4bb7264954").returncode == 0
    # Rows written with that revision's columns (today's models have more), as the code of
    # the time left them: Alice's thread "Hidden" (2 replies by Bob) hidden with one post uncounted.
    engine = sa.create_engine(empty_database)
    now = "2024-01-01 00:00:00"
    with engine.begin() as conn:
        insert_members(conn, [(1, "alice", 1, 0), (2, "bob", 2, 0)])
        conn.execute(
            sa.text(
                "INSERT INTO boards (id, slug, name, description, position, thread_count,"
                " post_count) VALUES (1, 'b', 'B', '', 1, 1, 4)"
            )
        )
        for thread_id, subject, hidden, authors in (
            (1, "Kept", False, [1]),
            (2, "Hidden", True, [1, 2, 2]),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO threads (id, board_id, author_id, subject, slug, post_count,"
                    " last_posted_at, is_locked, is_pinned, is_hidden, created_at) VALUES"
                    " (:t, 1, 1, :s, :s, :n, :now, false, false, :hidden, :now)"
                ),
                {"t": thread_id, "s": subject, "n": len(authors), "hidden": hidden, "now": now},
            )
            for position, author in enumerate(authors, start=1):
                conn.execute(
                    sa.text(
                        "INSERT INTO posts (thread_id, author_id, position, subject, body_source,"
                        " body_html, kudos_count, created_at, is_removed) VALUES"
                        " (:t, :a, :p, :s, 'text', '<p>text</p>', 0, :now, :removed)"
                    ),
                    {
                        "t": thread_id,
                        "a": author,
                        "p": position,
                        "s": subject,
                        "now": now,
                        "removed": hidden and position == 1,
                    },
                )
    engine.dispose()
    upgrade(empty_database, tmp_path)
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            counts = dict(conn.execute(sa.text("SELECT handle, post_count FROM members")).all())
            board_counts = conn.execute(sa.text("SELECT thread_count, post_count FROM boards"))
            assert counts == {"alice": 1, "bob": 0}
            assert board_counts.one() == (1, 1)
    finally:
        engine.dispose()


def test_upgrade_stops_counting_solutions_members_accepted_in_their_own_threads(
    empty_database, tmp_path
):
    """Before d41f0a7c9b12 an asker's own accepted reply counted as their solution; it recounts."""

    assert flask_db(empty_database, tmp_path, "upgrade", "ca565cba6e33").returncode == 0
    # Alice asked two threads: she accepted her own reply in the first, Bob's in the second.
    engine = sa.create_engine(empty_database)
    now = "2024-01-01 00:00:00"
    with engine.begin() as conn:
        insert_members(conn, [(1, "alice", 2, 1), (2, "bob", 2, 1)])
        conn.execute(
            sa.text(
                "INSERT INTO boards (id, slug, name, description, position, thread_count,"
                " post_count) VALUES (1, 'b', 'B', '', 1, 2, 4)"
            )
        )
        for thread_id, answerer in ((1, 1), (2, 2)):
            conn.execute(
                sa.text(
                    "INSERT INTO threads (id, board_id, author_id, subject, slug, post_count,"
                    " last_posted_at, is_locked, is_pinned, is_hidden, created_at) VALUES"
                    " (:t, 1, 1, 'Q', 'q', 2, :now, false, false, false, :now)"
                ),
                {"t": thread_id, "now": now},
            )
            for post_id, position, author in (
                (thread_id * 10, 1, 1),
                (thread_id * 10 + 1, 2, answerer),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO posts (id, thread_id, author_id, position, subject,"
                        " body_source, body_html, kudos_count, created_at, is_removed) VALUES"
                        " (:id, :t, :a, :p, 'Q', 'text', '<p>text</p>', 0, :now, false)"
                    ),
                    {"id": post_id, "t": thread_id, "a": author, "p": position, "now": now},
                )
            conn.execute(
                sa.text("UPDATE threads SET solution_post_id = :p WHERE id = :t"),
                {"p": thread_id * 10 + 1, "t": thread_id},
            )
    engine.dispose()
    upgrade(empty_database, tmp_path)
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            counts = dict(conn.execute(sa.text("SELECT handle, solution_count FROM members")).all())
            assert counts == {"alice": 0, "bob": 1}
    finally:
        engine.dispose()


def test_upgrade_names_what_old_audit_entries_concern_and_gives_boards_an_order(
    empty_database, tmp_path
):
    """e5a1c3d7b902 keeps names in the audit log (a move said "board 1 -> 2"); f3b8d2a6c415
    numbers boards that all sat at position 0 in the order the front page showed them."""

    assert flask_db(empty_database, tmp_path, "upgrade", "d41f0a7c9b12").returncode == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        insert_members(conn, [(1, "maude", 0, 0), (2, "bob", 1, 0)])
        for board_id, name, position in ((1, "Old", 0), (2, "Apples", 0), (3, "Zed", 5)):
            conn.execute(
                sa.text(
                    "INSERT INTO boards (id, slug, name, description, position, thread_count,"
                    " post_count) VALUES (:id, :slug, :name, '', :position, 0, 0)"
                ),
                {"id": board_id, "slug": name.lower(), "name": name, "position": position},
            )
        conn.execute(
            sa.text(
                "INSERT INTO threads (id, board_id, author_id, subject, slug, post_count,"
                " last_posted_at, is_locked, is_pinned, is_hidden, created_at) VALUES"
                " (1, 2, 2, 'Moved question', 'q', 1, '2024-01-01', false, false, false,"
                " '2024-01-01')"
            )
        )
        for entry_id, action, details, member, thread in (
            (1, "thread.move", "board 1 -> 2", None, 1),
            (2, "thread.move", "board 9 -> 2", None, 1),  # board 9 was deleted since
            (3, "member.suspend", "3 days", 2, None),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO audit_log (id, actor_id, action, member_id, thread_id, reason,"
                    " details, created_at) VALUES (:id, 1, :action, :member, :thread, '',"
                    " :details, '2024-01-01 00:00:00')"
                ),
                {
                    "id": entry_id,
                    "action": action,
                    "member": member,
                    "thread": thread,
                    "details": details,
                },
            )
    engine.dispose()
    upgrade(empty_database, tmp_path)
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            entries = conn.execute(
                sa.text(
                    "SELECT id, details, board_id, board_name, thread_subject, actor_name,"
                    " member_name FROM audit_log ORDER BY id"
                )
            ).all()
            positions = dict(conn.execute(sa.text("SELECT name, position FROM boards")).all())
    finally:
        engine.dispose()
    assert [tuple(entry) for entry in entries] == [
        (1, "from Old", 2, "Apples", "Moved question", "maude", ""),
        (2, "from board 9", 2, "Apples", "Moved question", "maude", ""),
        (3, "3 days", None, "", "", "maude", "bob"),
    ]
    assert positions == {"Apples": 0, "Old": 1, "Zed": 2}


def test_upgrade_gives_existing_members_no_time_zone_and_downgrade_takes_it_away(
    empty_database, tmp_path
):
    """e7c31b5a9d40 adds members.time_zone: NULL for members already there (they follow their
    browser until they choose); a downgrade drops the column and keeps the members."""
    assert flask_db(empty_database, tmp_path, "upgrade", "f3b8d2a6c415").returncode == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO members (id, handle, display_name, role, member_since, created_at,"
                " signature_source, signature_html, post_count, kudos_received,"
                " solution_count, suspension_reason, auto_watch, unread_notifications) VALUES"
                " (1, 'alice', 'Alice', 'member', '2024-01-01', '2024-01-01 00:00:00', '', '',"
                " 0, 0, 0, '', true, 0)"
            )
        )
    engine.dispose()
    upgrade(empty_database, tmp_path)
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT handle, time_zone FROM members")).all()
        assert rows == [("alice", None)]
        assert flask_db(empty_database, tmp_path, "downgrade", "f3b8d2a6c415").returncode == 0
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("members")}
            handles = list(conn.scalars(sa.text("SELECT handle FROM members")))
        assert "time_zone" not in columns and handles == ["alice"]
    finally:
        engine.dispose()
