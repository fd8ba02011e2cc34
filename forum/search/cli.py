"""`flask --app forum search rebuild|check|drain`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from forum.search import get_search
from forum.search.backend import ABANDONED, RUNNING, IndexUnreadable

search_cli = AppGroup("search", help="Build, check and catch up the search index.")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Build a new index generation from the database and switch to it atomically."""
    service = get_search()
    with click.progressbar(length=service.count_searchable(), label="Indexing posts") as bar:
        count = service.rebuild(progress=bar.update)
    click.echo(f"Indexed {count:,} posts; {service.pending()} changes still pending.")


@search_cli.command("drain")
def drain_command() -> None:
    """Apply the changes waiting in the index outbox."""
    result = get_search().drain(lock_timeout=30)
    click.echo(f"Applied {result.applied:,} changes; {result.pending:,} pending.")
    if result.skipped_because:
        raise click.ClickException(result.skipped_because)


@search_cli.command("check")
@click.option("--repair", is_flag=True, help="Apply what differs; rebuild a damaged index.")
@click.option("--deep", is_flag=True, help="Also read every segment whole (terms and postings).")
def check_command(repair: bool, deep: bool) -> None:
    """Compare the index with the database; exit 1 when they differ."""
    service = get_search()
    if not service.backend.available():
        raise click.ClickException("There is no index yet: run `flask --app forum search rebuild`.")
    try:
        with click.progressbar(length=service.count_searchable(), label="Checking posts") as bar:
            report = service.check(repair=repair, deep=deep, progress=bar.update)
    except IndexUnreadable as exc:
        raise click.ClickException(
            f"The index cannot be read ({exc}): run `flask --app forum search rebuild`."
        ) from exc
    for problem in report.damage:
        click.echo(f"damaged: {problem}")
    if report.damage and not repair:
        click.echo(
            "The index is damaged: `flask --app forum search rebuild` (or --repair) fixes it."
        )
    for label, ids in (
        ("missing", report.missing),
        ("stale", report.stale),
        ("stray", report.stray),
    ):
        shown = ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
        click.echo(f"{label}: {len(ids)}{' (' + shown + ')' if ids else ''}")
    if report.rebuild == RUNNING:
        click.echo("rebuild: running (changes meanwhile wait in the outbox for the new index)")
    elif report.rebuild == ABANDONED:
        click.echo(
            "rebuild: abandoned (a rebuild died part-way; --repair, or the next drain, removes"
            " its marker and half-built files)"
        )
    if report.clean:
        click.echo("The index matches the database.")
    elif repair:
        click.echo(
            "Repaired: the index was rebuilt."
            if report.damage
            else "Repaired: the changes were queued and applied."
        )
    else:
        raise click.ClickException("The index differs from the database (run with --repair).")
