"""Posting rules: threads, replies, edits, removal and kudos. Each public function is one unit of work."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from forum import audit, markup, permissions, timezones
from forum.database import utcnow, write_transaction
from forum.errors import EditWindowClosed, InvalidInput, NotAllowed, ThreadLocked
from forum.extensions import db
from forum.models import Badge, Board, EventKind, HeldPost, Kudos, Member, Post, Rank, Thread
from forum.notifications import services as notifications
from forum.reputation.services import refresh_rank
from forum.text import slugify, storable
from forum.threads import drafts, history, holds, lists

REPLY_PREFIX = "Re: "
MAX_SUBJECT = 200


def reply_subject(subject: str) -> str:
    return REPLY_PREFIX + subject


def member_exists(handle: str) -> bool:
    return db.session.scalar(select(Member.id).where(Member.handle == handle.lower())) is not None


def render_body(source: str) -> str:
    return str(markup.render_markdown(source, member_exists=member_exists))


def check_body(body: str) -> str:
    """A body must say something and fit FORUM_MAX_POST_LENGTH."""
    body = storable(body)
    limit = current_app.config["MAX_POST_LENGTH"]
    if not body.strip():
        raise InvalidInput("A post needs some text.")
    if len(body) > limit:
        raise InvalidInput(f"Posts are at most {limit:,} characters ({len(body):,} given).")
    return body


def check_subject(subject: str) -> str:
    subject = " ".join(storable(subject).split())
    if not subject:
        raise InvalidInput("A thread needs a subject.")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"Subjects are at most {MAX_SUBJECT} characters.")
    return subject


def cannot_post_reason(member: Member) -> str:
    if member.is_authenticated and member.is_suspended():
        until = timezones.format_time(member.suspended_until)  # the member is the viewer
        return f"Your account is suspended until {until}: {member.suspension_reason}"
    return "Your account cannot post right now."


def check_can_post(member: Member) -> None:
    """Raise why this member cannot post at all (suspended, ...), or return."""
    if not permissions.can_post(member):
        raise NotAllowed(cannot_post_reason(member))


def check_can_reply(member: Member, thread: Thread) -> None:
    """Raise why this member cannot reply in this thread (suspended, locked), or return."""
    if permissions.can_reply(member, thread):
        return
    check_can_post(member)
    if thread.is_locked:
        raise ThreadLocked("This thread is locked; it takes no more replies.")
    raise NotAllowed("You cannot reply to this thread.")


@dataclass(frozen=True)
class PostContent:
    """A post's checked and rendered content, before it has a place in a thread."""

    author_id: int
    body: str
    html: str
    at: datetime

    def as_post(self, thread_id: int, position: int, subject: str) -> Post:
        return Post(
            thread_id=thread_id,
            author_id=self.author_id,
            position=position,
            subject=subject,
            body_source=self.body,
            body_html=self.html,
            created_at=self.at,
        )


def content_of(author_id: int, body: str, at: datetime | None = None) -> PostContent:
    """A body checked and rendered for posting by this member (now, unless at says when)."""
    body = check_body(body)
    return PostContent(author_id, body, render_body(body), at or utcnow())


def _posted(
    session: Session, content: PostContent, thread_id: int, post_id: int, cause: str, counted: bool
) -> None:
    """What follows every new post: the author watches the thread, and a visible post counts
    toward their rank and may notify the thread's watchers."""
    notifications.watch_on_posting(session, content.author_id, thread_id)
    if counted:
        _count_post(session, content.author_id, +1, cause)
        notifications.record(
            session,
            EventKind.POST,
            actor_id=content.author_id,
            thread_id=thread_id,
            post_id=post_id,
        )


