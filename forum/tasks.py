"""Background work on Huey: fan-out of notifications, e-mail sending, daily digests, and the
search outbox rows a request left (a rename touching thousands of posts).

The database holds the truth (notification events and the mail queue are rows written in the
member's own transaction); a queued task only says "there is work". So a lost task, a Redis
restart or a worker killed mid-task loses nothing: the periodic sweep, `flask jobs run`, or the
next task picks the rows up. Huey stores its queue in a SQLite file under instance/ by default
(no server to install) and in Redis at scale (FORUM_TASK_QUEUE_URL=redis://...).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum.database import listen_to_every_session

log = logging.getLogger(__name__)
EXTENSION = "forum_tasks"


def make_huey(url: str, instance_path: str) -> Huey:
    """The queue named by FORUM_TASK_QUEUE_URL."""
    if not url:
        return SqliteHuey("forum", filename=str(Path(instance_path) / "tasks.sqlite"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("forum", url=url)
    if url.startswith("sqlite:///"):
        return SqliteHuey("forum", filename=url.removeprefix("sqlite:///"))
    if url == "memory://":
        return MemoryHuey("forum")
    raise ValueError("FORUM_TASK_QUEUE_URL must be empty, redis://..., sqlite:///path or memory://")


def run_pending_work() -> tuple[int, int]:
    """Everything waiting: events into notifications and e-mail, then the mail queue sent."""
    from forum import mail
    from forum.notifications.fanout import process_events

    events = process_events()
    sent = mail.send_pending()
    return events, sent


def init_app(app: Flask) -> None:
    huey = make_huey(app.config["TASK_QUEUE_URL"], app.instance_path)

    def deliver() -> None:
        with app.app_context():
            events, sent = run_pending_work()
            if events or sent:
                log.info("handled %d notification events, sent %d e-mails", events, sent)

    def digests() -> None:
        from forum import mail
        from forum.notifications.fanout import send_digests

        with app.app_context():
            if send_digests():
                mail.send_pending()

    def drain_search() -> None:
        from forum.search import get_search

        with app.app_context():
            if applied := get_search(app).drain_backlog():
                log.info("applied %d search outbox rows", applied)

    def sweep() -> None:
        deliver()
        drain_search()

    deliver_task = huey.task(name="forum.deliver")(deliver)
    search_task = huey.task(name="forum.search-drain")(drain_search)
    # The sweep: work whose task was lost (a crash, a queue emptied) waits at most a minute.
    huey.periodic_task(crontab(minute="*"), name="forum.sweep")(sweep)
    huey.periodic_task(crontab(minute="7"), name="forum.digests")(digests)
    app.extensions[EXTENSION] = {"huey": huey, "deliver": deliver_task}
    _listen()
    from forum.search import get_search

    get_search(app).on_backlog = search_task


def get_huey(app: Flask | None = None) -> Huey:
    return (app or current_app).extensions[EXTENSION]["huey"]


def wake_worker(session: Session) -> None:
    """After a commit that recorded notification events or queued mail, queue a delivery task."""
    from forum.mail import QUEUED
    from forum.notifications.services import EVENTS_RECORDED

    if not (session.info.pop(EVENTS_RECORDED, False) | session.info.pop(QUEUED, False)):
        return
    if not has_app_context() or EXTENSION not in current_app.extensions:
        return
    try:
        current_app.extensions[EXTENSION]["deliver"]()
    except Exception:  # the rows are committed: the periodic sweep will find them
        log.exception("could not queue the delivery task")


def _forget(session: Session, _previous=None) -> None:
    from forum.mail import QUEUED
    from forum.notifications.services import EVENTS_RECORDED

    session.info.pop(EVENTS_RECORDED, None)
    session.info.pop(QUEUED, None)


def _listen() -> None:
    listen_to_every_session(after_commit=wake_worker, after_rollback=_forget)


jobs_cli = AppGroup("jobs", help="Background work: the worker, and seeing and retrying stuck work.")


@jobs_cli.command("worker")
@click.option("--threads", default=2, show_default=True, help="tasks run at once")
def worker_command(threads: int) -> None:
    """Run the Huey consumer: queued deliveries, the minute sweep and the daily digests."""
    consumer = get_huey().create_consumer(workers=threads, worker_type="thread", periodic=True)
    consumer.run()


@jobs_cli.command("run")
def run_command() -> None:
    """Do all waiting work now, in this process (for cron, or a site with no worker running)."""
    events, sent = run_pending_work()
    click.echo(f"{events} notification events handled, {sent} e-mails sent.")
    _exit_on_stuck()


@jobs_cli.command("digest")
def digest_command() -> None:
    """Queue and send the daily digests that are due (the worker does this every hour)."""
    from forum import mail
    from forum.notifications.fanout import send_digests

    queued = send_digests()
    click.echo(f"{queued} digests queued, {mail.send_pending()} e-mails sent.")


@jobs_cli.command("status")
def status_command() -> None:
    """Show waiting work; exits 1 if an e-mail failed or work waited over 10 minutes."""
    for line in _status_lines():
        click.echo(line)
    _exit_on_stuck(older_than=STALE_AFTER)


@jobs_cli.command("retry")
def retry_command() -> None:
    """Put failed e-mail (and claims of vanished workers) back in the queue; do all work now."""
    from forum.database import utcnow, write_transaction
    from forum.models import MailDelivery, MailStatus

    abandoned = utcnow() - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])
    with write_transaction() as session:
        retried = session.execute(
            update(MailDelivery)
            .where(
                (MailDelivery.status == MailStatus.FAILED)
                | (MailDelivery.status == MailStatus.SENDING)
                & (MailDelivery.claimed_at < abandoned)
            )
            .values(status=MailStatus.PENDING, attempts=0)
        ).rowcount
    click.echo(f"{retried} e-mails put back in the queue.")
    events, sent = run_pending_work()
    click.echo(f"{events} notification events handled, {sent} e-mails sent.")
    _exit_on_stuck()


STALE_AFTER = timedelta(minutes=10)  # waiting longer than this with a worker running: stuck


def _counts(older_than: timedelta | None = None) -> dict[str, int]:
    """Unhandled events and mail per status (only rows older than older_than, when given)."""
    from forum.database import utcnow
    from forum.extensions import db
    from forum.models import MailDelivery, NotificationEvent

    cutoff = utcnow() - older_than if older_than else None
    events = select(func.count()).where(NotificationEvent.processed_at.is_(None))
    mails = select(MailDelivery.status, func.count()).group_by(MailDelivery.status)
    if cutoff is not None:
        events = events.where(NotificationEvent.created_at < cutoff)
        mails = mails.where(MailDelivery.created_at < cutoff)
    counts = {str(k): v for k, v in db.session.execute(mails).all()}
    return {"events": db.session.scalar(events) or 0, **counts}


def _status_lines() -> list[str]:
    counts = _counts()
    return [
        f"notification events waiting: {counts['events']}",
        *(
            f"e-mails {status}: {counts.get(status, 0)}"
            for status in ("pending", "sending", "failed", "sent")
        ),
    ]


def _exit_on_stuck(older_than: timedelta | None = None) -> None:
    """Exit 1 when work is stuck: after a run, anything left; otherwise failed e-mail, or work
    waiting longer than a running worker would leave it."""
    counts = _counts(older_than)
    stuck = counts["events"] + counts.get("pending", 0) + counts.get("sending", 0)
    stuck += _counts().get("failed", 0)
    if stuck:
        raise click.ClickException(
            f"{stuck} items of work are stuck; `flask --app forum jobs retry` tries them again"
        )
