"""The notification worker's rules: who hears of each event, grouping, e-mail, daily digests.

Each event is handled in one transaction: its notifications, the e-mail it queues and its
"processed" mark commit together, so a worker killed half-way leaves the event to do again and
nothing half-done. Decisions are taken when the event is handled, from the state then: a post
removed or a thread hidden before the worker came leaves nobody a notice about it.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import timedelta

from flask import current_app
from markupsafe import Markup
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from forum import mail, timezones
from forum.database import utcnow, write_transaction
from forum.extensions import db
from forum.links import site_url
from forum.markup import plain_text, stored_html
from forum.models import Member, Post, Thread
from forum.models.notification import (
    EmailPreference,
    EventKind,
    Frequency,
    Kind,
    MemberMute,
    Notification,
    NotificationEvent,
    Subscription,
    WatchLevel,
)
from forum.notifications.services import (
    DEFAULT_FREQUENCY,
    DIGEST,
    describe,
    frequencies,
    recount_unread,
    unsubscribe_token,
)

log = logging.getLogger(__name__)
# Stronger kinds win when one post concerns a member several ways: a mention in a reply to a
# thread you watch is one notification, a mention.
PRECEDENCE = [Kind.NEW_THREAD, Kind.WATCHED_REPLY, Kind.THREAD_REPLY, Kind.QUOTE, Kind.MENTION]
_MENTION = re.compile(r'<a href="/members/([a-z0-9_-]{3,30})" class="mention"')
_QUOTED = re.compile(r"\[wrote\]\(/p/(\d+)\)")
MAX_EVENT_ATTEMPTS = 5
EXCERPT = 600  # characters of a post's text in an e-mail's plain part


def _claim_event(session: Session) -> NotificationEvent | None:
    pending = select(NotificationEvent).where(NotificationEvent.processed_at.is_(None))
    if session.get_bind().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    return session.scalar(pending.order_by(NotificationEvent.id).limit(1))


def process_events(limit: int | None = None) -> int:
    """Handle waiting events, oldest first, one transaction each; returns how many.

    An event that fails (a lock, a lost connection, a race with another worker, a bug) is
    rolled back and tried again by a later run; after MAX_EVENT_ATTEMPTS it is set aside, logged
    with its error, so one bad event cannot hold back every event after it.
    """
    done = 0
    while limit is None or done < limit:
        event_id = None
        try:
            with write_transaction() as session:
                event = _claim_event(session)
                if event is None:
                    break
                event_id = event.id
                _handle(session, event)
                event.processed_at = utcnow()
        except Exception as exc:
            if event_id is None:
                raise
            if not _count_failure(event_id, exc):
                break  # later events wait for the next run, in order
        done += 1
    return done


def _count_failure(event_id: int, exc: Exception) -> bool:
    """Record a failed try; True when the event is set aside for good."""
    with write_transaction() as session:
        event = session.get(NotificationEvent, event_id)
        event.attempts += 1
        event.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if event.attempts >= MAX_EVENT_ATTEMPTS:
            event.processed_at = utcnow()
            log.error(
                "notification event %s set aside after %d tries: %s", event_id, event.attempts, exc
            )
            return True
        log.warning("notification event %s failed (try %d): %s", event_id, event.attempts, exc)
        return False


def _handle(session: Session, event: NotificationEvent) -> None:
    post = session.get(Post, event.post_id) if event.post_id else None
    thread = (
        session.get(Thread, post.thread_id if post else event.thread_id)
        if (post or event.thread_id)
        else None
    )
    if event.kind != EventKind.MODERATION and (
        (post is not None and post.is_removed) or (thread is not None and thread.is_hidden)
    ):
        return  # nobody may see it now, so nobody hears of it
    recipients = _recipients(session, event, post, thread)
    recipients.pop(event.actor_id, None)  # never for your own action
    if event.actor_id is not None and recipients:
        muters = session.scalars(
            select(MemberMute.member_id).where(
                MemberMute.muted_id == event.actor_id, MemberMute.member_id.in_(list(recipients))
            )
        )
        for member_id in muters:
            recipients.pop(member_id, None)
    if thread is not None and recipients and event.kind != EventKind.MODERATION:
        muted = session.scalars(
            select(Subscription.member_id).where(
                Subscription.thread_id == thread.id,
                Subscription.level == WatchLevel.MUTED,
                Subscription.member_id.in_(list(recipients)),
            )
        )
        for member_id in muted:
            recipients.pop(member_id, None)
    if not recipients:
        return
    by_kind: dict[Kind, list[int]] = defaultdict(list)
    for member_id, kind in recipients.items():
        by_kind[kind].append(member_id)
    for kind, member_ids in by_kind.items():
        _notify(session, event, kind, sorted(member_ids), post, thread)
    recount_unread(session, recipients)


def _recipients(session: Session, event, post, thread) -> dict[int, Kind]:
    """Member id -> the kind of notification this event gives them (before exclusions)."""
    if event.kind == EventKind.POST:
        return _post_recipients(session, post, thread)
    if event.kind in (EventKind.KUDOS, EventKind.SOLUTION):
        kind = Kind.KUDOS if event.kind == EventKind.KUDOS else Kind.SOLUTION
        return {post.author_id: kind}
    kind = {EventKind.BADGE: Kind.BADGE, EventKind.RANK: Kind.RANK}.get(event.kind, Kind.MODERATION)
    return {event.member_id: kind}


def _post_recipients(session: Session, post: Post, thread: Thread) -> dict[int, Kind]:
    found: dict[int, Kind] = {}

    def offer(member_ids, kind: Kind) -> None:
        for member_id in member_ids:
            current = found.get(member_id)
            if current is None or PRECEDENCE.index(kind) > PRECEDENCE.index(current):
                found[member_id] = kind

    if post.position == 1:
        offer(
            session.scalars(
                select(Subscription.member_id).where(
                    Subscription.board_id == thread.board_id,
                    Subscription.level == WatchLevel.WATCHING,
                )
            ),
            Kind.NEW_THREAD,
        )
    else:
        watchers = set(
            session.scalars(
                select(Subscription.member_id).where(
                    Subscription.thread_id == thread.id, Subscription.level == WatchLevel.WATCHING
                )
            )
        )
        offer(watchers - {thread.author_id}, Kind.WATCHED_REPLY)
        offer(watchers & {thread.author_id}, Kind.THREAD_REPLY)
    quoted_ids = {int(i) for i in _QUOTED.findall(post.body_source)} - {post.id}
    if quoted_ids:
        offer(
            session.scalars(
                select(Post.author_id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(Post.id.in_(quoted_ids), ~Post.is_removed, ~Thread.is_hidden)
            ),
            Kind.QUOTE,
        )
    handles = set(_MENTION.findall(post.body_html))
    if handles:
        offer(session.scalars(select(Member.id).where(Member.handle.in_(handles))), Kind.MENTION)
    return found


def _group_key(kind: Kind, event: NotificationEvent, post: Post | None) -> str:
    if kind in (Kind.THREAD_REPLY, Kind.WATCHED_REPLY):
        return f"thread:{post.thread_id}"
    if kind == Kind.KUDOS:
        return f"kudos:{post.id}"
    if kind == Kind.NEW_THREAD:
        return f"new:{post.thread_id}"
    return f"{kind.value}:{event.id}"  # mentions, quotes, solutions, badges...: one each


def _notify(session: Session, event, kind: Kind, member_ids: list[int], post, thread) -> None:
    """Collapse into each member's unread notification of the same group, or add one."""
    now = utcnow()
    key = _group_key(kind, event, post)
    merged = set(
        session.scalars(
            update(Notification)
            .where(
                Notification.member_id.in_(member_ids),
                Notification.group_key == key,
                Notification.is_read.is_(False),
            )
            .values(
                count=Notification.count + 1,
                others=Notification.others + (1 if kind == Kind.KUDOS else 0),
                actor_id=event.actor_id if kind == Kind.KUDOS else Notification.actor_id,
                updated_at=now,
                is_emailed=False,
            )
            .returning(Notification.member_id)
        )
    )
    fresh = [m for m in member_ids if m not in merged]
    if fresh:
        session.execute(
            insert(Notification),
            [
                {
                    "member_id": member_id,
                    "kind": kind,
                    "group_key": key,
                    "actor_id": event.actor_id,
                    "thread_id": thread.id if thread else None,
                    "post_id": post.id if post else None,
                    "details": event.details,
                    "created_at": now,
                    "updated_at": now,
                }
                for member_id in fresh
            ],
        )
    _email_now(session, event, kind, member_ids, key, post, thread)


