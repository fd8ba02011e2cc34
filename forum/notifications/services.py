"""Watching, muting, reading and e-mail choices: the member-facing rules of notifications.

Other services call `record` inside their own unit of work to say something happened; the
worker (forum.notifications.fanout) decides later who hears of it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from forum.database import utcnow, write_transaction
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import (
    Board,
    EmailPreference,
    EventKind,
    Frequency,
    Kind,
    Member,
    MemberMute,
    Notification,
    NotificationEvent,
    Post,
    Subscription,
    Thread,
    ThreadRead,
    WatchLevel,
)

EVENTS_RECORDED = "forum_notification_events"  # session.info flag: wake the worker after commit
DEFAULT_FREQUENCY = {Kind.THREAD_REPLY: Frequency.IMMEDIATELY, Kind.MENTION: Frequency.IMMEDIATELY}
KIND_LABELS = {
    Kind.THREAD_REPLY: "Replies to threads you started",
    Kind.WATCHED_REPLY: "Replies in other threads you watch",
    Kind.NEW_THREAD: "New threads on boards you watch",
    Kind.MENTION: "Someone @mentions you",
    Kind.QUOTE: "Someone quotes your post",
    Kind.SOLUTION: "Your reply is accepted as the solution",
    Kind.KUDOS: "Kudos on your posts",
    Kind.BADGE: "A badge is granted to you",
    Kind.RANK: "Your rank changes",
    Kind.MODERATION: "A moderator acts on your post",
}
DIGEST = "digest"  # the unsubscribe kind of the daily digest: every daily choice becomes never
PAGE_SIZE = 30


def record(
    session: Session,
    kind: EventKind,
    *,
    actor_id: int | None,
    member_id: int | None = None,
    thread_id: int | None = None,
    post_id: int | None = None,
    details: str = "",
) -> None:
    """Note, in the caller's unit of work, that something happened that may notify members."""
    session.add(
        NotificationEvent(
            kind=kind,
            actor_id=actor_id,
            member_id=member_id,
            thread_id=thread_id,
            post_id=post_id,
            details=details[:255],
        )
    )
    session.info[EVENTS_RECORDED] = True


def watch_on_posting(session: Session, member_id: int, thread_id: int) -> None:
    """Start watching a thread one posts in, unless the member turned that off or chose already."""
    chosen = (
        select(Subscription.id)
        .where(Subscription.member_id == member_id, Subscription.thread_id == thread_id)
        .exists()
    )
    wants, already = session.execute(
        select(Member.auto_watch, chosen).where(Member.id == member_id)
    ).one()
    if wants and not already:
        session.add(
            Subscription(member_id=member_id, thread_id=thread_id, level=WatchLevel.WATCHING)
        )


def _set_level(member_id: int, target, target_id: int, level: WatchLevel | None) -> None:
    with write_transaction() as session:
        session.execute(
            delete(Subscription).where(Subscription.member_id == member_id, target == target_id)
        )
        if level is not None:
            column = "thread_id" if target is Subscription.thread_id else "board_id"
            session.add(Subscription(member_id=member_id, level=level, **{column: target_id}))


def set_thread_level(member: Member, thread: Thread, level: WatchLevel | None) -> None:
    """Watch, mute, or go back to neither (None) for one thread."""
    _set_level(member.id, Subscription.thread_id, thread.id, level)


def set_board_level(member: Member, board: Board, watching: bool) -> None:
    """Watch a board (a notification for each new thread) or stop watching it."""
    _set_level(
        member.id, Subscription.board_id, board.id, WatchLevel.WATCHING if watching else None
    )


def board_level(member: Member, board: Board) -> WatchLevel | None:
    return db.session.scalar(
        select(Subscription.level).where(
            Subscription.member_id == member.id, Subscription.board_id == board.id
        )
    )


@dataclass(frozen=True)
class ThreadState:
    """What a thread page needs to know of its viewer: watch level and how far they had read."""

    level: WatchLevel | None
    last_read: int | None  # None: never opened


def thread_with_state(thread_id: int, member: Member) -> tuple[Thread, ThreadState] | None:
    """The thread and its viewer's watch level and read position, in the one query that loads
    the thread: a member's thread page costs no more queries than a visitor's."""
    row = db.session.execute(
        select(Thread, Subscription.level, ThreadRead.last_read_position)
        .outerjoin(
            Subscription,
            (Subscription.thread_id == Thread.id) & (Subscription.member_id == member.id),
        )
        .outerjoin(
            ThreadRead, (ThreadRead.thread_id == Thread.id) & (ThreadRead.member_id == member.id)
        )
        .where(Thread.id == thread_id)
    ).first()
    if row is None:
        return None
    thread, level, last_read = row
    return thread, ThreadState(level=WatchLevel(level) if level else None, last_read=last_read)