def _held(
    session: Session, author: Member, content: PostContent, subject: str = "", **target
) -> HeldPost | None:
    """Apply the new-member limits and the spam score inside the posting unit of work: refuse
    too many links, or keep the submission for review when holds.hold_reasons says so (None: it
    posts now). subject is a new thread's; a reply's is ""."""
    limits = holds.limits(session)
    holds.check_link_cap(author, content.html, limits)
    reasons, verdict = holds.hold_reasons(
        session, author, limits, subject=subject, html=content.html
    )
    if not reasons:
        return None
    return holds.hold(
        session,
        author_id=content.author_id,
        body=content.body,
        html=content.html,
        reasons=reasons,
        verdict=verdict,
        subject=subject,
        **target,
    )


def create_thread(
    author: Member, board: Board, subject: str, body: str, *, at: datetime | None = None
) -> Thread | HeldPost:
    """Open a thread with its first post; the author's draft for the board goes with it.

    A new member's or a spam-like submission may be held instead (forum/threads/holds.py): then the HeldPost
    comes back and no thread exists until a moderator approves it.
    """
    check_can_post(author)
    subject, content = check_subject(subject), content_of(author.id, body, at)
    board_id = board.id
    with write_transaction() as session:
        drafts.clear(session, member_id=content.author_id, board_id=board_id)
        if held := _held(session, author, content, board_id=board_id, subject=subject):
            return held
        return post_thread(session, board_id, subject, content)


def post_thread(session: Session, board_id: int, subject: str, content: PostContent) -> Thread:
    """A new thread and all that follows a post, in the caller's unit of work (approving a held
    thread uses it too)."""
    thread = add_thread(session, board_id=board_id, subject=subject, content=content)
    _posted(session, content, thread.id, thread.last_post_id, "started a thread", counted=True)
    return thread


def add_thread(
    session: Session,
    *,
    board_id: int,
    subject: str,
    content: PostContent,
    import_key: str | None = None,
) -> Thread:
    """Insert a thread and its opening post, keeping the board's counters (not the author's)."""
    thread = Thread(
        board_id=board_id,
        author_id=content.author_id,
        subject=subject,
        slug=slugify(subject),
        post_count=1,
        last_posted_at=content.at,
        created_at=content.at,
        import_key=import_key,
    )
    session.add(thread)
    session.flush()
    post = content.as_post(thread.id, 1, subject)
    session.add(post)
    session.flush()
    thread.last_post_id = post.id
    session.execute(
        update(Board)
        .where(Board.id == board_id)
        .values(
            thread_count=Board.thread_count + 1,
            post_count=Board.post_count + 1,
            last_post_id=post.id,
        )
    )
    return thread


def reply(
    author: Member, thread: Thread, body: str, *, at: datetime | None = None
) -> Post | HeldPost:
    """Add a reply at the next position (the thread row's counter hands out positions
    atomically); the author's draft of it goes in the same transaction. A new member's reply may
    be held instead (then the HeldPost comes back; see create_thread)."""
    check_can_reply(author, thread)
    content = content_of(author.id, body, at)
    thread_id = thread.id
    with write_transaction() as session:
        drafts.clear(session, member_id=content.author_id, thread_id=thread_id)
        if held := _held(session, author, content, thread_id=thread_id):
            return held
        return post_reply(session, thread_id, content)


def post_reply(session: Session, thread_id: int, content: PostContent) -> Post:
    """A reply and all that follows a post, in the caller's unit of work (approving a held reply
    uses it too)."""
    post, visible = add_reply(session, thread_id=thread_id, content=content)
    _posted(session, content, thread_id, post.id, "replied", counted=visible)
    return post


def add_reply(session: Session, *, thread_id: int, content: PostContent) -> tuple[Post, bool]:
    """Insert a reply at the next position, keeping thread and board counters (not the author's).

    Also says whether the reply is visible: a moderator may reply in a hidden thread (and an
    import may add to one), and a hidden thread's posts are in no count. The thread UPDATE locks
    the row set_removed locks, so the answer cannot change before the commit.
    """
    position, subject, board_id, hidden = session.execute(
        update(Thread)
        .where(Thread.id == thread_id)
        .values(post_count=Thread.post_count + 1, last_posted_at=content.at)
        .returning(Thread.post_count, Thread.subject, Thread.board_id, Thread.is_hidden)
    ).one()
    post = content.as_post(thread_id, position, reply_subject(subject))
    session.add(post)
    session.flush()
    session.execute(update(Thread).where(Thread.id == thread_id).values(last_post_id=post.id))
    if not hidden:
        session.execute(
            update(Board)
            .where(Board.id == board_id)
            .values(post_count=Board.post_count + 1, last_post_id=post.id)
        )
    return post, not hidden