def _email_now(session: Session, event, kind: Kind, member_ids, key: str, post, thread) -> None:
    """Queue an e-mail for each member who asked for this kind immediately and has a confirmed address."""
    chosen = dict(
        session.execute(
            select(EmailPreference.member_id, EmailPreference.frequency).where(
                EmailPreference.kind == kind, EmailPreference.member_id.in_(member_ids)
            )
        ).all()
    )
    default = DEFAULT_FREQUENCY.get(kind, Frequency.NEVER)
    wanted = [m for m in member_ids if chosen.get(m, default) == Frequency.IMMEDIATELY]
    if not wanted:
        return
    people = session.execute(
        select(Member.id, Member.email, Member.display_name, Member.time_zone).where(
            Member.id.in_(wanted), Member.email_confirmed_at.is_not(None)
        )
    ).all()
    actor = session.get(Member, event.actor_id) if event.actor_id else None
    actor_name = actor.display_name if actor else "Someone"
    text = describe(kind, 1, 0, actor_name, thread.subject if thread else "", event.details)
    link = (
        site_url("threads.permalink", post_id=post.id)
        if post is not None and not post.is_removed
        else site_url("notifications.index")
    )
    excerpt = _excerpt(post) if post is not None and kind != Kind.MODERATION else None
    for member_id, address, name, time_zone in people:
        unsubscribe = site_url(
            "notifications.unsubscribe", token=unsubscribe_token(member_id, kind)
        )
        composed = mail.compose(
            "notification",
            subject=text,
            member_name=name,
            text_line=text,
            at=event.created_at,
            time_zone=timezones.member_zone(time_zone),
            link=link,
            post_html=excerpt[0] if excerpt else None,
            post_text=excerpt[1] if excerpt else None,
            kind_label=kind.value.replace("_", " "),
            unsubscribe_url=unsubscribe,
            settings_url=site_url("notifications.settings"),
        )
        mail.queue(
            session,
            to=address,
            composed=composed,
            purpose=kind.value,
            member_id=member_id,
            event_id=event.id,
            unsubscribe_url=unsubscribe,
        )
    session.execute(
        update(Notification)
        .where(
            Notification.member_id.in_([p.id for p in people]),
            Notification.group_key == key,
            Notification.is_read.is_(False),
        )
        .values(is_emailed=True)
    )


