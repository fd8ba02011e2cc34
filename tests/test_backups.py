"""`flask forum backup` and `restore`: a copy taken while members post restores whole and searchable."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask

from tests.builders import make_member, make_thread
from tests.databases import config_for_tests
from tests.servers import PROJECT_ROOT, forum_env, run_flask
from tests.workers import SPAWN, TIMEOUT, attempt, workers_running

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
WRITERS = 3
MAX_POSTS_PER_WRITER = 2000  # a bound should the stop signal never come
POSTS_BEFORE_BACKUP = 10  # per writer, acknowledged before the backup starts
POSTS_DURING_BACKUP = 15  # in all, acknowledged between two steps of the copy
NEW_THREAD_EVERY = 4  # the others are replies to one shared thread


# What the writers run (module level, so the "spawn" start method can import it)


def posting_job(
    report: dict, member_id: int, thread_id: int, acked: str, count, changed, stop
) -> None:
    """Post until told to stop: replies to the shared thread, every few a new thread. Each post
    is written to the acked file once its service returned (committed), then counted."""
    from forum.extensions import db
    from forum.models import Board, Member, Thread
    from forum.threads.services import create_thread, reply

    with open(acked, "a") as file:
        for n in range(MAX_POSTS_PER_WRITER):
            if stop.is_set():
                return
            member, thread = db.session.get(Member, member_id), db.session.get(Thread, thread_id)
            if n % NEW_THREAD_EVERY == 0:
                board = db.session.get(Board, thread.board_id)
                made = attempt(report, create_thread, member, board, f"Question {n}", "Hi")
                post_id = made.last_post_id if made else None
            else:
                made = attempt(report, reply, member, thread, f"Reply {n}")
                post_id = made.id if made else None
            if post_id is not None:
                file.write(f"{post_id}\n")
                file.flush()
                with changed:
                    count.value += 1
                    changed.notify_all()


# Helpers


def acknowledged(tmp_path: Path) -> set[int]:
    return {int(line) for path in tmp_path.glob("acked-*") for line in path.read_text().split()}


def post_ids(app: Flask) -> set[int]:
    from forum.extensions import db
    from forum.models import Post

    with app.app_context():
        return set(db.session.scalars(sa.select(Post.id)))


def wait_for(count, at_least: int, changed) -> None:
    """Block until the writers have acknowledged at_least posts in all (no sleeping guess)."""
    with changed:
        assert changed.wait_for(lambda: count.value >= at_least, timeout=TIMEOUT)


def counter_mismatches(app: Flask) -> list[str]:
    """Every stored counter checked against the rows it counts; empty when all agree."""
    from forum.extensions import db
    from forum.models import Board, Member, Post, Thread

    found = []
    with app.app_context():
        session = db.session
        for thread in session.scalars(sa.select(Thread)):
            positions = list(
                session.scalars(
                    sa.select(Post.position).where(Post.thread_id == thread.id).order_by("position")
                )
            )
            last = session.scalar(
                sa.select(Post.id).where(Post.thread_id == thread.id).order_by(Post.position.desc())
            )
            if positions != list(range(1, thread.post_count + 1)) or thread.last_post_id != last:
                found.append(f"thread {thread.id}: {thread.post_count}, {positions[-3:]}")
        for board in session.scalars(sa.select(Board)):
            posts = (
                sa.select(Post.id)
                .join(Thread, Post.thread_id == Thread.id)
                .where(Thread.board_id == board.id)
                .subquery()
            )
            threads = sa.select(sa.func.count()).select_from(Thread)
            counts = (
                session.scalar(threads.where(Thread.board_id == board.id)),
                session.scalar(sa.select(sa.func.count(posts.c.id))),
                session.scalar(sa.select(sa.func.max(posts.c.id))),
            )
            if counts != (board.thread_count, board.post_count, board.last_post_id):
                found.append(f"board {board.id}: {counts}")
        for member in session.scalars(sa.select(Member)):
            posts = session.scalar(
                sa.select(sa.func.count()).select_from(Post).where(Post.author_id == member.id)
            )
            if posts != member.post_count:
                found.append(f"member {member.handle}: {member.post_count} counted, {posts} rows")
    return found


def restore(runner, path: Path, *options: str):
    return runner.invoke(args=["forum", "restore", str(path), "--yes", *options])


# A backup under load, then a restore


@SQLITE
def test_a_backup_taken_while_members_post_restores_every_post_acknowledged_before_it(
    app, runner, member, board, tmp_path
):
    from forum import backups

    thread_id = make_thread(app, member, board)
    writers = [make_member(app, f"writer-{n}") for n in range(WRITERS)]
    count, changed, stop = SPAWN.Value("i", 0), SPAWN.Condition(), SPAWN.Event()
    backup, steps = tmp_path / "backup.db", []

    def between_steps(pages: int) -> None:
        """At the first step, let the writers commit more while the copy is half done."""
        if not steps:
            wait_for(count, count.value + POSTS_DURING_BACKUP, changed)
        steps.append(pages)

    jobs = [
        (posting_job, (w, thread_id, str(tmp_path / f"acked-{n}"), count, changed, stop))
        for n, w in enumerate(writers)
    ]
    with workers_running(app, tmp_path, jobs):
        try:
            wait_for(count, WRITERS * POSTS_BEFORE_BACKUP, changed)
            acked_before = acknowledged(tmp_path)
            with app.app_context():
                report = backups.backup_database(backup, progress=between_steps, pages=2)
        finally:
            stop.set()
    acked_after = acknowledged(tmp_path)
    with closing(sqlite3.connect(backup)) as copy:
        assert sum(steps) == copy.execute("PRAGMA page_count").fetchone()[0]
    assert len(steps) > 1  # copied in steps, with commits between them
    live = post_ids(app)
    assert acked_after <= live and len(acked_after) > len(acked_before)

    result = restore(runner, backup)
    assert result.exit_code == 0, result.output
    restored = post_ids(app)
    assert acked_before <= restored  # nothing acknowledged before the backup is lost
    assert restored < live  # the copy is the moment it began: later posts are not in it
    assert len(restored) == report.posts  # one snapshot: the count taken as the copy began
    assert counter_mismatches(app) == []
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0, check.output
    assert "stray: 0" in check.output  # the posts after the backup left the index too


def database_path(app: Flask) -> Path:
    return Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


@SQLITE
def test_a_plain_copy_of_the_live_file_misses_posts_still_in_the_wal_and_a_backup_does_not(
    app, member, board, tmp_path
):
    from forum import backups

    make_thread(app, member, board, replies=3)
    shutil.copy(database_path(app), tmp_path / "copied.db")
    with app.app_context():
        report = backups.backup_database(tmp_path / "backup.db")
    with closing(sqlite3.connect(tmp_path / "copied.db")) as copied:
        assert copied.execute("SELECT count(*) FROM posts").fetchone()[0] < 4
    assert report.posts == 4


@SQLITE
def test_backup_writes_one_self_contained_file_and_says_what_it_holds(
    app, runner, member, board, tmp_path
):
    make_thread(app, member, board, replies=1)
    result = runner.invoke(args=["forum", "backup", str(tmp_path / "backup.db")])
    assert result.exit_code == 0, result.output
    megabytes = (tmp_path / "backup.db").stat().st_size / 1e6  # the file's own size, each schema's
    assert f"Backed up 2 posts ({megabytes:,.1f} MB) to {tmp_path / 'backup.db'}." in result.output
    assert "`forum restore` rebuilds it" in result.output
    assert sorted(p.name for p in tmp_path.glob("backup.db*")) == ["backup.db"]
    with closing(sqlite3.connect(tmp_path / "backup.db")) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


@SQLITE
def test_backup_refuses_to_write_over_the_live_database(app, runner, member, board):
    make_thread(app, member, board)
    result = runner.invoke(args=["forum", "backup", str(database_path(app))])
    assert result.exit_code == 1
    assert "is the live database: write the backup somewhere else." in result.output
    assert len(post_ids(app)) == 1


def write_text_file(path: Path) -> None:
    path.write_text("not a database\n" * 100)


def write_other_sqlite_database(path: Path) -> None:
    with closing(sqlite3.connect(path)) as other:
        other.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY)")
        other.commit()


@SQLITE
@pytest.mark.parametrize(
    ("write", "message"),
    [
        (write_text_file, "notes is not a forum backup: it is not a SQLite database."),
        (
            write_other_sqlite_database,
            "notes is not a forum backup (no such table: alembic_version)",
        ),
    ],
    ids=["not SQLite", "no migrations"],
)
def test_restore_refuses_a_file_that_is_not_a_forum_backup(
    app, runner, member, board, tmp_path, write, message
):
    make_thread(app, member, board)
    write(tmp_path / "notes")
    result = restore(runner, tmp_path / "notes")
    assert result.exit_code == 1
    assert message in result.output
    assert len(post_ids(app)) == 1


@SQLITE
def test_restore_asks_before_replacing_the_database(app, runner, member, board, tmp_path):
    make_thread(app, member, board)
    with app.app_context():
        from forum import backups

        backups.backup_database(tmp_path / "backup.db")
    make_thread(app, member, board, subject="Written after the backup")
    result = runner.invoke(args=["forum", "restore", str(tmp_path / "backup.db")], input="n\n")
    assert "with the 1 posts of backup.db? (Stop the server and jobs worker first.)" in (
        result.output
    )
    assert result.exit_code == 1 and "Aborted" in result.output
    assert len(post_ids(app)) == 2


HOLD_OPEN = (  # a server worker between requests: a pooled connection that has read
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM posts');"
    " print('open', flush=True); sys.stdin.read()"
)


@SQLITE
def test_restore_refuses_while_another_process_has_the_database_open(
    app, runner, member, board, tmp_path
):
    from forum import backups

    make_thread(app, member, board)
    with app.app_context():
        backups.backup_database(tmp_path / "backup.db")
    make_thread(app, member, board, subject="Written after the backup")
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(database_path(app))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdout.readline().strip() == "open"
        result = restore(runner, tmp_path / "backup.db")
        server.stdin.close()
    assert result.exit_code == 1
    assert "is open in another process: stop the forum's server (gunicorn)" in result.output
    assert len(post_ids(app)) == 2
    assert list(tmp_path.glob(".*restoring*")) == []


@SQLITE
def test_restore_of_a_damaged_backup_leaves_the_live_database_as_it_was(
    app, runner, member, board, tmp_path
):
    from forum import backups

    make_thread(app, member, board, replies=3)
    with app.app_context():
        backups.backup_database(tmp_path / "backup.db")
    with closing(sqlite3.connect(tmp_path / "backup.db")) as copy:
        page, size = (
            copy.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ranks'").fetchone()[0],
            copy.execute("PRAGMA page_size").fetchone()[0],
        )
    with open(tmp_path / "backup.db", "r+b") as file:  # a table the posts do not need
        file.seek((page - 1) * size)
        file.write(b"\xa5" * size)
    make_thread(app, member, board, subject="Written after the backup")
    result = restore(runner, tmp_path / "backup.db")
    assert result.exit_code == 1
    assert "The backup is damaged (" in result.output
    assert len(post_ids(app)) == 5
    assert counter_mismatches(app) == []
    assert list(tmp_path.glob(".*restoring*")) == []


OLDER_REVISION = "ca565cba6e33"  # before self-accepted solutions stopped counting


def test_restore_onto_a_new_machine_upgrades_an_older_backup_to_the_current_schema(tmp_path):
    from forum import create_app
    from forum.extensions import db

    old = tmp_path / "old.db"
    run_flask(
        forum_env(f"sqlite:///{old}", tmp_path), PROJECT_ROOT, "db", "upgrade", OLDER_REVISION
    )
    app = create_app(config_for_tests(f"sqlite:///{tmp_path / 'new' / 'forum.db'}", tmp_path))
    (tmp_path / "new").mkdir()
    try:
        result = restore(app.test_cli_runner(), old)
        assert result.exit_code == 0, result.output
        assert f"Upgraded the backup from revision {OLDER_REVISION}" in result.output
        assert "Rebuilt the search index" in result.output
        with app.app_context():
            revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        migrations = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
        assert revision == migrations.get_current_head() != OLDER_REVISION
    finally:
        with app.app_context():
            db.engine.dispose()


@POSTGRESQL
def test_backup_on_postgresql_refuses_and_names_pg_dump(app, runner, tmp_path):
    result = runner.invoke(args=["forum", "backup", str(tmp_path / "backup.db")])
    assert result.exit_code == 1
    assert "The database is PostgreSQL: back it up with pg_dump" in result.output
    assert "pg_dump --format=custom --file forum.dump 'postgresql://" in result.output
    assert not (tmp_path / "backup.db").exists()


@POSTGRESQL
def test_restore_on_postgresql_refuses_and_names_pg_restore(app, runner, member, board, tmp_path):
    make_thread(app, member, board)
    sqlite_url = f"sqlite:///{tmp_path / 'sqlite.db'}"
    run_flask(forum_env(sqlite_url, tmp_path), PROJECT_ROOT, "db", "upgrade")
    result = restore(runner, tmp_path / "sqlite.db")
    assert result.exit_code == 1
    assert "The database is PostgreSQL: restore a pg_dump file with pg_restore" in result.output
    assert "flask --app forum search rebuild" in result.output
    assert len(post_ids(app)) == 1