def _count_post(session: Session, member_id: int, delta: int, cause: str) -> None:
    session.execute(
        update(Member).where(Member.id == member_id).values(post_count=Member.post_count + delta)
    )
    refresh_rank(session, member_id, cause)


def check_can_edit(editor: Member, post: Post) -> None:
    """Raise why this member cannot edit this post (not theirs, window closed), or return."""
    minutes = current_app.config["EDIT_WINDOW_MINUTES"]
    if permissions.can_edit(editor, post, timedelta(minutes=minutes)):
        return
    if post.author_id == editor.id and not post.is_removed:
        raise EditWindowClosed(f"Posts can be edited for {minutes} minutes after posting.")
    raise NotAllowed("You cannot edit this post.")


def edit_post(editor: Member, post: Post, body: str, subject: str | None = None) -> Post:
    """Change a post's body (and, on an opening post, the thread's subject)."""
    check_can_edit(editor, post)
    body = check_body(body)
    html = render_body(body)
    holds.check_link_cap(editor, html, holds.limits())
    new_subject = check_subject(subject) if subject is not None and post.position == 1 else None
    editor_id, post_id = editor.id, post.id
    with write_transaction() as session:
        post = session.get(Post, post_id, with_for_update=True, populate_existing=True)
        history.keep_revision(session, post)
        post.body_source, post.body_html = body, html
        post.edited_at, post.edited_by_id = utcnow(), editor_id
        if new_subject and new_subject != post.thread.subject:
            _rename_thread(session, post.thread, new_subject)
    return post


def _rename_thread(session: Session, thread: Thread, subject: str) -> None:
    """New subject and slug (old slugs redirect by id); replies follow as "Re: <subject>"."""
    old_reply_subject = reply_subject(thread.subject)
    thread.subject, thread.slug = subject, slugify(subject)
    session.execute(
        update(Post).where(Post.thread_id == thread.id, Post.position == 1).values(subject=subject)
    )
    session.execute(
        update(Post)
        .where(Post.thread_id == thread.id, Post.subject == old_reply_subject)
        .values(subject=reply_subject(subject))
    )


def set_removed(moderator: Member, post: Post, removed: bool, reason: str = "") -> None:
    """Remove or restore a post; it keeps its number, and visible-post counts follow.

    Removing an opening post hides its thread, so the thread's other visible posts leave their
    authors' and the board's counts with it (and come back on restore); a reply removed or
    restored inside a hidden thread was not counted either way.
    """
    if not permissions.can_moderate(moderator):
        raise NotAllowed("Only moderators remove and restore posts.")
    post_id, moderator_id = post.id, moderator.id
    with write_transaction() as session:
        apply_removal(session, moderator_id, post_id, removed, reason)


def apply_removal(session, moderator_id: int, post_id: int, removed: bool, reason: str) -> None:
    """set_removed's work inside the caller's unit of work (resolving a report uses it too):
    the flip and its counts, the author's notice and the audit entry."""
    changed = apply_removals(
        session, [post_id], removed, "post removed" if removed else "post restored"
    )
    if not changed:
        return
    post = changed[0]
    if removed:
        notifications.record(
            session,
            EventKind.MODERATION,
            actor_id=moderator_id,
            member_id=post.author_id,
            thread_id=post.thread_id,
            post_id=post.id,
            details=reason or "no reason given",
        )
    audit.record(
        session,
        moderator_id,
        "post.remove" if removed else "post.restore",
        member_id=post.author_id,
        thread_id=post.thread_id,
        post_id=post.id,
        reason=reason,
    )


