"""The database fallback: a plain substring match while the index is missing or unreadable.

A Searcher like the backends, so the service runs the same query flow over it; it has no
vocabulary, so nothing is spell-corrected, and no ranking: newest first.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from forum.models import Post, Thread
from forum.search.backend import Hit, HitPage, plain_snippet
from forum.search.query import ParsedQuery, QueryTerm


class DatabaseFallback:
    """Answers from the posts table itself, so search never goes dark while the index is away."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def search(
        self,
        query: ParsedQuery,
        page: int,
        per_page: int,
        by_date: bool = False,
        any_word: bool = False,
    ) -> HitPage:
        """Of each thread with no excluded term, its newest post matching every clause (any
        clause with a word, with any_word; phrases always); newest first whatever the sort, as
        there is no ranking (and no stems)."""
        with self.session_factory() as session:
            return _search(session, query, page, per_page, any_word)

    def speller(self) -> None:
        """No vocabulary without an index: nothing is corrected."""
        return None

    def matches_stem(self, word: str) -> bool:
        """No stems without an index (and, having no speller, never asked)."""
        return False


def _search(
    session: Session, parsed: ParsedQuery, page: int, per_page: int, any_word: bool
) -> HitPage:
    conditions, words = [], []
    for clause in parsed.clauses:
        either = or_(*map(_contains, clause))
        (conditions if all(term.phrase for term in clause) else words).append(either)
    conditions += [or_(*words)] if any_word and words else words
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
        snippet=Markup(plain_snippet(body)),
    )