def _excerpt(post: Post) -> tuple[Markup, str]:
    """The post as e-mail shows it: its stored sanitised HTML, and its text, shortened."""
    text = plain_text(post.body_source)
    if len(text) > EXCERPT:
        text = text[:EXCERPT].rsplit(" ", 1)[0] + " …"
    return stored_html(mail.absolute_links(post.body_html)), text


def send_digests(now=None) -> int:
    """One e-mail per member a day with the unread notifications they chose to get daily."""
    now = now or utcnow()
    due = now - timedelta(hours=23)  # a digest sent a little late must not skip a day
    daily = select(EmailPreference.member_id).where(EmailPreference.frequency == Frequency.DAILY)
    candidates = list(
        db.session.scalars(
            select(Member.id).where(
                Member.id.in_(daily),
                Member.email_confirmed_at.is_not(None),
                Member.unread_notifications > 0,
                (Member.digest_sent_at.is_(None)) | (Member.digest_sent_at < due),
            )
        )
    )
    db.session.rollback()
    sent = 0
    for member_id in candidates:
        sent += _digest_for(member_id, now)
    return sent


def _digest_for(member_id: int, now) -> int:
    with write_transaction() as session:
        member = session.get(Member, member_id)
        kinds = [k for k, f in frequencies(member_id).items() if f == Frequency.DAILY]
        if not kinds or member.email_confirmed_at is None:
            return 0
        rows = session.execute(
            select(Notification, Thread.subject)
            .outerjoin(Thread, Thread.id == Notification.thread_id)
            .where(
                Notification.member_id == member_id,
                Notification.is_read.is_(False),
                Notification.is_emailed.is_(False),
                Notification.kind.in_(kinds),
                (Thread.id.is_(None)) | (Thread.is_hidden.is_(False)),
            )
            .order_by(Notification.updated_at)
        ).all()
        member.digest_sent_at = now
        if not rows:
            return 0
        items = []
        for notification, subject in rows:
            actor = session.get(Member, notification.actor_id) if notification.actor_id else None
            items.append(
                {
                    "text": describe(
                        notification.kind,
                        notification.count,
                        notification.others,
                        actor.display_name if actor else "Someone",
                        subject or "",
                        notification.details,
                    ),
                    "link": site_url("notifications.open", notification_id=notification.id),
                    "at": notification.updated_at,
                }
            )
            notification.is_emailed = True
        unsubscribe = site_url(
            "notifications.unsubscribe", token=unsubscribe_token(member_id, DIGEST)
        )
        composed = mail.compose(
            "digest",
            subject=f"{len(items)} new notification{'s' if len(items) > 1 else ''} on "
            f"{current_app.config['MAIL_SENDER_NAME']}",
            member_name=member.display_name,
            items=items,
            time_zone=timezones.member_zone(member.time_zone),
            unsubscribe_url=unsubscribe,
            settings_url=site_url("notifications.settings"),
        )
        mail.queue(
            session,
            to=member.email,
            composed=composed,
            purpose=DIGEST,
            member_id=member_id,
            unsubscribe_url=unsubscribe,
        )
    return 1