def note_read(member: Member, thread: Thread, position: int, known: int | None) -> None:
    """Remember that the member has read up to position: one statement when it moved forward,
    none when it did not (a page viewed again writes nothing)."""
    if known is not None and position <= known:
        return
    member_id, thread_id = member.id, thread.id
    try:
        with write_transaction() as session:
            if known is None:
                session.execute(
                    insert(ThreadRead).values(
                        member_id=member_id,
                        thread_id=thread_id,
                        last_read_position=position,
                        updated_at=utcnow(),
                    )
                )
            else:
                session.execute(
                    update(ThreadRead)
                    .where(
                        ThreadRead.member_id == member_id,
                        ThreadRead.thread_id == thread_id,
                        ThreadRead.last_read_position < position,
                    )
                    .values(last_read_position=position, updated_at=utcnow())
                )
    except IntegrityError:  # another tab of the member's stored it first: that one stands
        pass


def read_positions(member: Member, thread_ids: list[int]) -> dict[int, int]:
    """How far the member has read each of these threads (one query for a board page)."""
    if not member.is_authenticated or not thread_ids:
        return {}
    return dict(
        db.session.execute(
            select(ThreadRead.thread_id, ThreadRead.last_read_position).where(
                ThreadRead.member_id == member.id, ThreadRead.thread_id.in_(thread_ids)
            )
        ).all()
    )


def set_member_muted(member: Member, other: Member, muted: bool) -> None:
    """Hear nothing caused by another member (their replies, mentions, kudos), or hear it again."""
    if member.id == other.id:
        raise InvalidInput("You cannot mute yourself.")
    member_id, other_id = member.id, other.id
    with write_transaction() as session:
        session.execute(
            delete(MemberMute).where(
                MemberMute.member_id == member_id, MemberMute.muted_id == other_id
            )
        )
        if muted:
            session.add(MemberMute(member_id=member_id, muted_id=other_id))


def has_muted(member: Member, other: Member) -> bool:
    return (
        db.session.get(MemberMute, (member.id, other.id)) is not None
        if member.is_authenticated
        else False
    )


def recount_unread(session: Session, member_ids) -> None:
    """Set the header's counter from the rows (exact, whatever else changed them meanwhile)."""
    unread = (
        select(func.count())
        .where(Notification.member_id == Member.id, Notification.is_read.is_(False))
        .scalar_subquery()
    )
    session.execute(
        update(Member).where(Member.id.in_(list(member_ids))).values(unread_notifications=unread)
    )


def mark_read(member: Member, notification_id: int) -> Notification | None:
    """Mark one of the member's own notifications read; returns it (None if it is not theirs)."""
    member_id = member.id
    with write_transaction() as session:
        notification = session.get(Notification, notification_id)
        if notification is None or notification.member_id != member_id:
            return None
        if not notification.is_read:
            notification.is_read = True
            session.flush()
            recount_unread(session, [member_id])
    return notification


def mark_all_read(member: Member) -> None:
    member_id = member.id
    with write_transaction() as session:
        session.execute(
            update(Notification)
            .where(Notification.member_id == member_id, Notification.is_read.is_(False))
            .values(is_read=True)
        )
        recount_unread(session, [member_id])


def forget_posts(session: Session, post_ids: Collection[int], thread_ids: Collection[int]) -> None:
    """Posts (and whole threads) left the members' view: their notifications go with them.

    The moderator's notice to the author stays, so they learn why.
    """
    target = or_(Notification.post_id.in_(post_ids), Notification.thread_id.in_(thread_ids))
    members = set(
        session.scalars(
            select(Notification.member_id).where(target, Notification.kind != Kind.MODERATION)
        )
    )
    if members:
        session.execute(delete(Notification).where(target, Notification.kind != Kind.MODERATION))
        recount_unread(session, members)


@dataclass(frozen=True)
class Line:
    """One notification as the list shows it."""

    id: int
    kind: Kind
    text: str
    is_read: bool
    at: datetime
    post_id: int | None
    position: int | None
    thread_id: int | None
    thread_slug: str | None
    handle: str | None  # for badge and rank notices: the member's own profile


