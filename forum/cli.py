"""`flask --app forum forum ...`: demo data, imports, admins, re-rendering, backups."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import click
from flask.cli import AppGroup

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
    from forum.importer import describe_board

    with resources.as_file(
        resources.files("forum.data") / "demo" / "interview-thread.jsonl"
    ) as path:
        run_import(path)
    describe_board("Freelancers", "Questions and answers about finding and doing freelance work.")
    search = get_search()
    if not search.backend.available():
        click.echo("Building the search index…")
        search.rebuild()
    else:
        search.drain(lock_timeout=30)
    _offer_first_admin()


CREATE_ADMIN_HINT = (
    "No administrator yet: the demo members have no passwords. Create yours with\n"
    "  .venv/bin/flask --app forum forum create-admin --handle <your-handle>"
    " --display-name '<Your Name>' [--email you@example.com]\n"
    "(it asks for the password), then log in at /login."
)


def _offer_first_admin() -> None:
    """A fresh site has nobody who can log in: ask at a terminal, otherwise say how."""
    from forum.auth.services import has_administrator

    if has_administrator():
        return
    if sys.stdin.isatty() and click.confirm("No administrator yet. Create one now?", default=True):
        click.get_current_context().invoke(
            create_admin_command,
            handle=click.prompt("Handle"),
            display_name=click.prompt("Display name"),
            password=click.prompt("Password", hide_input=True, confirmation_prompt=True),
            email=click.prompt("E-mail (for password resets; Enter for none)", default="") or None,
        )
    else:
        click.echo(CREATE_ADMIN_HINT)


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
    from forum.members.services import rerender_signatures
    from forum.threads.services import count_posts, rerender_posts

    with click.progressbar(length=count_posts(), label="Re-rendering posts") as bar:
        for done in rerender_posts(RERENDER_BATCH):
            bar.update(done)
    rerender_signatures()
    click.echo("Done.")


@forum_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH, consistently, while the forum runs (PostgreSQL: pg_dump)."""
    from forum import backups

    try:
        with click.progressbar(length=backups.database_pages(), label="Copying pages") as bar:
            report = backups.backup_database(path, progress=bar.update)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backed up {report.posts:,} posts ({report.size / 1e6:,.1f} MB) to {report.path}. "
        "The search index is not in it: `forum restore` rebuilds it from the restored posts."
    )


@forum_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking first.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database with a backup (server stopped), upgrade it, rebuild the index."""
    from forum import backups

    try:
        info = backups.inspect_backup(path)
        target = backups.database_file("restore")
        if not yes:
            click.confirm(
                f"Replace {target} with the {info.posts:,} posts of {info.path.name}?"
                " (Stop the server and jobs worker first.)",
                abort=True,
            )
        with click.progressbar(length=info.pages, label="Copying pages") as bar:
            report = backups.restore_database(path, progress=bar.update)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if report.upgraded_from:
        click.echo(f"Upgraded the backup from revision {report.upgraded_from} to the current one.")
    click.echo(f"Restored {report.posts:,} posts into {report.path}.")
    search = get_search()
    try:
        with click.progressbar(length=search.count_searchable(), label="Indexing posts") as bar:
            search.rebuild(progress=bar.update)
    except Exception as exc:  # whatever stopped it, the operator needs the command that finishes
        raise click.ClickException(
            f"The search index could not be rebuilt ({exc}); until it is, search shows the old"
            " posts: run `flask --app forum search rebuild`."
        ) from exc
    click.echo("Rebuilt the search index from the restored posts.")
