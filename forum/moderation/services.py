"""Moderation rules: reports, thread locks/pins/moves, suspensions, removing spammers, roles and
boards.

Every action is one unit of work that also writes its audit entry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, literal, select, union_all, update
from sqlalchemy.orm import Session, joinedload

from forum import audit, permissions, spam
from forum.database import LIST_PAGE_SIZE, page_of_rows, utcnow, write_transaction
from forum.errors import InvalidInput, NotAllowed
from forum.extensions import db
from forum.models import (
    AuditEntry,
    Board,
    BoardOldSlug,
    Draft,
    EventKind,
    HeldPost,
    HeldStatus,
    Member,
    MemberSession,
    Notification,
    NotificationEvent,
    Post,
    Report,
    ReportStatus,
    Role,
    SiteSettings,
    SpammerRemoval,
    SpammerRemovalPost,
    Subscription,
    Thread,
    ThreadRead,
)
from forum.names import free_slug, row_to_save
from forum.notifications import services as notifications
from forum.reputation.services import refresh_rank
from forum.threads import holds
from forum.threads.services import (
    apply_removal,
    apply_removals,
    content_of,
    post_reply,
    post_thread,
    reply_subject,
)


def _require_moderator(actor: Member) -> None:
    if not permissions.can_moderate(actor):
        raise NotAllowed("Only moderators can do that.")


def _require_admin(actor: Member) -> None:
    if not (actor.is_authenticated and actor.is_admin):
        raise NotAllowed("Only administrators can do that.")


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("Please give a reason.")
    return reason[:500]


def report_post(reporter: Member, post: Post, reason: str) -> Report:
    """File a report; a member's second open report of the same post is the same report."""
    if not permissions.can_post(reporter):
        raise NotAllowed("You cannot report posts right now.")
    reason = _reason(reason)
    reporter_id, post_id = reporter.id, post.id
    with write_transaction() as session:
        existing = session.scalar(
            select(Report).where(
                Report.post_id == post_id,
                Report.reporter_id == reporter_id,
                Report.status == ReportStatus.OPEN,
            )
        )
        if existing is not None:
            return existing
        report = Report(post_id=post_id, reporter_id=reporter_id, reason=reason)
        session.add(report)
    return report


def resolve_report(moderator: Member, report: Report, remove: bool, note: str = "") -> None:
    """Close a report by removing the post (and every open report of it) or by dismissing it.

    One unit of work: the removal and the report's new status commit together or not at all.
    """
    _require_moderator(moderator)
    if report.status != ReportStatus.OPEN:
        return
    moderator_id, report_id = moderator.id, report.id
    with write_transaction() as session:
        report = session.get(Report, report_id)
        post = report.post
        if remove:
            apply_removal(session, moderator_id, post.id, True, f"reported: {report.reason}")
        status = ReportStatus.REMOVED if remove else ReportStatus.DISMISSED
        targets = (
            [Report.post_id == report.post_id, Report.status == ReportStatus.OPEN]
            if remove
            else [Report.id == report_id]
        )
        session.execute(
            update(Report)
            .where(*targets)
            .values(status=status, resolved_by_id=moderator_id, resolved_at=utcnow())
        )
        if not remove:
            audit.record(
                session,
                moderator_id,
                "report.dismiss",
                post_id=report.post_id,
                member_id=post.author_id,
                reason=note or report.reason,
            )


def open_reports(page: int):
    """Open reports, oldest first, a page at a time, with their posts and reporters."""
    return page_of_rows(
        select(Report)
        .where(Report.status == ReportStatus.OPEN)
        .options(joinedload(Report.post).joinedload(Post.thread), joinedload(Report.reporter))
        .order_by(Report.created_at, Report.id),
        page,
    )


# held posts and the queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One thing waiting for a moderator: a held submission or an open report (the other None)."""

    held: HeldPost | None = None
    report: Report | None = None


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    page: int
    pages: int
    total: int


