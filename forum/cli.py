"""`flask --app forum forum ...`: demo data, imports, admins, re-rendering."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select, update

from forum.database import write_transaction
from forum.extensions import db
from forum.search import get_search

forum_cli = AppGroup("forum", help="Set up and maintain the forum.")
RERENDER_BATCH = 100  # posts per write transaction: short enough not to keep posters waiting


def _echo_report(report) -> None:
    click.echo(
        f"{report.members_created} members, {report.threads_created} threads and "
        f"{report.posts_created} posts created; {report.posts_already_there} posts were already there."
    )
    for line in report.skipped:
        click.echo(f"skipped {line}", err=True)


def _count_lines(path: Path) -> int:
    from forum.importer import read_lines

    return sum(1 for _ in read_lines(path))


def run_import(path: Path):
    from forum.importer import import_file

    try:  # reads the whole file once, so an unreadable one fails before anything is imported
        lines = _count_lines(path)
    except (OSError, EOFError) as exc:  # not gzip, truncated, unreadable
        raise click.ClickException(f"cannot read {path.name}: {exc}") from exc
    with click.progressbar(length=lines, label=f"Importing {path.name}") as bar:
        report = import_file(path, progress=bar.update)
    _echo_report(report)
    return report


@forum_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Import members and posts from a JSON-lines file (.jsonl or .jsonl.gz)."""
    run_import(path)


@forum_cli.command("demo")
def demo_command() -> None:
    """Load the demo thread (safe to run again: nothing is imported twice)."""
    from forum.models import Board

    with resources.as_file(
        resources.files("forum.data") / "demo" / "interview-thread.jsonl"
    ) as path:
        run_import(path)
    board = db.session.scalar(select(Board).where(Board.name == "Freelancers"))
    if board is not None and not board.description:
        board.description = "Questions and answers about finding and doing freelance work."
        db.session.commit()
    search = get_search()
    if not search.backend.exists():
        click.echo("Building the search index…")
        search.rebuild()
    else:
        search.drain(lock_timeout=30)


@forum_cli.command("create-admin")
@click.option("--handle", prompt=True)
@click.option("--display-name", prompt=True)
@click.password_option()
@click.option("--email", default=None, help="an address for password resets (confirmed by a link)")
def create_admin_command(handle: str, display_name: str, password: str, email: str | None) -> None:
    """Create an administrator account."""
    from forum.auth.services import register
    from forum.errors import InvalidInput
    from forum.models import Role

    try:
        member = register(handle, display_name, password, role=Role.ADMIN, email=email)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Administrator {member.handle} created.")


@forum_cli.command("rerender")
def rerender_command() -> None:
    """Re-render every post and signature from its Markdown (after the renderer changed)."""
    from forum.markup import render_markdown
    from forum.models import Member, Post
    from forum.threads.services import render_body

    total = db.session.scalar(select(func.count()).select_from(Post))
    last_id = 0
    with click.progressbar(length=total, label="Re-rendering posts") as bar:
        while True:
            # One short write transaction per batch, its rows locked while they are rendered: on
            # SQLite a read that turns into a write fails ("database is locked") once a member
            # posted in between, and on PostgreSQL an edit made meanwhile would get stale HTML.
            with write_transaction() as session:
                posts = session.scalars(
                    select(Post)
                    .where(Post.id > last_id)
                    .order_by(Post.id)
                    .limit(RERENDER_BATCH)
                    .with_for_update()
                ).all()
                for post in posts:
                    post.body_html = render_body(post.body_source)
            if not posts:
                break
            last_id = posts[-1].id
            bar.update(len(posts))
    with write_transaction() as session:
        signatures = session.execute(
            select(Member.id, Member.signature_source)
            .where(Member.signature_source != "")
            .with_for_update()
        ).all()
        for member_id, source in signatures:
            session.execute(
                update(Member)
                .where(Member.id == member_id)
                .values(signature_html=str(render_markdown(source)))
            )
    click.echo("Done.")
