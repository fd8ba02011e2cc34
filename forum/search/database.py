"""The database fallback backend: a plain substring match while the index is missing or unreadable."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from forum.models import Post, Thread
from forum.search.index import Hit, HitPage
from forum.search.query import ParsedQuery, QueryTerm


def database_search(session: Session, parsed: ParsedQuery, page: int, per_page: int) -> HitPage:
    """Of each thread with no excluded term, its newest post matching every clause; newest
    first (no ranking, no stems)."""
    conditions = [or_(*map(_contains, clause)) for clause in parsed.clauses]
    if parsed.excluded:
        left_out = select(Post.thread_id).where(
            Post.is_removed.is_(False), or_(*map(_contains, parsed.excluded))
        )
        conditions.append(Post.thread_id.not_in(left_out))
    best = (
        select(func.max(Post.id).label("post_id"))
        .join(Post.thread)
        .where(Post.is_removed.is_(False), Thread.is_hidden.is_(False), *conditions)
        .group_by(Post.thread_id)
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(best))
    posts = (
        session.scalars(
            select(Post)
            .where(Post.id.in_(select(best.c.post_id)))
            .options(joinedload(Post.thread).joinedload(Thread.board), joinedload(Post.author))
            .order_by(Post.created_at.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        .unique()
        .all()
    )
    return HitPage(hits=[_hit(post) for post in posts], total_threads=total)


def _contains(term: QueryTerm) -> ColumnElement[bool]:
    """The phrase, or each part of the word ("wi-fi"), in the subject or the body."""
    parts = [term.text] if term.phrase else term.text.split()
    return and_(
        *(
            or_(
                Post.subject.ilike(f"%{_like(part)}%", escape="\\"),
                Post.body_source.ilike(f"%{_like(part)}%", escape="\\"),
            )
            for part in parts
        )
    )


def _like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _hit(post: Post) -> Hit:
    body = post.body_source
    return Hit(
        post_id=post.id,
        thread_id=post.thread_id,
        position=post.position,
        subject=post.subject,
        board=post.thread.board.slug,
        board_name=post.thread.board.name,
        author=post.author.handle,
        author_name=post.author.display_name,
        posted_at=post.created_at,
        solved=post.thread.solution_post_id is not None,
        score=0.0,
        snippet=escape(body[:220]) + (" …" if len(body) > 220 else ""),
    )
