"""Backups of the SQLite database: a consistent copy taken while the forum runs, and a restore
that replaces the live file whole (PostgreSQL has pg_dump and pg_restore for both).

The copy is SQLite's online backup API stepping through the pages inside one read transaction:
WAL mode lets writers go on meanwhile, every step reads the same snapshot (without the held
transaction, each commit by another process restarts the copy, which under steady posting may
never finish), and the snapshot includes what is still in the WAL, which copying forum.db with
`cp` loses. The search index is not copied: its documents name post ids that a restored
database may hand out again, so a restore is followed by a rebuild from the restored rows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy.pool import NullPool

from forum.database import configure_sqlite
from forum.extensions import db

PAGES_PER_STEP = 1024  # 4 MB at SQLite's default page size: a step of the progress bar
SQLITE_HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")
IN_USE = (
    "The database {path} is open in another process: stop the forum's server (gunicorn) and its"
    " jobs worker first, then restore."
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do instead."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, read without changing it."""

    path: Path
    revision: str  # its Alembic revision
    posts: int
    pages: int


@dataclass(frozen=True)
class BackupReport:
    path: Path
    posts: int
    size: int  # bytes


@dataclass(frozen=True)
class RestoreReport:
    path: Path  # the live database, now the backup's contents
    posts: int
    upgraded_from: str | None  # the backup's revision when it was older than the code's