def moderation_queue(page: int, per_page: int = LIST_PAGE_SIZE) -> QueuePage:
    """Held submissions and open reports together, oldest first, a page at a time (a UNION of
    the two tables' keys, then one load of each kind)."""
    waiting = union_all(
        select(literal("held").label("kind"), HeldPost.id, HeldPost.created_at).where(
            HeldPost.status == HeldStatus.PENDING
        ),
        select(literal("report").label("kind"), Report.id, Report.created_at).where(
            Report.status == ReportStatus.OPEN
        ),
    ).subquery()
    total = db.session.scalar(select(func.count()).select_from(waiting))
    keys = db.session.execute(
        select(waiting.c.kind, waiting.c.id)
        .order_by(waiting.c.created_at, waiting.c.kind, waiting.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    held_ids = [row_id for kind, row_id in keys if kind == "held"]
    report_ids = [row_id for kind, row_id in keys if kind == "report"]
    held = {
        h.id: h
        for h in db.session.scalars(
            select(HeldPost)
            .where(HeldPost.id.in_(held_ids))
            .options(
                joinedload(HeldPost.author), joinedload(HeldPost.board), joinedload(HeldPost.thread)
            )
        )
    }
    reports = {
        r.id: r
        for r in db.session.scalars(
            select(Report)
            .where(Report.id.in_(report_ids))
            .options(joinedload(Report.post).joinedload(Post.thread), joinedload(Report.reporter))
        )
    }
    items = [
        QueueItem(held=held[row_id]) if kind == "held" else QueueItem(report=reports[row_id])
        for kind, row_id in keys
    ]
    return QueuePage(items, page, max(1, math.ceil(total / per_page)), total)


def queue_size() -> int:
    """How many held submissions and open reports wait (the moderation menu's count)."""
    held = select(func.count()).select_from(HeldPost).where(HeldPost.status == HeldStatus.PENDING)
    reports = select(func.count()).select_from(Report).where(Report.status == ReportStatus.OPEN)
    return db.session.scalar(select(held.scalar_subquery() + reports.scalar_subquery()))


def _pending_held(session: Session, held_id: int) -> HeldPost:
    """The held submission, locked, while still undecided (another moderator may have been first)."""
    held = session.get(HeldPost, held_id, with_for_update=True, populate_existing=True)
    if held is None or held.status != HeldStatus.PENDING:
        raise InvalidInput("Another moderator has already decided on that post.")
    return held


def _decided(session: Session, held: HeldPost, moderator_id: int, status: HeldStatus) -> None:
    held.status, held.decided_by_id, held.decided_at = status, moderator_id, utcnow()
    session.execute(
        update(Member)
        .where(Member.id == held.author_id)
        .values(pending_posts=Member.pending_posts - 1)
    )


def approve_held(moderator: Member, held: HeldPost) -> Post:
    """Publish a held submission as if it were posted now, through the posting services: it gets
    its position, counts, search entry and notifications at this moment. Approving is a moderator's
    "not spam", so the spam classifier learns it in the same unit of work.

    A reply to a thread locked meanwhile is still posted (a moderator may reply in a locked
    thread, and approving is their call); a thread removed meanwhile refuses: there is nowhere
    for the reply to be seen.
    """
    _require_moderator(moderator)
    moderator_id, held_id = moderator.id, held.id
    with write_transaction() as session:
        held = _pending_held(session, held_id)
        content = content_of(held.author_id, held.body_source)
        if held.thread_id is None:
            thread = post_thread(session, held.board_id, held.subject, content)
            post_id = thread.last_post_id
        else:
            if session.get(Thread, held.thread_id).is_hidden:
                raise InvalidInput("That thread was removed; reject the reply instead.")
            post_id = post_reply(session, held.thread_id, content).id
        held.post_id = post_id
        _decided(session, held, moderator_id, HeldStatus.APPROVED)
        spam.record_decision(session, spam.text_of(held.subject, held.body_html), is_spam=False)
        post = session.get(Post, post_id)
        audit.record(
            session,
            moderator_id,
            "held.approve",
            member_id=held.author_id,
            thread_id=post.thread_id,
            post_id=post_id,
            details="; ".join(held.reason_list),
        )
    return post


REJECTED_AS_SPAM = "Rejected as spam"


def reject_held(
    moderator: Member, held: HeldPost, reason: str = "", *, as_spam: bool = False
) -> None:
    """Turn a held submission down with a reason its author is told (a moderation notice and the
    held page); nothing of it ever appears. as_spam: the moderator's "spam", one click with its
    own reason, which the spam classifier learns in the same unit of work (a plain rejection
    teaches it nothing: a post can be off-topic without being spam)."""
    _require_moderator(moderator)
    reason = REJECTED_AS_SPAM if as_spam else _reason(reason)
    moderator_id, held_id = moderator.id, held.id
    with write_transaction() as session:
        held = _pending_held(session, held_id)
        held.reject_reason = reason
        _decided(session, held, moderator_id, HeldStatus.REJECTED)
        if as_spam:
            spam.record_decision(session, spam.text_of(held.subject, held.body_html), is_spam=True)
        what = (
            f"your thread “{held.subject}”"
            if held.thread_id is None
            else f"your reply in “{held.thread.subject}”"
        )
        notifications.record(
            session,
            EventKind.MODERATION,
            actor_id=moderator_id,
            member_id=held.author_id,
            details=f"{what}: {reason}",
        )
        audit.record(
            session,
            moderator_id,
            "held.reject_spam" if as_spam else "held.reject",
            member_id=held.author_id,
            thread_id=held.thread_id,
            reason=reason,
            details=held.subject,
        )


def save_site_settings(admin: Member, values: dict[str, int]) -> holds.Limits:
    """Admins set the new-member limits; the audit entry lists each change as old -> new."""
    _require_admin(admin)
    new = holds.check_limits(values)
    admin_id = admin.id
    with write_transaction() as session:
        old = holds.limits(session)
        changes = [
            f"{name} {getattr(old, name)} -> {getattr(new, name)}"
            for name in holds.SETTINGS
            if getattr(old, name) != getattr(new, name)
        ]
        if not changes:
            return new
        row = session.get(SiteSettings, 1) or SiteSettings(id=1)
        for name in holds.SETTINGS:
            setattr(row, name, getattr(new, name))
        row.updated_at, row.updated_by_id = utcnow(), admin_id
        session.add(row)
        audit.record(session, admin_id, "settings.update", details="; ".join(changes))
    return new


def set_thread_flag(moderator: Member, thread: Thread, flag: str, value: bool) -> None:
    """Lock/unlock or pin/unpin a thread."""
    _require_moderator(moderator)
    if flag not in ("is_locked", "is_pinned"):
        raise InvalidInput("Unknown thread flag.")
    moderator_id, thread_id = moderator.id, thread.id
    with write_transaction() as session:
        thread = session.get(Thread, thread_id)
        if getattr(thread, flag) == value:
            return
        setattr(thread, flag, value)
        action = {
            "is_locked": ("thread.lock", "thread.unlock"),
            "is_pinned": ("thread.pin", "thread.unpin"),
        }[flag][0 if value else 1]
        audit.record(session, moderator_id, action, thread_id=thread_id, details=thread.subject)


def move_thread(moderator: Member, thread: Thread, board: Board, reason: str = "") -> None:
    """Move a thread and its counts to another board (its posts are reindexed for board:)."""
    _require_moderator(moderator)
    moderator_id, thread_id, new_id = moderator.id, thread.id, board.id
    with write_transaction() as session:
        thread = session.get(Thread, thread_id, with_for_update=True, populate_existing=True)
        old_id = thread.board_id
        if old_id == new_id:
            return
        # a hidden thread's posts are in no count (see threads.services.set_removed)
        visible = 0
        if not thread.is_hidden:
            visible = session.scalar(
                select(func.count())
                .select_from(Post)
                .where(Post.thread_id == thread_id, Post.is_removed.is_(False))
            )
        threads = 0 if thread.is_hidden else 1
        for board_id, sign in ((old_id, -1), (new_id, +1)):
            session.execute(
                update(Board)
                .where(Board.id == board_id)
                .values(
                    thread_count=Board.thread_count + sign * threads,
                    post_count=Board.post_count + sign * visible,
                )
            )
        thread.board_id = new_id
        audit.record(
            session,
            moderator_id,
            "thread.move",
            thread_id=thread_id,
            board_id=new_id,
            reason=reason,
            details=f"from {session.get(Board, old_id).name}",
        )


THREAD_ADDRESS = re.compile(r"/t/(\d+)")  # in a thread page's or post's address, any host
THREAD_NUMBER = re.compile(r"#?(\d+)")


def thread_at(address: str) -> Thread:
    """The thread a moderator names by its address (any page or post of it) or its number."""
    address = address.strip()
    found = THREAD_ADDRESS.search(address) or THREAD_NUMBER.fullmatch(address)
    thread_id = int(found[1]) if found else 0
    thread = db.session.get(Thread, thread_id) if 0 < thread_id < 2**63 else None
    if thread is None:
        raise InvalidInput("There is no thread at that address; paste its address or its number.")
    return thread


def merge_thread(moderator: Member, source: Thread, target: Thread, reason: str) -> Post:
    """Merge a duplicate into another thread; returns the first moved post.

    The source's posts, its opening post and removed ones included, are appended after the
    target's last post in their own order (interleaving by time would scatter both discussions
    and make each reply lose what it answered). They keep their kudos and flags; the opening
    post and replies titled after the source become "Re: <target subject>". The source's
    solution stays accepted if the target has none, else it is dropped. Watchers, drafts,
    held replies and notifications follow to the target; read positions in the source go (its
    numbers mean nothing in the target). The source row stays, hidden and empty, so its URLs
    redirect to the target.
    """
    _require_moderator(moderator)
    reason = _reason(reason)
    if source.id == target.id:
        raise InvalidInput("A thread cannot be merged into itself.")
    moderator_id, source_id, target_id = moderator.id, source.id, target.id
    with write_transaction() as session:
        # Row locks in id order (PostgreSQL) serialise this with replies, removals and moves
        # in either thread, and two merges cannot deadlock.
        locked = {
            t.id: t
            for t in session.scalars(
                select(Thread)
                .where(Thread.id.in_((source_id, target_id)))
                .order_by(Thread.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        source, target = locked[source_id], locked[target_id]
        if target.is_hidden:
            raise InvalidInput(
                "That thread was removed or merged itself; merge into a visible thread."
            )
        if source.is_hidden:
            raise InvalidInput("This thread was removed or already merged; restore it first.")
        moved = _move_posts(session, source, target)
        _merge_solution(session, source, target)
        _follow_to(session, source_id, target_id)
        visible = sum(1 for p in moved if not p.is_removed)
        session.execute(
            update(Board)
            .where(Board.id == source.board_id)
            .values(thread_count=Board.thread_count - 1)
        )
        if source.board_id != target.board_id:
            for board_id, sign in ((source.board_id, -1), (target.board_id, +1)):
                session.execute(
                    update(Board)
                    .where(Board.id == board_id)
                    .values(post_count=Board.post_count + sign * visible)
                )
        source.is_hidden, source.merged_into_id, source.merged_post_id = (
            True,
            target_id,
            moved[0].id,
        )
        source.post_count, source.last_post_id = 0, None
        audit.record(
            session,
            moderator_id,
            "thread.merge",
            thread_id=target_id,
            reason=reason,
            details=f"“{source.subject}” merged into “{target.subject}”: {len(moved)} posts moved",
        )
    return moved[0]


def _move_posts(session: Session, source: Thread, target: Thread) -> list[Post]:
    """Append the source's posts to the target, numbered on from its last (through the ORM, so
    the search hooks reindex them in their new thread), and recount the target."""
    last = session.scalar(select(func.max(Post.position)).where(Post.thread_id == target.id))
    moved = session.scalars(
        select(Post)
        .where(Post.thread_id == source.id)
        .order_by(Post.position)
        .execution_options(populate_existing=True)
    ).all()
    renamed = {source.subject, reply_subject(source.subject)}
    for number, post in enumerate(moved, start=last + 1):
        post.thread_id, post.position = target.id, number
        if post.subject in renamed:
            post.subject = reply_subject(target.subject)
    session.flush()
    target.post_count = last + len(moved)
    newest = session.execute(
        select(Post.id, Post.created_at)
        .where(Post.thread_id == target.id, Post.is_removed.is_(False))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(1)
    ).one()
    target.last_post_id, target.last_posted_at = newest
    return list(moved)


def _merge_solution(session: Session, source: Thread, target: Thread) -> None:
    """Keep the source's solution as the target's if it has none, else drop it, with the
    solution author's count following the self-accepted rule of set_solution."""
    solution_id = source.solution_post_id
    if solution_id is None:
        return
    source.solution_post_id = None
    author_id = session.get(Post, solution_id).author_id
    counted_before = author_id != source.author_id
    kept = target.solution_post_id is None
    if kept:
        target.solution_post_id = solution_id
    delta = int(kept and author_id != target.author_id) - int(counted_before)
    if delta:
        session.execute(
            update(Member)
            .where(Member.id == author_id)
            .values(solution_count=Member.solution_count + delta)
        )
        refresh_rank(session, author_id, "solution merged" if delta > 0 else "solution dropped")


def _follow_to(session: Session, source_id: int, target_id: int) -> None:
    """Move what points at the source to the target: a member's own row on the target (a
    draft, a watch or mute) wins over theirs on the source."""
    for model in (Draft, Subscription):
        on_target = select(model.member_id).where(model.thread_id == target_id)
        session.execute(
            delete(model).where(model.thread_id == source_id, model.member_id.in_(on_target))
        )
    session.execute(delete(ThreadRead).where(ThreadRead.thread_id == source_id))
    for model in (Draft, Subscription, Notification, NotificationEvent, HeldPost):
        session.execute(
            update(model).where(model.thread_id == source_id).values(thread_id=target_id)
        )


def suspend(moderator: Member, member: Member, days: int, reason: str) -> None:
    """Suspend a member for some days: their logins end now and they cannot post until then."""
    _require_moderator(moderator)
    if member.is_moderator and not moderator.is_admin:
        raise NotAllowed("Only administrators can suspend moderators.")
    if not 1 <= days <= 3650:
        raise InvalidInput("Suspend for 1 to 3,650 days.")
    reason = _reason(reason)
    moderator_id, member_id = moderator.id, member.id
    with write_transaction() as session:
        member = session.get(Member, member_id)
        apply_suspension(session, member, utcnow() + timedelta(days=days), reason)
        audit.record(
            session,
            moderator_id,
            "member.suspend",
            member_id=member_id,
            reason=reason,
            details=f"{days} days",
        )


def unsuspend(moderator: Member, member: Member, reason: str = "") -> None:
    _require_moderator(moderator)
    moderator_id, member_id = moderator.id, member.id
    with write_transaction() as session:
        member = session.get(Member, member_id)
        member.suspended_until = None
        member.suspension_reason = ""
        audit.record(session, moderator_id, "member.unsuspend", member_id=member_id, reason=reason)


def apply_suspension(session: Session, member: Member, until: datetime, reason: str) -> None:
    """suspend's work inside the caller's unit of work (remove_spammer uses it too): no posting
    until then, and every login of theirs ends now."""
    member.suspended_until = until
    member.suspension_reason = reason[:255]
    session.execute(delete(MemberSession).where(MemberSession.member_id == member.id))


# The longest suspension suspend allows: ten years stands for "until someone lifts it", as
# suspended_until has no "for ever" (None means not suspended).
SPAMMER_SUSPENSION = timedelta(days=3650)


@dataclass(frozen=True)
class Footprint:
    """What removing a member as a spammer would hide now: the confirmation page says it."""

    posts: int
    threads: int  # threads holding those posts
    started: int  # of them, threads the member started (hidden whole)


def spammer_footprint(member: Member) -> Footprint:
    posts, threads, started = db.session.execute(
        select(
            func.count(),
            func.count(Post.thread_id.distinct()),
            func.count().filter(Post.position == 1),
        ).where(Post.author_id == member.id, Post.is_removed.is_(False))
    ).one()
    return Footprint(posts, threads, started)


def remove_spammer(moderator: Member, member: Member, reason: str) -> SpammerRemoval:
    """One action on a spammer: hide every visible post of theirs (threads they started go with
    their opening posts; counts, ranks and search follow), suspend them, end their logins.

    Their pending held posts are rejected ("Removed as a spammer"), and the hidden posts are a
    moderator's spam decision: the classifier learns up to SPAM_LEARNT_POSTS of them. It writes
    one audit entry and no per-post notices, and records the posts it hid (and which it learnt)
    so that undo_spammer_removal restores and unlearns those and no others.
    """
    if not permissions.can_remove_spammer(moderator, member):
        raise NotAllowed(
            "You cannot remove yourself as a spammer."
            if member.id == moderator.id
            else "Moderators and administrators cannot be removed as spammers."
            if member.is_moderator
            else "Only moderators can do that."
        )
    reason = _reason(reason)
    moderator_id, member_id = moderator.id, member.id
    with write_transaction() as session:
        # The member row lock serialises this with a suspension or another removal of theirs.
        session.execute(select(Member.id).where(Member.id == member_id).with_for_update())
        member = session.get(Member, member_id, populate_existing=True)
        visible = session.scalars(
            select(Post.id).where(Post.author_id == member_id, Post.is_removed.is_(False))
        ).all()
        hidden = apply_removals(session, list(visible), True, "removed as a spammer")
        rejected = _reject_pending_held(session, member_id, moderator_id)
        learnt = _learn_as_spam(session, hidden)
        removal = SpammerRemoval(
            member_id=member_id,
            moderator_id=moderator_id,
            reason=reason,
            post_count=len(hidden),
            thread_count=sum(1 for p in hidden if p.position == 1),
            suspended_until=utcnow() + SPAMMER_SUSPENSION,
            previous_suspended_until=member.suspended_until,
            previous_suspension_reason=member.suspension_reason,
        )
        apply_suspension(session, member, removal.suspended_until, reason)
        session.add(removal)
        session.flush()
        if hidden:
            session.execute(
                insert(SpammerRemovalPost),
                [
                    {"removal_id": removal.id, "post_id": p.id, "learnt_as_spam": p.id in learnt}
                    for p in hidden
                ],
            )
        threads = len({p.thread_id for p in hidden})
        entry = audit.record(
            session,
            moderator_id,
            "member.remove_spammer",
            member_id=member_id,
            reason=reason,
            details=f"{len(hidden)} posts hidden in {threads} threads, "
            f"{removal.thread_count} of them started by the member; {rejected} held posts "
            f"rejected; {len(learnt)} posts learnt as spam; suspended and logged out",
        )
        session.flush()
        removal.audit_entry_id = entry.id
    return removal


# Posts one removal teaches the classifier (the newest): a 5,000-post spammer's removal stays one
# short transaction, and 200 copies of a campaign teach it all that more would.
SPAM_LEARNT_POSTS = 200
REMOVED_AS_SPAMMER = "Removed as a spammer"


def _reject_pending_held(session: Session, member_id: int, moderator_id: int) -> int:
    """Reject the member's held posts still waiting (no notices, as for their hidden posts)."""
    rejected = session.execute(
        update(HeldPost)
        .where(HeldPost.author_id == member_id, HeldPost.status == HeldStatus.PENDING)
        .values(
            status=HeldStatus.REJECTED,
            reject_reason=REMOVED_AS_SPAMMER,
            decided_by_id=moderator_id,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if rejected:
        session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(pending_posts=Member.pending_posts - rejected)
        )
    return rejected


def _learn_as_spam(session: Session, hidden: list[Post]) -> set[int]:
    """Teach the classifier the newest SPAM_LEARNT_POSTS hidden posts; their ids."""
    newest = sorted(hidden, key=lambda p: p.id, reverse=True)[:SPAM_LEARNT_POSTS]
    for post in newest:
        spam.learn(session, _spam_text(post), is_spam=True)
    return {post.id for post in newest}


def _spam_text(post: Post) -> str:
    """A post's text as the classifier scored it when submitted: an opening post with its
    thread's subject, a reply without its "Re:" subject."""
    return spam.text_of(post.subject if post.position == 1 else "", post.body_html)


def undo_spammer_removal(moderator: Member, removal: SpammerRemoval) -> int:
    """Undo a remove_spammer within its window: restore the posts it hid and its suspension's
    predecessor; returns how many posts came back.

    A post someone removed or restored on its own since (an audit entry for it after the
    action) is left as that moderator left it, and a suspension changed since is kept. The
    classifier unlearns every post the removal taught it (the decision is taken back, whether
    or not the post comes back); the held posts it rejected stay rejected.
    """
    _require_moderator(moderator)
    moderator_id, removal_id = moderator.id, removal.id
    with write_transaction() as session:
        removal = session.get(
            SpammerRemoval, removal_id, with_for_update=True, populate_existing=True
        )
        if not permissions.can_undo_spammer_removal(moderator, removal):
            raise NotAllowed(
                "This removal was already undone."
                if removal.undone_at is not None
                else f"A removal can be undone for {permissions.SPAMMER_UNDO_WINDOW.days} days; "
                "restore posts one by one and lift the suspension from the profile instead."
            )
        listed = select(SpammerRemovalPost.post_id).where(
            SpammerRemovalPost.removal_id == removal_id
        )
        acted_on_since = select(AuditEntry.post_id).where(
            AuditEntry.action.in_(("post.remove", "post.restore")),
            AuditEntry.post_id.in_(listed),
            AuditEntry.created_at >= removal.created_at,
        )
        post_ids = session.scalars(
            select(Post.id).where(
                Post.id.in_(listed), Post.is_removed.is_(True), Post.id.not_in(acted_on_since)
            )
        ).all()
        restored = apply_removals(session, list(post_ids), False, "spammer removal undone")
        learnt = session.scalars(
            select(Post).where(
                Post.id.in_(listed.where(SpammerRemovalPost.learnt_as_spam.is_(True)))
            )
        ).all()
        for post in learnt:
            spam.unlearn(session, _spam_text(post), is_spam=True)
        member = session.get(Member, removal.member_id, populate_existing=True)
        if member.suspended_until == removal.suspended_until:
            member.suspended_until = removal.previous_suspended_until
            member.suspension_reason = removal.previous_suspension_reason
        removal.undone_at, removal.undone_by_id = utcnow(), moderator_id
        audit.record(
            session,
            moderator_id,
            "member.restore_spammer",
            member_id=removal.member_id,
            details=f"{len(restored)} of {removal.post_count} hidden posts restored; "
            f"{len(learnt)} posts unlearnt as spam",
        )
    return len(restored)


def spammer_removals(page: int):
    """Remove-spammer actions, newest first, a page at a time, with whom and by whom."""
    return page_of_rows(
        select(SpammerRemoval)
        .options(
            joinedload(SpammerRemoval.member),
            joinedload(SpammerRemoval.moderator),
            joinedload(SpammerRemoval.undone_by),
        )
        .order_by(SpammerRemoval.created_at.desc(), SpammerRemoval.id.desc()),
        page,
    )


def removals_by_entry(entry_ids: list[int]) -> dict[int, SpammerRemoval]:
    """The removals behind these audit entries, so the audit log can link to their undo."""
    return {
        r.audit_entry_id: r
        for r in db.session.scalars(
            select(SpammerRemoval).where(SpammerRemoval.audit_entry_id.in_(entry_ids))
        )
    }


def set_role(admin: Member, member: Member, role: Role, reason: str = "") -> None:
    """Admins make and unmake moderators (and admins)."""
    _require_admin(admin)
    if member.id == admin.id:
        raise InvalidInput("You cannot change your own role.")
    admin_id, member_id = admin.id, member.id
    with write_transaction() as session:
        member = session.get(Member, member_id)
        old = member.role
        member.role = role
        audit.record(
            session,
            admin_id,
            "member.role",
            member_id=member_id,
            reason=reason,
            details=f"{old} -> {role}",
        )


BOARD_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def check_board_slug(slug: str) -> None:
    """A board's address (blank: chosen for it): letters, digits and single hyphens, as slugify
    makes them; stored in lower case."""
    slug = slug.strip().lower()
    if slug and not (len(slug) <= 80 and BOARD_SLUG.fullmatch(slug)):
        raise InvalidInput(
            "An address of at most 80 lower-case letters, digits and hyphens, like “help-desk”."
        )


def _set_board_slug(session: Session, board: Board, slug: str) -> None:
    """Give the board its slug (blank: keep it, or the name's for a new board). The slug it had
    before keeps working as a redirect; a slug in use now is nobody's old slug."""
    slug = slug.strip().lower()
    check_board_slug(slug)
    if not slug:
        board.slug = board.slug or free_slug(session, Board, board.name)
        return
    if slug == board.slug:
        return
    if session.scalar(select(Board.id).where(Board.slug == slug, Board.id != board.id)):
        raise InvalidInput("Another board already has that address.")
    old = board.slug
    board.slug = slug
    session.execute(delete(BoardOldSlug).where(BoardOldSlug.slug == slug))
    if old:
        session.add(BoardOldSlug(slug=old, board_id=board.id))


def save_board(
    admin: Member, board_id: int | None, *, name: str, description: str, slug: str = ""
) -> Board:
    """Admins create and edit boards: a new board goes last on the front page."""
    _require_admin(admin)
    admin_id = admin.id
    with write_transaction() as session:
        board, name = row_to_save(session, Board, board_id, name)
        old_name = board.name
        board.name, board.description = name, description.strip()
        if board_id is None:
            last = session.scalar(select(func.max(Board.position)))
            board.position = 0 if last is None else last + 1
        old_slug = board.slug
        _set_board_slug(session, board, slug)  # before add: its queries would flush a slugless row
        session.add(board)
        session.flush()
        changes = []
        if board_id is not None and old_name != name:
            changes.append(f"renamed from “{old_name}”")
        if board_id is not None and old_slug != board.slug:
            changes.append(f"address /b/{old_slug} -> /b/{board.slug}")
        audit.record(
            session,
            admin_id,
            "board.create" if board_id is None else "board.update",
            board_id=board.id,
            details="; ".join(changes),
        )
    return board


def move_board(admin: Member, board_id: int, *, up: bool) -> None:
    """Swap a board with its neighbour in front-page order (positions renumbered 0..n-1 first,
    so boards that shared a position get an order of their own)."""
    _require_admin(admin)
    admin_id = admin.id
    with write_transaction() as session:
        boards = list(
            session.scalars(
                select(Board).order_by(Board.position, Board.name, Board.id).with_for_update()
            )
        )
        index = next((i for i, b in enumerate(boards) if b.id == board_id), None)
        if index is None:
            raise InvalidInput("That board does not exist.")
        other = index - 1 if up else index + 1
        if not 0 <= other < len(boards):
            return
        boards[index], boards[other] = boards[other], boards[index]
        for position, board in enumerate(boards):
            board.position = position
        audit.record(
            session,
            admin_id,
            "board.move",
            board_id=board_id,
            details=f"to position {other + 1} of {len(boards)}",
        )


def audit_entries(page: int):
    """The audit log, newest first, a page at a time, with who acted and on whom."""
    return page_of_rows(
        select(AuditEntry)
        .options(
            joinedload(AuditEntry.actor),
            joinedload(AuditEntry.member),
            joinedload(AuditEntry.board),
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()),
        page,
    )