def describe(kind: Kind, count: int, others: int, actor: str, subject: str, details: str) -> str:
    """The sentence a notification reads as, in the list and in e-mail."""
    who = f"{actor} and {others} other{'s' if others > 1 else ''}" if others else actor
    topic = f"“{subject}”"
    if kind in (Kind.THREAD_REPLY, Kind.WATCHED_REPLY):
        return f"{count} new replies in {topic}" if count > 1 else f"{actor} replied in {topic}"
    return {
        Kind.NEW_THREAD: f"{actor} started {topic}",
        Kind.MENTION: f"{actor} mentioned you in {topic}",
        Kind.QUOTE: f"{actor} quoted your post in {topic}",
        Kind.SOLUTION: f"Your reply in {topic} was accepted as the solution",
        Kind.KUDOS: f"{who} gave kudos to your post in {topic}",
        Kind.BADGE: f"You were granted the badge “{details}”",
        Kind.RANK: f"Your rank is now “{details}”",
        # a held submission turned down is about no thread (it never was a post)
        Kind.MODERATION: f"A moderator removed your post in {topic}: {details}"
        if subject
        else f"A moderator did not approve {details}",
    }[kind]


def notification_lines(member: Member, page: int = 1) -> tuple[list[Line], bool]:
    """The member's notifications, newest first, and whether an older page exists.

    Notices about posts that left the members' view are not shown (a removal deletes them; this
    also covers a thread hidden after the notice was written).
    """
    actor, post = aliased(Member), aliased(Post)
    rows = db.session.execute(
        select(
            Notification,
            actor.display_name,
            Thread.subject,
            Thread.slug,
            post.position,
        )
        .outerjoin(actor, actor.id == Notification.actor_id)
        .outerjoin(Thread, Thread.id == Notification.thread_id)
        .outerjoin(post, post.id == Notification.post_id)
        .where(
            Notification.member_id == member.id,
            (Notification.kind == Kind.MODERATION)
            | (Thread.id.is_(None))
            | (Thread.is_hidden.is_(False) & (post.id.is_(None) | post.is_removed.is_(False))),
        )
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    lines = [
        Line(
            id=n.id,
            kind=n.kind,
            text=describe(
                n.kind, n.count, n.others, actor_name or "Someone", subject or "", n.details
            ),
            is_read=n.is_read,
            at=n.updated_at,
            post_id=n.post_id,
            position=position,
            thread_id=n.thread_id,
            thread_slug=slug,
            handle=member.handle if n.kind in (Kind.BADGE, Kind.RANK) else None,
        )
        for n, actor_name, subject, slug, position in rows[:PAGE_SIZE]
    ]
    return lines, len(rows) > PAGE_SIZE


def frequencies(member_id: int) -> dict[Kind, Frequency]:
    """The member's e-mail choice for every kind, defaults filled in."""
    chosen = dict(
        db.session.execute(
            select(EmailPreference.kind, EmailPreference.frequency).where(
                EmailPreference.member_id == member_id
            )
        ).all()
    )
    return {kind: chosen.get(kind, DEFAULT_FREQUENCY.get(kind, Frequency.NEVER)) for kind in Kind}


def _save_frequencies(session: Session, member_id: int, choices: dict[Kind, Frequency]) -> None:
    session.execute(
        delete(EmailPreference).where(
            EmailPreference.member_id == member_id, EmailPreference.kind.in_(list(choices))
        )
    )
    session.add_all(
        EmailPreference(member_id=member_id, kind=kind, frequency=frequency)
        for kind, frequency in choices.items()
    )


def save_preferences(member: Member, auto_watch: bool, choices: dict[Kind, Frequency]) -> None:
    """Settings: watch threads one posts in, and the e-mail choice per kind."""
    member_id = member.id
    with write_transaction() as session:
        session.execute(update(Member).where(Member.id == member_id).values(auto_watch=auto_watch))
        _save_frequencies(session, member_id, choices)


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="forum.unsubscribe")


def unsubscribe_token(member_id: int, kind: str) -> str:
    return _unsubscribe_serializer().dumps([member_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """The member and kind a signed unsubscribe link names, or None if it was not ours."""
    try:
        member_id, kind = _unsubscribe_serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if kind != DIGEST and kind not in Kind.__members__.values():
        return None
    return int(member_id), kind


def unsubscribe(member_id: int, kind: str) -> None:
    """One-click unsubscribe: that kind's e-mail stops (the digest: every daily choice stops)."""
    with write_transaction() as session:
        if session.get(Member, member_id) is None:
            return
        if kind == DIGEST:
            current = frequencies(member_id)
            choices = {k: Frequency.NEVER for k, f in current.items() if f == Frequency.DAILY}
        else:
            choices = {Kind(kind): Frequency.NEVER}
        _save_frequencies(session, member_id, choices)