@dataclass
class _RemovalEffects:
    """What flipping posts does to visible-post counts and notifications, gathered so that many
    flips in one unit of work change each board and each member once (and recompute each rank
    once)."""

    board_posts: Counter[int] = field(default_factory=Counter)
    board_threads: Counter[int] = field(default_factory=Counter)
    member_posts: Counter[int] = field(default_factory=Counter)
    # Removed posts and hidden threads, whose notifications go.
    gone_posts: set[int] = field(default_factory=set)
    gone_threads: set[int] = field(default_factory=set)

    def apply(self, session: Session, cause: str) -> None:
        if self.gone_posts or self.gone_threads:
            notifications.forget_posts(session, self.gone_posts, self.gone_threads)
        for board_id in sorted(self.board_posts.keys() | self.board_threads.keys()):
            session.execute(
                update(Board)
                .where(Board.id == board_id)
                .values(
                    post_count=Board.post_count + self.board_posts[board_id],
                    thread_count=Board.thread_count + self.board_threads[board_id],
                )
            )
        for member_id, posts in sorted(self.member_posts.items()):
            if posts:
                _count_post(session, member_id, posts, cause)


def apply_removals(session: Session, post_ids: list[int], removed: bool, cause: str) -> list[Post]:
    """Remove or restore posts inside the caller's unit of work, with the counting rules of
    set_removed; returns the posts whose flag changed (posts already so are left alone).

    Writes no audit entry and no notice to the author: the caller records its own action.
    """
    thread_ids = select(Post.thread_id).where(Post.id.in_(post_ids)).distinct()
    # The thread row locks (in id order, so two bulk actions cannot deadlock) serialise this with
    # replies, moves and other removals in those threads (PostgreSQL; SQLite's BEGIN IMMEDIATE
    # already serialises every write).
    threads = {
        t.id: t
        for t in session.scalars(
            select(Thread)
            .where(Thread.id.in_(thread_ids))
            .order_by(Thread.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    posts = session.scalars(
        select(Post)
        .where(Post.id.in_(post_ids))
        .order_by(Post.thread_id, Post.position)
        .execution_options(populate_existing=True)
    ).all()
    changes = _RemovalEffects()
    # In (thread, position) order an opening post's count of visible replies runs before any of
    # that thread's replies flips, so the flips can wait for one flush (one UPDATE batch and one
    # outbox write, not one per post).
    with session.no_autoflush:
        changed = [p for p in posts if _flip(session, threads[p.thread_id], p, removed, changes)]
    changes.apply(session, cause)
    return changed


def _flip(
    session: Session, thread: Thread, post: Post, removed: bool, changes: _RemovalEffects
) -> bool:
    """Flip one post's flag, noting the counts that move; False when it was already so."""
    if post.is_removed == removed:
        return False
    post.is_removed = removed
    delta = -1 if removed else +1
    counted: dict[int, int] = {}  # author id -> visible posts appearing or disappearing
    if post.position == 1:
        thread.is_hidden = removed
        counted = dict(
            session.execute(
                select(Post.author_id, func.count())
                .where(Post.thread_id == thread.id, Post.position > 1, ~Post.is_removed)
                .group_by(Post.author_id)
            ).all()
        )
        changes.board_threads[thread.board_id] += delta
    if not thread.is_hidden or post.position == 1:
        counted[post.author_id] = counted.get(post.author_id, 0) + 1
    changes.board_posts[thread.board_id] += delta * sum(counted.values())
    for author_id, posts in counted.items():
        changes.member_posts[author_id] += delta * posts
    if removed and post.position == 1:
        changes.gone_threads.add(thread.id)
    elif removed:
        changes.gone_posts.add(post.id)
    return True


def give_kudos(member: Member, post: Post) -> bool:
    """One kudos per member per post; returns False when it was already given."""
    if not permissions.can_give_kudos(member, post):
        raise NotAllowed("You cannot give kudos to this post.")
    member_id, post_id, author_id = member.id, post.id, post.author_id
    try:
        with write_transaction() as session:
            session.add(Kudos(member_id=member_id, post_id=post_id))
            session.flush()
            _count_kudos(session, post_id, author_id, +1)
            notifications.record(session, EventKind.KUDOS, actor_id=member_id, post_id=post_id)
    except IntegrityError:  # the primary key says it is already there
        return False
    return True


def take_back_kudos(member: Member, post: Post) -> bool:
    """Withdraw a kudos; returns False when there was none to take back."""
    member_id, post_id, author_id = member.id, post.id, post.author_id
    with write_transaction() as session:
        deleted = session.execute(
            delete(Kudos).where(Kudos.member_id == member_id, Kudos.post_id == post_id)
        ).rowcount
        if deleted:
            _count_kudos(session, post_id, author_id, -1)
    return bool(deleted)


def _count_kudos(session: Session, post_id: int, author_id: int, delta: int) -> None:
    """Post and author counters move together, by atomic UPDATE; the rank follows."""
    session.execute(
        update(Post).where(Post.id == post_id).values(kudos_count=Post.kudos_count + delta)
    )
    session.execute(
        update(Member)
        .where(Member.id == author_id)
        .values(kudos_received=Member.kudos_received + delta)
    )
    refresh_rank(session, author_id, "kudos received" if delta > 0 else "kudos taken back")


def set_solution(actor: Member, thread: Thread, post: Post | None) -> None:
    """Mark a reply as the accepted solution (or clear it with None): the asker or a moderator.

    The solution authors' counters move exactly and their ranks follow, except for an asker's
    own reply: as on Stack Overflow, answering yourself earns nothing (the solution still
    shows). The thread's posts are reindexed (the solved flag is in every document) through the
    outbox.
    """
    if not permissions.can_accept_solution(actor, thread):
        raise NotAllowed("Only the member who asked, or a moderator, can choose the solution.")
    if post is not None and (post.thread_id != thread.id or post.position == 1 or post.is_removed):
        raise InvalidInput("The solution must be a visible reply in this thread.")
    actor_id, thread_id, post_id = actor.id, thread.id, post.id if post else None
    with write_transaction() as session:
        thread = session.get(Thread, thread_id)
        old_id = thread.solution_post_id
        if old_id == post_id:
            return
        thread.solution_post_id = post_id
        for changed_id, delta in ((old_id, -1), (post_id, +1)):
            if changed_id is not None:
                author_id = session.get(Post, changed_id).author_id
                if author_id == thread.author_id:  # self-accepted: never counted
                    continue
                session.execute(
                    update(Member)
                    .where(Member.id == author_id)
                    .values(solution_count=Member.solution_count + delta)
                )
                refresh_rank(
                    session, author_id, "solution accepted" if delta > 0 else "solution cleared"
                )
        if post_id is not None:
            notifications.record(
                session, EventKind.SOLUTION, actor_id=actor_id, thread_id=thread_id, post_id=post_id
            )
        if permissions.can_moderate(actor):
            audit.record(
                session,
                actor_id,
                "solution.accept" if post_id else "solution.clear",
                thread_id=thread_id,
                post_id=post_id or old_id,
            )


def visible_thread(thread_id: int, viewer: Member) -> Thread | None:
    """The thread, or None if there is none, it was merged into another (nothing is left in it),
    or it is hidden from this viewer (not a moderator)."""
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.merged_into_id is not None:
        return None
    if thread.is_hidden and not permissions.can_moderate(viewer):
        return None
    return thread


def visible_post(post_id: int, viewer: Member) -> Post | None:
    """The post with its thread, or None if there is none or its thread is hidden from the viewer."""
    post = db.session.get(Post, post_id, options=[joinedload(Post.thread)])
    if post is None or visible_thread(post.thread_id, viewer) is None:
        return None
    return post


def count_posts() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


def rerender_posts(batch_size: int) -> Iterator[int]:
    """Re-render every post's HTML from its Markdown; yields each batch's size as it is saved.

    One short write transaction per batch, its rows locked while they are rendered: on SQLite a
    read that turns into a write fails ("database is locked") once a member posted in between,
    and on PostgreSQL an edit made meanwhile would get stale HTML.
    """
    last_id = 0
    while True:
        with write_transaction() as session:
            posts = session.scalars(
                select(Post)
                .where(Post.id > last_id)
                .order_by(Post.id)
                .limit(batch_size)
                .with_for_update()
            ).all()
            for post in posts:
                post.body_html = render_body(post.body_source)
        if not posts:
            return
        last_id = posts[-1].id
        yield len(posts)


def quote_text(thread: Thread, post_id: int) -> str:
    """A reply form's opening quote of a visible post in this thread ("" for any other post)."""
    quoted = db.session.get(Post, post_id)
    if quoted is None or quoted.thread_id != thread.id or quoted.is_removed:
        return ""
    return markup.quote_for_reply(quoted.author.display_name, quoted.body_source, quoted.id)


def front_page_boards() -> list[Board]:
    """Every board in order with its last post, that post's author and thread (one query)."""
    return list(
        db.session.scalars(
            select(Board)
            .options(
                joinedload(Board.last_post).joinedload(Post.author),
                joinedload(Board.last_post).joinedload(Post.thread),
            )
            .order_by(Board.position, Board.name)
        ).unique()
    )


def kudos_given(member: Member | None, post_ids: list[int]) -> set[int]:
    """Which of these posts the member has given kudos to (one query for a whole page)."""
    if member is None or not member.is_authenticated or not post_ids:
        return set()
    return set(
        db.session.scalars(
            select(Kudos.post_id).where(Kudos.member_id == member.id, Kudos.post_id.in_(post_ids))
        )
    )


def page_count(post_count: int, per_page: int) -> int:
    return max(1, -(-post_count // per_page))


@cache
def _page_statement():
    """Built once: constructing a seven-table select costs more than running it."""
    rank, fixed, editor = aliased(Rank), aliased(Rank), aliased(Member)
    return (
        select(
            Post.id,
            Post.position,
            Post.subject,
            Post.body_html,
            Post.created_at,
            Post.edited_at,
            Post.edited_by_id,
            Post.author_id,
            Post.kudos_count,
            Post.is_removed,
            Member.handle,
            Member.display_name,
            Member.member_since,
            Member.kudos_received,
            Member.signature_html,
            func.coalesce(Badge.name, fixed.name, rank.name, "").label("title"),
            func.coalesce(fixed.name, rank.name).label("rank_name"),  # apart, for the API
            Badge.name.label("badge_name"),
            editor.display_name.label("editor_name"),
        )
        .join(Member, Member.id == Post.author_id)
        .outerjoin(rank, rank.id == Member.rank_id)
        .outerjoin(fixed, fixed.id == Member.fixed_rank_id)
        .outerjoin(Badge, Badge.id == Member.featured_badge_id)
        .outerjoin(editor, editor.id == Post.edited_by_id)
        .where(
            Post.thread_id == bindparam("thread_id"),
            Post.position.between(bindparam("first"), bindparam("last")),
        )
        .order_by(Post.position)
    )


def thread_page(thread: Thread, page: int, per_page: int) -> list[Row]:
    """Page K's posts by stored position (an index range, not an OFFSET scan), as flat rows
    holding everything a post block shows: one query, no ORM objects to build."""
    first = (page - 1) * per_page + 1
    params = {"thread_id": thread.id, "first": first, "last": first + per_page - 1}
    return list(db.session.execute(_page_statement(), params))


def board_threads(board: Board, page: int, per_page: int) -> tuple[list[Thread], int]:
    """Visible threads of a board, pinned first then latest activity, and the page count."""
    threads = db.session.scalars(
        select(Thread)
        .where(Thread.board_id == board.id, Thread.is_hidden.is_(False))
        .options(*lists.thread_row_options())
        .order_by(Thread.is_pinned.desc(), Thread.last_posted_at.desc(), Thread.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return list(threads), page_count(board.thread_count, per_page)