def database_file(purpose: str = "backup") -> Path:
    """The live SQLite file; BackupError naming pg_dump/pg_restore for PostgreSQL."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=True)
        if purpose == "backup":
            raise BackupError(
                "The database is PostgreSQL: back it up with pg_dump, e.g.\n"
                f"  pg_dump --format=custom --file forum.dump '{libpq}'"
            )
        raise BackupError(
            "The database is PostgreSQL: restore a pg_dump file with pg_restore, e.g.\n"
            f"  pg_restore --clean --if-exists --no-owner --dbname '{libpq}' forum.dump\n"
            "then rebuild the search index: flask --app forum search rebuild"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("The database is in memory: there is no file to back up or replace.")
    return Path(url.database).resolve()


def database_pages() -> int:
    """Pages in the live database (the length of the backup's progress bar)."""
    path = database_file()
    if not path.exists():
        raise BackupError(f"There is no database at {path} (run `flask --app forum db upgrade`).")
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA page_count").fetchone()[0]


def backup_database(
    target: Path,
    progress: Callable[[int], None] = lambda n: None,
    pages: int = PAGES_PER_STEP,
) -> BackupReport:
    """Copy the live database to target, consistently, while others write; progress(pages).

    The copy is written beside target and renamed over it when complete, so target is either the
    old file or a whole backup. It is a single file (rollback journal mode), nothing beside it.
    """
    source = database_file("backup")
    target = target.resolve()
    _refuse_live_paths(target, source)
    if not source.exists():
        raise BackupError(f"There is no database at {source} to back up.")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with closing(sqlite3.connect(source, isolation_level=None)) as live:
            live.execute("PRAGMA busy_timeout=10000")
            live.execute("BEGIN")  # one snapshot for every step of the copy
            posts = live.execute("SELECT count(*) FROM posts").fetchone()[0]
            _copy_pages(live, partial, progress, pages)
            live.execute("COMMIT")
        _make_durable(partial)
        os.replace(partial, target)
        _sync_directory(target.parent)
    except (OSError, sqlite3.Error) as exc:  # a missing folder, a full disk
        raise BackupError(f"Could not write the backup to {target}: {exc}") from exc
    finally:
        _remove(partial)
    return BackupReport(path=target, posts=posts, size=target.stat().st_size)


def inspect_backup(path: Path) -> BackupInfo:
    """Read a backup's revision and size; BackupError if it is not a forum backup this code can
    restore (not SQLite, no alembic_version table, or a revision newer than the code's)."""
    path = path.resolve()
    with open(path, "rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a forum backup: it is not a SQLite database.")
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
    except sqlite3.OperationalError as exc:  # no such table
        raise BackupError(
            f"{path} is not a forum backup ({exc}); make one with `flask --app forum forum backup`."
        ) from exc
    except sqlite3.DatabaseError as exc:  # malformed
        raise BackupError(f"{path} is damaged ({exc}): restore another backup.") from exc
    if revision is None:
        raise BackupError(f"{path} is not a forum backup: its alembic_version table is empty.")
    try:
        _migrations().get_revision(revision[0])
    except CommandError as exc:
        raise BackupError(
            f"{path} was made by a newer version of the forum (revision {revision[0]}, unknown"
            " here): restore it with that version."
        ) from exc
    return BackupInfo(path=path, revision=revision[0], posts=posts, pages=pages)


def restore_database(
    source: Path, progress: Callable[[int], None] = lambda n: None
) -> RestoreReport:
    """Replace the live database with a backup, upgraded to the code's migrations head.

    The server and jobs workers must be stopped: a process with the database open is refused.
    The backup is copied, checked and migrated beside the live file, which is replaced by one
    rename only then, so a failure at any step leaves the live database as it was. The caller
    rebuilds the search index afterwards (`forum restore` does).
    """
    target = database_file("restore")
    info = inspect_backup(source)
    if target.exists() and info.path.samefile(target):
        raise BackupError(f"{source} is the live database itself.")
    db.session.remove()  # this process's own pooled connections would count as "in use"
    db.engine.dispose()
    _refuse_if_in_use(target)
    head = _migrations().get_current_head()
    staged = target.with_name(f".{target.name}.{os.getpid()}.restoring")
    try:
        with closing(sqlite3.connect(f"{info.path.as_uri()}?mode=ro", uri=True)) as backup:
            _copy_pages(backup, staged, progress, PAGES_PER_STEP)
        _check_integrity(staged)
        if info.revision != head:
            _upgrade(staged)
        _use_journal_mode(staged, "delete")  # the upgrade's WAL folded in: one file to rename
        _make_durable(staged)
        _refuse_if_in_use(target)  # again: the copy took a while
        for suffix in SIDE_FILES:  # the old file's, checkpointed into it just now
            _remove(Path(f"{target}{suffix}"))
        os.replace(staged, target)
        _sync_directory(target.parent)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a damaged backup
        raise BackupError(f"The restore failed and {target} is as it was: {exc}") from exc
    finally:
        for path in (staged, *(Path(f"{staged}{suffix}") for suffix in SIDE_FILES)):
            _remove(path)
    _use_journal_mode(target, "wal")
    return RestoreReport(
        path=target,
        posts=info.posts,
        upgraded_from=info.revision if info.revision != head else None,
    )


def _copy_pages(source: sqlite3.Connection, target: Path, progress, pages: int) -> None:
    """SQLite's backup API, pages at a time; progress gets the pages copied by each step."""
    copied = 0

    def step(_status: int, remaining: int, total: int) -> None:
        nonlocal copied
        progress(total - remaining - copied)
        copied = total - remaining

    with closing(sqlite3.connect(target)) as copy:
        source.backup(copy, pages=pages, progress=step)
        copy.execute("PRAGMA journal_mode=DELETE")  # a backup is one file, nothing beside it


def _refuse_live_paths(target: Path, source: Path) -> None:
    live = {source, *(Path(f"{source}{suffix}") for suffix in SIDE_FILES)}
    if target in live or (target.exists() and source.exists() and target.samefile(source)):
        raise BackupError(f"{target} is the live database: write the backup somewhere else.")


def _refuse_if_in_use(path: Path) -> None:
    """Leave WAL mode, which SQLite refuses while another connection has the file open (each
    holds a shared lock from its first read until it closes); leaving it also checkpoints the
    WAL into the file, so the -wal and -shm beside it hold nothing more."""
    if not path.exists():
        return
    try:
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:  # database is locked
        raise BackupError(IN_USE.format(path=path)) from exc
    if mode != "delete":
        raise BackupError(IN_USE.format(path=path))


def _check_integrity(path: Path) -> None:
    try:
        with closing(sqlite3.connect(path)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:  # too damaged even to list what is wrong
        problems = [str(exc)]
    if problems != ["ok"]:
        raise BackupError(f"The backup is damaged ({'; '.join(problems[:5])}): restore another.")


def _migrations() -> ScriptDirectory:
    return ScriptDirectory(str(current_app.extensions["migrate"].directory))


def _upgrade(path: Path) -> None:
    """Run the migrations on a file that is not the app's database (migrations/env.py takes the
    connection handed over in the Alembic config)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    configure_sqlite(engine)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def _use_journal_mode(path: Path, mode: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA journal_mode={mode}")


def _make_durable(path: Path) -> None:
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


def _sync_directory(path: Path) -> None:
    """fsync a directory, so a rename in it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
